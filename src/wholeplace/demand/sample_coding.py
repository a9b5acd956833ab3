"""Sample coding of failure demand: an analyst judges a random sample of contacts.

Rules can only approximate failure demand (see ``failure``); the Vanguard "Check" method reads
contacts and judges each one as *value* (what the service exists for) or *failure* (caused by
something not done, or not done right). This module draws a reproducible random sample of
public contacts (a seed and the same data always give the same sample), records each judgement
in the operational store, and reports the proportion of failure with a Wilson binomial
confidence interval.

Samples hold event ids only: nothing identifying about the people in a contact is stored here.
The tables are declared here and created the first time a store is used, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import DateTime, Engine, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from statsmodels.stats.proportion import proportion_confint

from wholeplace.demand.response import check_datasets, read_incidents
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

CLASSIFICATIONS = ("value", "failure")
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class DemandSampleRow(Base):
    __tablename__ = "demand_samples"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    seed: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)  # contacts the sample was drawn from
    datasets: Mapped[list[Any]] = mapped_column()  # dataset codes sampled; empty for every dataset
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DemandSampleItemRow(Base):
    __tablename__ = "demand_sample_items"
    sample_id: Mapped[str] = mapped_column(ForeignKey("demand_samples.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), index=True)


class DemandCodingRow(Base):
    __tablename__ = "demand_codings"
    sample_id: Mapped[str] = mapped_column(ForeignKey("demand_samples.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    classification: Mapped[str] = mapped_column(String(10))
    failure_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    coder: Mapped[str] = mapped_column(String(200))
    coded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Sample:
    id: str
    name: str
    seed: int
    population: int
    event_ids: list[str]  # in the order drawn
    datasets: list[str]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Coding:
    sample_id: str
    event_id: str
    classification: str
    failure_type: str | None
    note: str
    coder: str
    coded_at: datetime


@dataclass(frozen=True)
class SampleResult:
    """The proportion of failure among the coded contacts, with its Wilson interval."""

    sample_id: str
    size: int
    coded: int
    failures: int
    proportion: float | None
    lower: float | None
    upper: float | None
    confidence: float
    by_failure_type: dict[str, int]
    method: str = "Wilson score interval (statsmodels proportion_confint)"

    @property
    def uncoded(self) -> int:
        return self.size - self.coded


@contextmanager
def _session(stores: Stores) -> Iterator[Session]:
    """A session on a store whose sample tables exist, created once per engine."""
    if stores.engine not in _READY:
        rows = (DemandSampleRow, DemandSampleItemRow, DemandCodingRow)
        Base.metadata.create_all(stores.engine, tables=[Base.metadata.tables[r.__tablename__] for r in rows])
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session


# -- drawing ---------------------------------------------------------------------------------------

def draw_sample(*, stores: Stores, size: int, seed: int, datasets: list[str] | None = None, name: str = "",
                created_by: str = "system") -> Sample:
    """Draw ``size`` public contacts at random (without replacement) and keep the sample.

    The contacts are ordered by event id before drawing, so the same seed on the same data
    gives the same sample.
    """
    check_datasets(stores=stores, datasets=datasets)
    population = sorted(read_incidents(stores=stores, datasets=datasets)
                        .filter(pl.col("raised_by") != "officer")["event_id"].to_list())
    if not 1 <= size <= len(population):
        raise UserError(f"Cannot draw a sample of {size} from {len(population)} contacts.",
                        hint=f"Choose a size from 1 to {len(population)}." if population else
                        "Load calls for service first: there are no public contacts to sample.")
    chosen = np.random.default_rng(seed).choice(len(population), size=size, replace=False)
    row = DemandSampleRow(id=uuid.uuid4().hex, name=name, seed=seed, size=size, population=len(population),
                          datasets=list(datasets or []), created_by=created_by, created_at=utcnow())
    with _session(stores) as session:
        session.add(row)
        session.flush()
        session.add_all(DemandSampleItemRow(sample_id=row.id, position=i, event_id=population[int(k)])
                        for i, k in enumerate(chosen))
    return get_sample(stores=stores, sample_id=row.id)


def get_sample(*, stores: Stores, sample_id: str) -> Sample:
    with _session(stores) as session:
        row = _sample_row(session, sample_id)
        items = session.scalars(select(DemandSampleItemRow.event_id).where(DemandSampleItemRow.sample_id == sample_id)
                                .order_by(DemandSampleItemRow.position)).all()
        return Sample(row.id, row.name, row.seed, row.population, list(items), list(row.datasets), row.created_by,
                      row.created_at)


def list_samples(*, stores: Stores) -> list[dict[str, Any]]:
    """Every sample, newest first, with how many of its contacts are coded."""
    with _session(stores) as session:
        rows = session.scalars(select(DemandSampleRow).order_by(DemandSampleRow.created_at.desc())).all()
        counts = dict(session.execute(select(DemandCodingRow.sample_id, func.count())
                                      .group_by(DemandCodingRow.sample_id)).all())
        return [{"sample_id": r.id, "name": r.name, "seed": r.seed, "size": r.size, "population": r.population,
                 "coded": int(counts.get(r.id, 0)), "created_by": r.created_by, "created_at": r.created_at}
                for r in rows]


def _sample_row(session: Session, sample_id: str) -> DemandSampleRow:
    row = session.get(DemandSampleRow, sample_id)
    if row is None:
        raise NotFoundError(f"There is no demand sample '{sample_id}'.",
                            hint="List the samples to find its id, or draw a new one.")
    return row


# -- coding ----------------------------------------------------------------------------------------

def record_coding(*, stores: Stores, sample_id: str, event_id: str, classification: str, coder: str,
                  failure_type: str | None = None, note: str = "") -> Coding:
    """Record (or replace) the judgement of one sampled contact as value or failure."""
    _check_coding(classification, failure_type, coder)
    with _session(stores) as session:
        _sample_row(session, sample_id)
        if session.scalar(select(DemandSampleItemRow.position).where(
                DemandSampleItemRow.sample_id == sample_id, DemandSampleItemRow.event_id == event_id)) is None:
            raise NotFoundError(f"Event '{event_id}' is not in demand sample '{sample_id}'.",
                                hint="Code only the contacts drawn into the sample.")
        row = session.get(DemandCodingRow, (sample_id, event_id)) or DemandCodingRow(
            sample_id=sample_id, event_id=event_id)
        row.classification, row.failure_type, row.note = classification, failure_type or None, note.strip()
        row.coder, row.coded_at = coder.strip(), utcnow()
        session.merge(row)
        return Coding(sample_id, event_id, classification, row.failure_type, row.note, row.coder, row.coded_at)


def _check_coding(classification: str, failure_type: str | None, coder: str) -> None:
    if classification not in CLASSIFICATIONS:
        raise UserError(f"'{classification}' is not a classification.",
                        hint=f"Code each contact as one of: {', '.join(CLASSIFICATIONS)}.")
    if failure_type and classification != "failure":
        raise UserError("A failure type was given for a contact coded as value.",
                        hint="Give a failure type only when the contact is coded as failure.")
    if not coder.strip():
        raise UserError("Each coding must name its coder.", hint="Give the analyst's user name as the coder.")


def codings(*, stores: Stores, sample_id: str) -> list[Coding]:
    with _session(stores) as session:
        _sample_row(session, sample_id)
        rows = session.scalars(select(DemandCodingRow).where(DemandCodingRow.sample_id == sample_id)
                               .order_by(DemandCodingRow.event_id)).all()
        return [Coding(r.sample_id, r.event_id, r.classification, r.failure_type, r.note, r.coder, r.coded_at)
                for r in rows]


# -- the result ------------------------------------------------------------------------------------

def sample_result(*, stores: Stores, sample_id: str, confidence: float = 0.95) -> SampleResult:
    """The proportion of coded contacts judged failure, with a Wilson confidence interval."""
    if not 0 < confidence < 1:
        raise UserError(f"The confidence level must be between 0 and 1, not {confidence}.", hint="For example 0.95.")
    sample = get_sample(stores=stores, sample_id=sample_id)
    coded = codings(stores=stores, sample_id=sample_id)
    failures = [c for c in coded if c.classification == "failure"]
    types: dict[str, int] = {}
    for c in failures:
        types[c.failure_type or "not given"] = types.get(c.failure_type or "not given", 0) + 1
    if not coded:
        return SampleResult(sample_id, len(sample.event_ids), 0, 0, None, None, None, confidence, types)
    lower, upper = proportion_confint(len(failures), len(coded), alpha=1 - confidence, method="wilson")
    return SampleResult(sample_id, len(sample.event_ids), len(coded), len(failures), len(failures) / len(coded),
                        float(lower), float(upper), confidence, dict(sorted(types.items())))

"""Problems reported with directory records ("this number is wrong", "it has closed"), kept for the
directory's editors and written to the audit log (the report's text stays in its table, not the log)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Engine, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.governance import audit
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

KINDS = {"contact": "Contact details are wrong", "hours": "Opening times are wrong",
         "closed": "The service has closed or moved", "eligibility": "Who it is for is wrong",
         "other": "Something else"}
DETAIL_LIMIT = 2000
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class DirectoryProblemRow(Base):
    __tablename__ = "directory_problems"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    service_name: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class ProblemReport:
    number: int
    service_id: str
    service_name: str
    kind: str
    detail: str
    reported_by: str
    reported_at: datetime


@contextmanager
def _session(stores: Stores) -> Iterator[Session]:
    if stores.engine not in _READY:
        Base.metadata.create_all(stores.engine, tables=[Base.metadata.tables[DirectoryProblemRow.__tablename__]])
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session


def report_problem(*, stores: Stores, service_id: str, service_name: str, kind: str, detail: str, actor: str,
                   partner: str | None = None) -> int:
    """Keep a report about a service and audit it; returns the report's number."""
    with _session(stores) as session:
        row = DirectoryProblemRow(service_id=service_id, service_name=service_name, kind=kind,
                                  detail=detail[:DETAIL_LIMIT], reported_by=actor, reported_at=utcnow())
        session.add(row)
        session.flush()
        number = row.number
    audit.record(stores=stores, action=audit.AuditAction.COLLECTION, actor=actor, partner=partner,
                 what={"directory problem": number, "service": service_id, "kind": kind})
    return number


def list_problems(*, stores: Stores, limit: int = 200) -> list[ProblemReport]:
    """The latest reports first."""
    with _session(stores) as session:
        rows = session.scalars(select(DirectoryProblemRow).order_by(DirectoryProblemRow.number.desc())
                               .limit(limit)).all()
        return [ProblemReport(r.number, r.service_id, r.service_name, r.kind, r.detail, r.reported_by,
                              r.reported_at) for r in rows]

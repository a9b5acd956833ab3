"""Both stores opened together, and the commit that makes a load visible atomically."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

import wholeplace.governance.audit_tables  # noqa: F401  (declares the audit tables, so create_all makes them)
from wholeplace.errors import UserError
from wholeplace.settings import Settings
from wholeplace.store.analytic import AnalyticStore
from wholeplace.store.operational import (
    DatasetRow,
    LoadRow,
    PartnerRow,
    SegmentRow,
    make_engine,
    make_sessionmaker,
)


@dataclass
class StagedSegment:
    table: str
    dataset: str
    partition_key: str
    path: Path
    rows: int


@dataclass
class StagedLoad:
    """Everything one file's load will add, staged on disk but not yet visible."""

    load: LoadRow
    segments: list[StagedSegment] = field(default_factory=list)
    partner: PartnerRow | None = None
    dataset: DatasetRow | None = None


class Stores:
    """The analytic and operational stores of one place."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = make_engine(settings.operational_url)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.analytic = AnalyticStore(settings.analytic_dir, memory_limit=settings.duckdb_memory_limit)

    def close(self) -> None:
        """Release the operational store's connections."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    def active_segments(self) -> dict[str, list[str]]:
        with self.sessions() as session:
            rows = session.execute(select(SegmentRow.table, SegmentRow.path).where(SegmentRow.active)).all()
        grouped: dict[str, list[str]] = defaultdict(list)
        for table, path in rows:
            grouped[table].append(path)
        return dict(grouped)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection over what is committed now (a consistent snapshot)."""
        return self.analytic.connect(self.active_segments())

    def ibis(self) -> Any:
        """The same snapshot as an Ibis backend, for analyses that must also run on Spark."""
        import ibis  # imported here: it pulls in pandas, which most commands never need

        return ibis.duckdb.from_connection(self.connect())

    def remove_orphans(self) -> int:
        with self.sessions() as session:
            paths = session.scalars(select(SegmentRow.path)).all()
        return self.analytic.remove_orphans(paths)

    def commit_loads(self, staged: list[StagedLoad], *, also: Callable[[Session], None] | None = None) -> list[str]:
        """Make staged loads visible in one transaction; replaced segments go inactive.

        ``also`` runs in the same transaction (the audit record of the collection), so the
        data and its record commit or fail together.

        Returns the paths of files no longer needed, already deleted.
        """
        replaced: list[str] = []
        with self.session() as session:
            for item in staged:
                if item.partner is not None:
                    session.merge(item.partner)
                if item.dataset is not None:
                    session.merge(item.dataset)
                session.flush()
                keys = {(s.dataset, s.partition_key) for s in item.segments}
                replaced += _deactivate(session, keys)
                session.add(item.load)
                session.flush()
                for seg in item.segments:
                    session.add(
                        SegmentRow(
                            id=seg.path.stem,
                            load_id=item.load.id,
                            table=seg.table,
                            dataset=seg.dataset,
                            partition_key=seg.partition_key,
                            path=str(seg.path),
                            rows=seg.rows,
                            active=True,
                        )
                    )
            session.flush()
            replaced += _mark_superseded(session)
            if also is not None:
                also(session)
        for path in replaced:
            Path(path).unlink(missing_ok=True)
        return replaced

    def record_failed_load(self, load: LoadRow) -> None:
        with self.session() as session:
            session.add(load)

    def replace_segments(
        self, replacements: dict[str, StagedSegment | None], *, also: Callable[[Session], None] | None = None
    ) -> list[str]:
        """Swap active segments (by path) for rewritten ones, or none, in one transaction.

        A replacement belongs to the load of the segment it replaces; ``also`` runs in the same
        transaction (for example to record why). If any segment is no longer active the store
        changed meanwhile: nothing is changed and a UserError says so. Returns the old paths,
        already deleted.
        """
        with self.session() as session:
            for old_path, new in replacements.items():
                old = session.scalars(select(SegmentRow).where(SegmentRow.path == old_path, SegmentRow.active)).first()
                if old is None:
                    raise UserError(
                        f"segment {old_path} changed while it was being rewritten; nothing was changed",
                        hint="Run the command again.",
                    )
                old.active = False
                if new is not None:
                    session.add(
                        SegmentRow(
                            id=new.path.stem,
                            load_id=old.load_id,
                            table=new.table,
                            dataset=new.dataset,
                            partition_key=new.partition_key,
                            path=str(new.path),
                            rows=new.rows,
                        )
                    )
            session.flush()
            if also is not None:
                also(session)
        for path in replacements:
            Path(path).unlink(missing_ok=True)
        return list(replacements)


def _deactivate(session: Session, keys: set[tuple[str, str]]) -> list[str]:
    paths: list[str] = []
    for dataset, partition in keys:
        rows = session.scalars(
            select(SegmentRow).where(
                SegmentRow.dataset == dataset,
                SegmentRow.partition_key == partition,
                SegmentRow.active,
            )
        ).all()
        for row in rows:
            row.active = False
            paths.append(row.path)
    return paths


def _mark_superseded(session: Session) -> list[str]:
    """Loads whose every event segment was replaced are superseded whole."""
    has_events = select(SegmentRow.load_id).where(SegmentRow.table == "events").distinct()
    live = select(SegmentRow.load_id).where(SegmentRow.table == "events", SegmentRow.active).distinct()
    gone = session.scalars(
        select(LoadRow.id).where(LoadRow.status == "active", LoadRow.id.in_(has_events), LoadRow.id.not_in(live))
    ).all()
    if not gone:
        return []
    paths = session.scalars(select(SegmentRow.path).where(SegmentRow.load_id.in_(gone), SegmentRow.active)).all()
    session.execute(update(SegmentRow).where(SegmentRow.load_id.in_(gone)).values(active=False))
    session.execute(update(LoadRow).where(LoadRow.id.in_(gone)).values(status="superseded"))
    return list(paths)


def open_stores(settings: Settings) -> Stores:
    return Stores(settings)

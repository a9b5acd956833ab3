"""The directory in the operational store: one row per HSDS record (its flat document), and search
rows rebuilt from them in the same transaction (services with their text, ages and assembled JSON;
taxonomy terms; weekly opening slots; places with position and postcode).

Tables are created once per engine on first use, so a store opened before this module was imported
gains them too. Loads are one transaction; a record whose (kind, id) is stored already is replaced.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Float, Integer, String, Text, delete, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.directory.index import service_rows
from wholeplace.directory.model import Nester, RecordSet
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class DirectoryRecordRow(Base):
    __tablename__ = "directory_records"
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(500), default="")
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DirectoryServiceRow(Base):
    __tablename__ = "directory_services"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(1000), index=True)
    status: Mapped[str] = mapped_column(String(40))
    search_text: Mapped[str] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    last_modified: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_checked: Mapped[str | None] = mapped_column(String(40))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class DirectoryServiceTermRow(Base):
    __tablename__ = "directory_service_terms"
    service_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    taxonomy_term_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    taxonomy_id: Mapped[str] = mapped_column(String(200), primary_key=True, default="")


class DirectoryScheduleSlotRow(Base):
    __tablename__ = "directory_schedule_slots"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    day: Mapped[str] = mapped_column(String(2))
    opens: Mapped[int] = mapped_column(Integer)  # minutes after midnight
    closes: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[str | None] = mapped_column(String(10))
    valid_to: Mapped[str | None] = mapped_column(String(10))


class DirectoryPlaceRow(Base):
    __tablename__ = "directory_places"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    service_at_location_id: Mapped[str] = mapped_column(String(200), index=True)
    location_id: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    postcode: Mapped[str | None] = mapped_column(String(12), index=True)


class DirectoryPostcodeRow(Base):
    __tablename__ = "directory_postcodes"
    postcode: Mapped[str] = mapped_column(String(12), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class DirectoryMergeRow(Base):
    __tablename__ = "directory_merges"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    kept_id: Mapped[str] = mapped_column(String(200))
    dropped_id: Mapped[str] = mapped_column(String(200))
    merged_by: Mapped[str] = mapped_column(String(200))
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dropped_document: Mapped[dict[str, Any]] = mapped_column(JSON)


class DirectoryGenerationRow(Base):
    """How many times the search rows have been rebuilt: a search cached in memory is current while this
    number is unchanged."""
    __tablename__ = "directory_generation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, default=0)


TABLES = (DirectoryRecordRow, DirectoryServiceRow, DirectoryServiceTermRow, DirectoryScheduleSlotRow,
          DirectoryPlaceRow, DirectoryPostcodeRow, DirectoryMergeRow, DirectoryGenerationRow)
INDEXES = (DirectoryServiceRow, DirectoryServiceTermRow, DirectoryScheduleSlotRow, DirectoryPlaceRow)


@contextmanager
def directory_session(stores: Stores) -> Iterator[Session]:
    """A transaction on a store whose directory tables exist (created once per engine)."""
    if stores.engine not in _READY:
        Base.metadata.create_all(stores.engine, tables=[Base.metadata.tables[t.__tablename__] for t in TABLES])
        _READY.add(stores.engine)
    with stores.session() as session:
        yield session


def save_records(session: Session, records: RecordSet, *, source: str) -> int:
    """Insert or replace each record (same kind and id replaces), then rebuild the search rows."""
    now = utcnow()
    for (kind, record_id), document in records.records.items():
        row = session.get(DirectoryRecordRow, (kind, record_id))
        if row is None:
            session.add(DirectoryRecordRow(kind=kind, id=record_id, document=document, source=source, loaded_at=now))
        else:
            row.document, row.source, row.loaded_at = document, source, now
    session.flush()
    rebuild_index(session)
    return len(records.records)


def all_records(session: Session) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(select(DirectoryRecordRow.kind, DirectoryRecordRow.document)).all()
    return [(kind, document) for kind, document in rows]


def records_of(session: Session, kind: str) -> list[dict[str, Any]]:
    query = select(DirectoryRecordRow.document).where(DirectoryRecordRow.kind == kind).order_by(DirectoryRecordRow.id)
    return list(session.scalars(query))


def rebuild_index(session: Session) -> None:
    """Every search row again from the stored records (a load is rare; searching is not)."""
    for table in INDEXES:
        session.execute(delete(table))
    nester = Nester(all_records(session))
    for service_id in sorted(i for (kind, i) in nester.by_id if kind == "service"):
        service, terms, slots, places = service_rows(nester, service_id)
        session.add(DirectoryServiceRow(**service))
        session.add_all(DirectoryServiceTermRow(service_id=service_id, **t) for t in terms)
        session.add_all(DirectoryScheduleSlotRow(service_id=service_id, **s) for s in slots)
        session.add_all(DirectoryPlaceRow(service_id=service_id, **p) for p in places)
    bump_generation(session)


def bump_generation(session: Session) -> None:
    """Number the directory anew (search rows or postcodes changed): searches in every process build their
    index again; in this one, as soon as the transaction commits."""
    counter = session.get(DirectoryGenerationRow, 1) or DirectoryGenerationRow(id=1, number=0)
    counter.number += 1
    session.add(counter)
    session.flush()
    database = _database(session)
    event.listen(session, "after_commit", lambda _session: _changed(database), once=True)


def index_generation(session: Session) -> int:
    """The number of the current search rows (0 before the first load)."""
    return session.scalar(select(DirectoryGenerationRow.number).where(DirectoryGenerationRow.id == 1)) or 0


# -- how often a search asks whether the directory changed ------------------------------------------------
# Reading the generation costs a connection and a query, a third of a busy search's time. A search trusts
# the generation it read within the last RECHECK_SECONDS: a change committed in this process is seen at
# once (``bump_generation`` marks it), a change by another process (an import from the command line, another
# server worker) within RECHECK_SECONDS.
RECHECK_SECONDS = 1.0
_CHECKS: dict[str, tuple[float, int]] = {}  # database → (when its generation was read, changes seen then)
_CHANGES: dict[str, int] = {}  # database → changes committed in this process
_CHECKS_LOCK = threading.Lock()


_DATABASES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _database(bind: Session | Engine) -> str:
    """The database an engine or session is on (engines on one database share what is known of it)."""
    engine = bind if isinstance(bind, Engine) else bind.get_bind().engine
    name = _DATABASES.get(engine)
    if name is None:
        name = _DATABASES[engine] = engine.url.render_as_string(hide_password=True)
    return name


def _changed(database: str) -> None:
    with _CHECKS_LOCK:
        _CHANGES[database] = _CHANGES.get(database, 0) + 1


def generation_is_recent(bind: Session | Engine) -> bool:
    """Whether this process read the directory's generation within RECHECK_SECONDS and has committed no
    change since."""
    database = _database(bind)
    checked = _CHECKS.get(database)
    return (checked is not None and time.monotonic() - checked[0] < RECHECK_SECONDS
            and checked[1] == _CHANGES.get(database, 0))


def checked_generation(session: Session) -> int:
    """``index_generation``, noting when it was read for ``generation_is_recent``."""
    database = _database(session)
    changes, started = _CHANGES.get(database, 0), time.monotonic()
    generation = index_generation(session)
    with _CHECKS_LOCK:
        _CHECKS[database] = (started, changes)
    return generation

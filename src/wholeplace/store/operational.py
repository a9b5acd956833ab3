"""Operational store: partners, datasets, loads and their segments, geography levels.

SQLAlchemy 2 on SQLite by default and PostgreSQL for a shared server. The tables are
plain and portable; the same code and tests run on both engines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON}


class PartnerRow(Base):
    __tablename__ = "partners"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))


class DatasetRow(Base):
    __tablename__ = "datasets"
    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class LoadRow(Base):
    __tablename__ = "loads"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    adapter: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(500))
    file_path: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_bytes: Mapped[int] = mapped_column(Integer)
    mapping_version: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)  # active/superseded/failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_stored: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_unlocated: Mapped[int] = mapped_column(Integer, default=0)
    partitions: Mapped[list[Any]] = mapped_column(default=list)
    area_check: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str] = mapped_column(Text, default="")


class SegmentRow(Base):
    __tablename__ = "segments"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    load_id: Mapped[str] = mapped_column(ForeignKey("loads.id"), index=True)
    table: Mapped[str] = mapped_column(String(40))  # events / quarantine / person_keys
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    partition_key: Mapped[str] = mapped_column(String(200), index=True)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class LevelRow(Base):
    __tablename__ = "geography_levels"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    hierarchy: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    features: Mapped[int] = mapped_column(Integer)
    median_area_m2: Mapped[float] = mapped_column()
    source_file: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    code_field: Mapped[str] = mapped_column(String(100))
    name_field: Mapped[str] = mapped_column(String(100))
    parent_level: Mapped[str | None] = mapped_column(String(60), nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContextLoadRow(Base):
    """Loads of place context tables (population, deprivation, lookups)."""

    __tablename__ = "context_loads"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    table: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_stored: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# The web app answers sync routes from a pool of 40 threads; on SQLite (a file, nothing to reconnect to)
# that many connections are kept open rather than opened, set up and closed again for each request.
SQLITE_POOL = {"pool_size": 40, "max_overflow": 10}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite") and ":memory:" not in url:
        engine = create_engine(url, future=True, **SQLITE_POOL)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True)  # a server connection can drop
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)

"""The audit log's tables and the canonical form its hash chain is computed over.

Each entry's ``entry_hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces,
UTF-8) of every other column, ``previous_hash`` included; the first entry's
``previous_hash`` is 64 zeros. ``what`` is kept as canonical JSON *text*, not a JSON
column, so the exact bytes that were hashed are the bytes stored on every engine.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Engine, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wholeplace.store.operational import Base

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """What was done with the data (DPA 2018 s62 names the first six)."""

    COLLECTION = "collection"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ALTERATION = "alteration"
    ERASURE = "erasure"
    REFUSAL = "refusal"
    SIGN_IN = "sign_in"
    ADMINISTRATION = "administration"


class AuditRow(Base):
    __tablename__ = "audit_log"
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    partner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    purpose: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    what: Mapped[str] = mapped_column(Text)  # canonical JSON text
    justification: Mapped[str | None] = mapped_column(Text, nullable=True)
    agreement_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    agreement_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(40))
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditAnchorRow(Base):
    """One row: the latest sequence and hash, rewritten on every append (reveals a cut tail)."""

    __tablename__ = "audit_anchor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class AuditEntry:
    sequence: int
    recorded_at: datetime
    action: str
    actor: str
    partner: str | None
    purpose: str | None
    what: Any
    justification: str | None
    agreement_id: str | None
    agreement_version: int | None
    outcome: str
    previous_hash: str
    entry_hash: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recorded_at"] = timestamp_text(self.recorded_at)
        return data


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def timestamp_text(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds")


def hashed_fields(row: AuditRow) -> dict[str, Any]:
    """Every column but ``entry_hash``, in the form that is hashed."""
    return {
        "sequence": row.sequence,
        "recorded_at": timestamp_text(row.recorded_at),
        "action": row.action,
        "actor": row.actor,
        "partner": row.partner,
        "purpose": row.purpose,
        "what": row.what,
        "justification": row.justification,
        "agreement_id": row.agreement_id,
        "agreement_version": row.agreement_version,
        "outcome": row.outcome,
        "previous_hash": row.previous_hash,
    }


def compute_hash(row: AuditRow) -> str:
    return hashlib.sha256(canonical_json(hashed_fields(row)).encode("utf-8")).hexdigest()


def to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        sequence=row.sequence,
        recorded_at=as_utc(row.recorded_at),
        action=row.action,
        actor=row.actor,
        partner=row.partner,
        purpose=row.purpose,
        what=json.loads(row.what),
        justification=row.justification,
        agreement_id=row.agreement_id,
        agreement_version=row.agreement_version,
        outcome=row.outcome,
        previous_hash=row.previous_hash,
        entry_hash=row.entry_hash,
    )


_created: weakref.WeakSet[Engine] = weakref.WeakSet()
_creating = threading.Lock()


def ensure_tables(engine: Engine) -> None:
    """Create the audit tables if the stores were opened before this module was imported."""
    if engine in _created:
        return
    with _creating:
        Base.metadata.create_all(engine, tables=[AuditRow.__table__, AuditAnchorRow.__table__])  # type: ignore[list-item]
        _created.add(engine)

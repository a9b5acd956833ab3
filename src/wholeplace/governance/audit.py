"""The audit log: append-only and hash-chained (DPA 2018 s62; NDG standard 4).

Every collection, consultation (person-level view), disclosure, combination, alteration
and erasure is recorded with who, when, what, why (purpose, and a justification for
person-level views) and the agreement and version that allowed it. Each entry's hash
covers the previous entry's hash, so ``verify`` finds any entry altered, removed or
reordered; an anchor row and an anchor file outside the database reveal a cut tail.

``what`` holds dataset codes, event ids, pseudonymous tokens, query descriptions and
counts, never clear identifiers: keys that name one are refused.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from wholeplace.errors import UserError
from wholeplace.governance.audit_search import access_review, export_csv, search
from wholeplace.governance.audit_tables import (
    GENESIS_HASH,
    AuditAction,
    AuditAnchorRow,
    AuditEntry,
    AuditRow,
    canonical_json,
    compute_hash,
    ensure_tables,
    to_entry,
)
from wholeplace.governance.audit_verify import Verification, anchor_file, verify
from wholeplace.store.operational import utcnow
from wholeplace.store.stores import Stores

__all__ = [
    "AuditAction",
    "AuditEntry",
    "Verification",
    "access_review",
    "anchor_file",
    "export_csv",
    "record",
    "record_in",
    "search",
    "verify",
    "write_anchor_file",
]

IDENTIFIER_KEYS = frozenset(
    {"name", "forename", "surname", "full_name", "nhs_number", "date_of_birth", "birth_date", "address",
     "postcode", "phone", "telephone", "email"}
)
LIMITS = {"actor": 200, "partner": 64, "purpose": 100, "agreement_id": 100, "outcome": 40}
_ATTEMPTS = 5


def record(
    *,
    stores: Stores,
    action: str,
    actor: str,
    partner: str | None = None,
    purpose: str | None = None,
    what: dict | str | None = None,
    justification: str | None = None,
    agreement_id: str | None = None,
    agreement_version: int | None = None,
    outcome: str = "allowed",
) -> AuditEntry:
    """Append one entry and return it; safe under concurrent writers on SQLite and PostgreSQL."""
    fields = _validated(action=action, actor=actor, partner=partner, purpose=purpose, what=what,
                        justification=justification, agreement_id=agreement_id,
                        agreement_version=agreement_version, outcome=outcome)
    ensure_tables(stores.engine)
    for attempt in range(_ATTEMPTS):
        try:
            with stores.session() as session:
                entry = _append(session, fields)
            break
        except OperationalError:  # SQLite "database is locked" after its busy timeout
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    write_anchor_file(stores=stores, entry=entry)
    return entry


def record_in(session: Session, **fields: Any) -> AuditEntry:
    """Append within the caller's transaction, so a change and its record commit or fail together.

    Takes the same keyword arguments as ``record`` (without ``stores``); call
    ``write_anchor_file`` after the transaction commits.
    """
    ensure_tables(session.get_bind())  # type: ignore[arg-type]
    return _append(session, _validated(**fields))


def _validated(
    *,
    action: str,
    actor: str,
    partner: str | None = None,
    purpose: str | None = None,
    what: dict | str | None = None,
    justification: str | None = None,
    agreement_id: str | None = None,
    agreement_version: int | None = None,
    outcome: str = "allowed",
) -> dict[str, Any]:
    action = AuditAction(action).value  # ValueError names the bad action
    if not actor or not actor.strip():
        raise ValueError("an audit entry needs the individual who acted (actor)")
    justification = justification.strip() if justification and justification.strip() else None
    if action == AuditAction.CONSULTATION and outcome == "allowed" and justification is None:
        raise UserError(
            "A person-level view needs a justification, and none was given.",
            hint="Say why you need to see these records (for example the referral or case it is for); "
            "it is kept in the audit log with your name and purpose.",
        )
    values = {"action": action, "actor": actor.strip(), "partner": partner, "purpose": purpose,
              "what": _what_text(what), "justification": justification, "agreement_id": agreement_id,
              "agreement_version": agreement_version, "outcome": outcome}
    for name, limit in LIMITS.items():
        if values[name] is not None and len(values[name]) > limit:
            raise ValueError(f"audit {name} is longer than {limit} characters")
    return values


def _what_text(what: dict | str | None) -> str:
    _refuse_identifiers(what)
    return canonical_json(what)


def _refuse_identifiers(value: Any) -> None:
    if isinstance(value, dict):
        named = sorted(k for k in value if str(k).lower() in IDENTIFIER_KEYS)
        if named:
            raise ValueError(f"audit 'what' must not hold clear identifiers (keys {named}); record tokens or ids")
        for item in value.values():
            _refuse_identifiers(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_identifiers(item)


def _append(session: Session, fields: dict[str, Any]) -> AuditEntry:
    _lock(session)
    sequence, previous = _head(session)
    row = AuditRow(sequence=sequence + 1, recorded_at=utcnow(), previous_hash=previous, entry_hash="", **fields)
    row.entry_hash = compute_hash(row)
    session.add(row)
    session.merge(AuditAnchorRow(id=1, sequence=row.sequence, entry_hash=row.entry_hash, updated_at=row.recorded_at))
    session.flush()
    return to_entry(row)


def _lock(session: Session) -> None:
    """Serialise appenders: nobody else may read the head until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        # Conflicts with itself and with writes, not with readers (verify, search).
        session.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
    else:
        # SQLite takes the database's write lock at a transaction's first write, so write first.
        anchor = AuditAnchorRow.__table__
        session.execute(update(anchor).where(anchor.c.id == 1).values(id=1))


def _head(session: Session) -> tuple[int, str]:
    """The last sequence and hash; the anchor wins if rows were cut from the end, leaving a visible gap."""
    last = session.execute(
        select(AuditRow.sequence, AuditRow.entry_hash).order_by(AuditRow.sequence.desc()).limit(1)
    ).first()
    anchor = session.get(AuditAnchorRow, 1)
    head = (last[0], last[1]) if last else (0, GENESIS_HASH)
    if anchor is not None and anchor.sequence > head[0]:
        return anchor.sequence, anchor.entry_hash
    return head


def write_anchor_file(*, stores: Stores, entry: AuditEntry) -> None:
    """Record the newest committed entry; a concurrent writer may leave an older one, which is still valid."""
    path = anchor_file(stores)
    try:
        current = json.loads(path.read_text()) if path.exists() else {"sequence": 0}
        if int(current.get("sequence", 0)) >= entry.sequence:
            return
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        temp.write_text(json.dumps({"sequence": entry.sequence, "entry_hash": entry.entry_hash,
                                    "recorded_at": entry.recorded_at.isoformat()}))
        os.replace(temp, path)
    except (OSError, ValueError):
        # The entry is committed and the anchor row holds the same head; a missing checkpoint
        # only weakens tail checks, whereas failing here would hide a committed entry from its caller.
        return


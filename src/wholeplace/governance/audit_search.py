"""Reading the audit log for the governance officer: search, CSV export and access review.

Filters are bound parameters; free text is matched as a literal substring (``%`` and
``_`` escaped), case-insensitively, in the actor, purpose, agreement, justification and
``what`` of each entry.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import ColumnElement, func, or_, select

from wholeplace.governance.audit_tables import AuditAction, AuditEntry, AuditRow, ensure_tables, to_entry
from wholeplace.store.stores import Stores

EXPORT_COLUMNS = (
    "sequence", "recorded_at", "action", "actor", "partner", "purpose", "what", "justification",
    "agreement_id", "agreement_version", "outcome", "previous_hash", "entry_hash",
)
_TEXT_COLUMNS = (AuditRow.actor, AuditRow.purpose, AuditRow.agreement_id, AuditRow.justification, AuditRow.what)


def search(
    *,
    stores: Stores,
    actor: str | None = None,
    action: str | None = None,
    partner: str | None = None,
    purpose: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    text: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """One page of matching entries, newest first, and how many match in all."""
    ensure_tables(stores.engine)
    where = _conditions(actor=actor, action=action, partner=partner, purpose=purpose, since=since, until=until,
                        text=text)
    query = select(AuditRow).where(*where).order_by(AuditRow.sequence.desc())
    with stores.sessions() as session:
        total = session.scalar(select(func.count()).select_from(AuditRow).where(*where)) or 0
        rows = session.scalars(query.limit(max(0, limit)).offset(max(0, offset))).all()
        return [to_entry(row) for row in rows], int(total)


def export_csv(*, stores: Stores, path_or_stream: str | Path | TextIO, **filters: Any) -> int:
    """Write every matching entry, oldest first, with its hashes; returns the number written.

    Values are written exactly as stored, so the hashes in an unfiltered export can be checked
    again outside the platform. A spreadsheet may treat a cell starting with ``=`` as a formula:
    open the file as text.
    """
    ensure_tables(stores.engine)
    query = select(AuditRow).where(*_conditions(**filters)).order_by(AuditRow.sequence)
    with _opened(path_or_stream) as stream, stores.sessions() as session:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        written = 0
        with closing(session.scalars(query.execution_options(yield_per=2000))) as rows:
            for row in rows:
                writer.writerow(["" if value is None else value for value in _export_values(row)])
                written += 1
    return written


def access_review(*, stores: Stores, since: date | datetime | None = None) -> list[dict[str, Any]]:
    """Who used what: per actor, their actions, datasets, purposes, agreements and first and last use."""
    ensure_tables(stores.engine)
    query = select(AuditRow).where(*_conditions(since=since)).order_by(AuditRow.sequence)
    actors: dict[str, dict[str, Any]] = {}
    with stores.sessions() as session, closing(session.scalars(query.execution_options(yield_per=2000))) as rows:
        for row in rows:
            _tally(actors.setdefault(row.actor, _empty_review(row.actor)), to_entry(row))
    return [_finished(actors[name]) for name in sorted(actors)]


def _conditions(
    *,
    actor: str | None = None,
    action: str | None = None,
    partner: str | None = None,
    purpose: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    text: str | None = None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, value in ((AuditRow.actor, actor), (AuditRow.partner, partner), (AuditRow.purpose, purpose)):
        if value:
            where.append(column == value)
    if action:
        where.append(AuditRow.action == AuditAction(action).value)
    if since is not None:
        where.append(AuditRow.recorded_at >= _moment(since))
    if until is not None:
        # A date means the whole of that day; a time means up to and including it.
        bound = _moment(until)
        where.append(AuditRow.recorded_at < bound + timedelta(days=1) if _is_date(until) else
                     AuditRow.recorded_at <= bound)
    if text:
        needle = text.lower()
        where.append(or_(*(func.lower(col).contains(needle, autoescape=True) for col in _TEXT_COLUMNS)))
    return where


def _is_date(value: date | datetime) -> bool:
    return not isinstance(value, datetime)


def _moment(value: date | datetime) -> datetime:
    if _is_date(value):
        return datetime.combine(value, time(), tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _export_values(row: AuditRow) -> list[Any]:
    entry = to_entry(row).as_dict()
    entry["what"] = row.what  # the canonical text that was hashed
    return [entry[name] for name in EXPORT_COLUMNS]


@contextmanager
def _opened(target: str | Path | TextIO) -> Iterator[TextIO]:
    if isinstance(target, str | Path):
        with Path(target).open("w", newline="", encoding="utf-8") as handle:
            yield handle
    else:
        yield target


def _empty_review(actor: str) -> dict[str, Any]:
    return {"actor": actor, "partners": set(), "actions": {}, "datasets": set(), "purposes": set(),
            "agreements": set(), "person_level_views": 0, "refusals": 0, "first_use": None, "last_use": None}


def _tally(review: dict[str, Any], entry: AuditEntry) -> None:
    review["actions"][entry.action] = review["actions"].get(entry.action, 0) + 1
    for key, value in (("partners", entry.partner), ("purposes", entry.purpose)):
        if value:
            review[key].add(value)
    if entry.agreement_id:
        review["agreements"].add(f"{entry.agreement_id} v{entry.agreement_version or '?'}")
    review["datasets"].update(_datasets(entry.what))
    review["person_level_views"] += entry.action == AuditAction.CONSULTATION and entry.outcome == "allowed"
    review["refusals"] += entry.action == AuditAction.REFUSAL or entry.outcome == "refused"
    review["first_use"] = review["first_use"] or entry.recorded_at
    review["last_use"] = entry.recorded_at


def _datasets(what: Any) -> set[str]:
    """By convention ``what`` names datasets under ``dataset`` (one code) or ``datasets`` (a list)."""
    if not isinstance(what, dict):
        return set()
    found = {what["dataset"]} if isinstance(what.get("dataset"), str) else set()
    listed = what.get("datasets")
    if isinstance(listed, list):
        found.update(str(item) for item in listed)
    return found


def _finished(review: dict[str, Any]) -> dict[str, Any]:
    return {key: sorted(value) if isinstance(value, set) else value for key, value in review.items()}


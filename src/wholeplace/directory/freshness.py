"""Keeping the directory fresh: review reminders and the approval queue for provider edits.

A service was *last checked* on its HSDS ``assured_date``. ``review_reminders`` lists the services not
checked for a number of days (or never), grouped by the organisation that owns them, with the address
to remind; sending them by email is left to whoever holds the list.

Providers propose edits to their services' own fields (name, description, status, alert, eligibility,
ages and the like). A proposal waits in a queue as *pending* until an editor approves it, which applies
the change through the store (the search rows follow) and records the service as checked that day by
that editor, or rejects it with a reason. Decided proposals stay in the queue as the record of who
decided what and when.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wholeplace.directory.model import STATUSES, RecordSet
from wholeplace.directory.store import (
    DirectoryRecordRow,
    DirectoryServiceRow,
    directory_session,
    save_records,
)
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store.operational import Base, utcnow
from wholeplace.store.stores import Stores

DEFAULT_REVIEW_DAYS = 180
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
EDITABLE = {
    "name": str, "alternate_name": str, "description": str, "url": str, "email": str, "status": str,
    "alert": str, "fees_description": str, "eligibility_description": str, "application_process": str,
    "wait_time": str, "accreditations": str, "minimum_age": float, "maximum_age": float,
}
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


class DirectoryProposalRow(Base):
    __tablename__ = "directory_proposals"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class StaleService:
    id: str
    name: str
    last_checked: str | None
    days_unchecked: int | None  # None: never checked


@dataclass(frozen=True)
class Reminder:
    """One organisation's services due for review."""

    organization_id: str
    organization_name: str
    email: str | None
    services: tuple[StaleService, ...]


@dataclass(frozen=True)
class Proposal:
    number: int
    service_id: str
    service_name: str
    changes: dict[str, Any]
    note: str
    proposed_by: str
    proposed_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


def review_reminders(*, stores: Stores, days: int = DEFAULT_REVIEW_DAYS, today: date | None = None) -> list[Reminder]:
    """Services not checked for ``days`` days or more (or never), by owning organisation (by name)."""
    if days < 0:
        raise UserError(f"The number of days must be 0 or more (got {days}).", hint="For example --days 180.")
    today = today or date.today()
    grouped: dict[str, list[StaleService]] = {}
    with directory_session(stores) as session:
        rows = session.execute(select(DirectoryServiceRow.id, DirectoryServiceRow.name, DirectoryServiceRow.status,
                                      DirectoryServiceRow.organization_id, DirectoryServiceRow.last_checked)).all()
        for service_id, name, status, org_id, checked in rows:
            age = _days_since(checked, today)
            if status != "defunct" and (age is None or age >= days):
                grouped.setdefault(org_id or "", []).append(StaleService(service_id, name, checked, age))
        reminders = [_reminder(session, org_id, found) for org_id, found in grouped.items()]
    return sorted(reminders, key=lambda r: (r.organization_name, r.organization_id))


def propose_change(*, stores: Stores, service_id: str, changes: dict[str, Any], by: str, note: str = "") -> Proposal:
    """Hold an edit to a service's own fields for approval; every bad field is named at once."""
    if not by.strip():
        raise UserError("Say who proposes the change.", hint="Give the provider's email address.")
    checked = _checked_changes(changes)
    with _session(stores) as session:
        _service_document(session, service_id)
        row = DirectoryProposalRow(service_id=service_id, changes=checked, note=note, proposed_by=by.strip(),
                                   proposed_at=utcnow(), status=PENDING)
        session.add(row)
        session.flush()
        return _proposal(session, row)


def list_proposals(*, stores: Stores, status: str | None = PENDING) -> list[Proposal]:
    """Proposals with ``status`` (all when None), oldest first."""
    if status is not None and status not in (PENDING, APPROVED, REJECTED):
        raise UserError(f"Unknown proposal status '{status}'.", hint="Use pending, approved or rejected.")
    with _session(stores) as session:
        query = select(DirectoryProposalRow).order_by(DirectoryProposalRow.number)
        if status is not None:
            query = query.where(DirectoryProposalRow.status == status)
        return [_proposal(session, row) for row in session.scalars(query)]


def approve_proposal(*, stores: Stores, number: int, by: str, today: date | None = None) -> Proposal:
    """Apply a pending proposal to its service through the store; the service is checked today by ``by``."""
    with _session(stores) as session:
        row = _pending(session, number, by)
        document = dict(_service_document(session, row.service_id))
        document.update(row.changes)
        document |= {"assured_date": (today or date.today()).isoformat(), "assurer_email": by.strip(),
                     "last_modified": utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        records = RecordSet()
        records.records[("service", row.service_id)] = document
        save_records(session, records, source=f"proposal {number}")
        return _decide(session, row, APPROVED, by, None)


def reject_proposal(*, stores: Stores, number: int, by: str, reason: str) -> Proposal:
    """Close a pending proposal without changing the service; the reason is kept for the provider."""
    if not reason.strip():
        raise UserError(f"Give a reason for rejecting proposal {number}.",
                        hint="The provider sees it, so say what to change, e.g. --reason 'Hours already listed'.")
    with _session(stores) as session:
        return _decide(session, _pending(session, number, by), REJECTED, by, reason.strip())


def _checked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    problems: list[str] = []
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in EDITABLE:
            problems.append(f"'{field}' cannot be edited by a proposal (editable: {', '.join(sorted(EDITABLE))})")
        elif field == "status" and value not in STATUSES:
            problems.append(f"status '{value}' is not one of {', '.join(STATUSES)}")
        elif EDITABLE[field] is float and value not in (None, ""):
            try:
                number = float(value)
                checked[field] = int(number) if number.is_integer() else number  # an age of 18, not 18.0
            except (TypeError, ValueError):
                problems.append(f"{field} must be a number (got '{value}')")
        else:
            checked[field] = None if value in (None, "") else str(value)
    if not changes:
        problems.append("no fields to change")
    if problems:
        raise UserError("The proposed change cannot be queued: " + "; ".join(problems) + ".",
                        hint="Propose changes as field=value, e.g. alert='Closed for refurbishment until 1 June'.")
    return checked


def _service_document(session: Session, service_id: str) -> dict[str, Any]:
    row = session.get(DirectoryRecordRow, ("service", service_id))
    if row is None:
        raise NotFoundError(f"No service has the id {service_id}.", hint="Find its id at /oruk/services.")
    return row.document


def _pending(session: Session, number: int, by: str) -> DirectoryProposalRow:
    if not by.strip():
        raise UserError("Say who decides the proposal.", hint="Give the editor's email address with --by.")
    row = session.get(DirectoryProposalRow, number)
    if row is None:
        raise NotFoundError(f"There is no proposal number {number}.",
                            hint="List the pending proposals with `wholeplace directory proposals`.")
    if row.status != PENDING:
        raise UserError(f"Proposal {number} was {row.status} by {row.decided_by} already.",
                        hint="Only pending proposals can be approved or rejected.")
    return row


def _decide(session: Session, row: DirectoryProposalRow, status: str, by: str, reason: str | None) -> Proposal:
    row.status, row.decided_by, row.decided_at, row.reason = status, by.strip(), utcnow(), reason
    session.flush()
    return _proposal(session, row)


def _proposal(session: Session, row: DirectoryProposalRow) -> Proposal:
    service = session.get(DirectoryServiceRow, row.service_id)
    return Proposal(row.number, row.service_id, service.name if service else "(no longer listed)", dict(row.changes),
                    row.note, row.proposed_by, row.proposed_at, row.status, row.decided_by, row.decided_at,
                    row.reason)


def _reminder(session: Session, org_id: str, services: list[StaleService]) -> Reminder:
    row = session.get(DirectoryRecordRow, ("organization", org_id)) if org_id else None
    organization = row.document if row is not None else {}
    ordered = sorted(services, key=lambda s: (s.days_unchecked is not None, -(s.days_unchecked or 0), s.name))
    return Reminder(org_id, str(organization.get("name") or "(no organisation)"), organization.get("email"),
                    tuple(ordered))


def _days_since(checked: str | None, today: date) -> int | None:
    try:
        return (today - date.fromisoformat(str(checked)[:10])).days if checked else None
    except ValueError:
        return None


@contextmanager
def _session(stores: Stores) -> Iterator[Session]:
    """A directory transaction on a store whose proposals table exists (created once per engine)."""
    if stores.engine not in _READY:
        Base.metadata.create_all(stores.engine, tables=[Base.metadata.tables[DirectoryProposalRow.__tablename__]])
        _READY.add(stores.engine)
    with directory_session(stores) as session:
        yield session

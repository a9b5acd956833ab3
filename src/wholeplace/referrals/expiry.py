"""Referrals that time out, and referrals kept no longer than they are needed.

Expiry (the scheduled job ``wholeplace referrals expire``): a referral still New after its service's
working days un-opened (default 10; weekends and England and Wales bank holidays do not count), or not
yet Accepted that many days after it was made (default 20 calendar days), becomes Expired, and both
sides are told. A service may have its own times (``set_service_limits``).

Retention (``wholeplace retention run``): referrals closed more than ``referral_retention_months``
ago are erased with their history and notifications, and the erasure is audited (ids, never names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wholeplace.directory.opening import BANK_HOLIDAYS
from wholeplace.errors import UserError
from wholeplace.governance import audit
from wholeplace.governance.audit_tables import AuditAction
from wholeplace.governance.retention import cut_off
from wholeplace.referrals.model import Status
from wholeplace.referrals.notify import Notice, send_notices
from wholeplace.referrals.service import PURPOSE, move_as_system
from wholeplace.referrals.store import (
    ReferralChangeRow,
    ReferralNotificationRow,
    ReferralRow,
    ReferralServiceLimitRow,
    referral_session,
)
from wholeplace.settings import Settings
from wholeplace.store.stores import Stores

WORKING_DAYS_UNOPENED, DAYS_UNACCEPTED = 10, 20
JOB = "referral-expiry-job"


@dataclass(frozen=True)
class Limits:
    working_days_unopened: int = WORKING_DAYS_UNOPENED
    days_unaccepted: int = DAYS_UNACCEPTED


def add_working_days(start: date, days: int) -> date:
    """The day ``days`` working days after ``start`` (Monday to Friday, bank holidays skipped)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in BANK_HOLIDAYS:
            days -= 1
    return day


def is_overdue(row: ReferralRow, limits: Limits, now: datetime) -> bool:
    made = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    unopened = row.status == Status.NEW and now.date() > add_working_days(made.date(), limits.working_days_unopened)
    unaccepted = now > made + timedelta(days=limits.days_unaccepted)
    return unopened or unaccepted


def set_service_limits(*, stores: Stores, service_id: str, working_days_unopened: int, days_unaccepted: int) -> None:
    """Give one service its own expiry times (replacing the defaults for it)."""
    if working_days_unopened < 1 or days_unaccepted < 1:
        raise UserError(f"Expiry times for service {service_id} must be at least 1 day.",
                        hint="Give whole days, for example 5 working days un-opened and 10 days un-accepted.")
    with referral_session(stores) as session:
        session.merge(ReferralServiceLimitRow(service_id=service_id, working_days_unopened=working_days_unopened,
                                              days_unaccepted=days_unaccepted))


def expire_overdue(*, stores: Stores, settings: Settings, now: datetime | None = None) -> list[str]:
    """Mark every overdue New or Opened referral Expired; returns their references."""
    now = now or datetime.now(UTC)
    notices: list[Notice] = []
    expired: list[str] = []
    with referral_session(stores) as session:
        limits = _limits(session)
        waiting = select(ReferralRow).where(ReferralRow.status.in_([Status.NEW.value, Status.OPENED.value]))
        for row in list(session.scalars(waiting.order_by(ReferralRow.created_at))):
            if is_overdue(row, limits.get(row.service_id, Limits()), now):
                notices += move_as_system(session, settings, row, Status.EXPIRED, _why(row), JOB)
                expired.append(row.reference)
        entry = None
        if expired:
            entry = audit.record_in(session, action=AuditAction.ALTERATION, actor=JOB, purpose=PURPOSE,
                                    what={"expired": expired})
    if entry is not None:
        audit.write_anchor_file(stores=stores, entry=entry)
    send_notices(stores=stores, settings=settings, notices=notices)
    return expired


def _why(row: ReferralRow) -> str:
    return "Not opened in time" if row.status == Status.NEW else "Not accepted in time"


def _limits(session: Session) -> dict[str, Limits]:
    rows = session.scalars(select(ReferralServiceLimitRow))
    return {r.service_id: Limits(r.working_days_unopened, r.days_unaccepted) for r in rows}


def erase_closed(*, stores: Stores, months: int, today: date | None = None, actor: str = "retention-job") -> int:
    """Erase referrals closed before the first day of the month ``months`` ago; returns how many."""
    today = today or datetime.now(UTC).date()
    before = datetime.combine(cut_off(today, months), datetime.min.time(), tzinfo=UTC)
    with referral_session(stores) as session:
        ids = list(session.scalars(select(ReferralRow.id).where(ReferralRow.closed_at.is_not(None),
                                                               ReferralRow.closed_at < before)))
        if not ids:
            return 0
        for table in (ReferralNotificationRow, ReferralChangeRow):
            session.execute(delete(table).where(table.referral_id.in_(ids)))
        session.execute(delete(ReferralRow).where(ReferralRow.id.in_(ids)))
        entry = audit.record_in(session, action=AuditAction.ERASURE, actor=actor, purpose="retention",
                                what={"referrals": ids, "closed_before": before.date().isoformat(),
                                      "months_kept": months})
    audit.write_anchor_file(stores=stores, entry=entry)
    return len(ids)

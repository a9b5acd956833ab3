"""Making, reading and moving referrals: the functions the pages and the CLI call.

Every change is one transaction holding the referral, its history row, its notifications and its
audit entry (COLLECTION when made, ALTERATION when its status changes), so they commit or fail
together; emails go after the commit. Every view of a referral, and every list showing people's
names, is audited as CONSULTATION.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wholeplace.errors import NotFoundError
from wholeplace.governance import audit
from wholeplace.governance.audit_tables import AuditAction, AuditEntry
from wholeplace.governance.users import User, UserRow
from wholeplace.referrals.model import (
    CLOSED,
    NEEDS_NOTE,
    ReferralDraft,
    ReferralProblems,
    Side,
    Status,
    check_transition,
    draft_problems,
)
from wholeplace.referrals.notify import Notice, add_notices, mark_read, send_notices
from wholeplace.referrals.parties import REFERRING_ROLES, Receiver, check_role, receiver_for, sides
from wholeplace.referrals.store import ReferralChangeRow, ReferralRow, referral_session
from wholeplace.settings import Settings
from wholeplace.store.operational import utcnow
from wholeplace.store.stores import Stores

PURPOSE = "referral"  # the purpose recorded in the audit log for referral work
_REFERENCE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


@dataclass(frozen=True)
class Referral:
    """A referral as its two sides see it, with its history (oldest first)."""

    row: ReferralRow
    history: list[ReferralChangeRow] = field(default_factory=list)
    sides: frozenset[Side] = frozenset()

    @property
    def status(self) -> Status:
        return Status(self.row.status)


def make_referral(*, stores: Stores, settings: Settings, user: User, draft: ReferralDraft,
                  now: datetime | None = None) -> Referral:
    """Check and store a new referral (status New), tell the receiving side, and audit it as COLLECTION."""
    check_role(user)
    now = now or utcnow()
    problems = draft_problems(draft, today=now.date())
    if problems:
        raise ReferralProblems(problems)
    with referral_session(stores) as session:
        receiver = receiver_for(session, draft.service_id.strip())
        row = _new_row(draft, user, receiver, now)
        session.add(row)
        session.flush()
        _add_change(session, row, None, Status.NEW, user.email, user.partner, now, "Referral made")
        entry = _audit(session, AuditAction.COLLECTION, user, row, "made")
        notices = _notify(session, settings, row, _receiving_recipients(session, row),
                          f"New referral {row.reference}")
        made = _detached(session, row, user)
    _after(stores, settings, entry, notices)
    return made


def view_referral(*, stores: Stores, settings: Settings, user: User, referral_id: str) -> Referral:
    """One referral and its history, audited as CONSULTATION; the receiving side's first view opens it."""
    with referral_session(stores) as session:
        row = _visible(session, stores, user, referral_id)
        notices: list[Notice] = []
        entry = _audit(session, AuditAction.CONSULTATION, user, row, "viewed")
        if row.status == Status.NEW and Side.RECEIVER in sides(user, row) and row.receiving_partner is not None:
            notices = _move(session, settings, row, user, Status.OPENED, "")
        viewed = _detached(session, row, user)
    _after(stores, settings, entry, notices)
    mark_read(stores=stores, email=user.email, referral_id=referral_id)
    return viewed


def change_status(*, stores: Stores, settings: Settings, user: User, referral_id: str, status: str,
                  note: str = "") -> Referral:
    """Move a referral on, if its status and the user's side allow it; audited as ALTERATION."""
    target = _status(status)
    if target in NEEDS_NOTE and not note.strip():
        raise ReferralProblems({"note": f"Give the {NEEDS_NOTE[target]} for making it {target.label}"})
    with referral_session(stores) as session:
        row = _visible(session, stores, user, referral_id)
        notices = _move(session, settings, row, user, target, note.strip())
        entry = _audit(session, AuditAction.ALTERATION, user, row, f"status {target.value}")
        changed = _detached(session, row, user)
    _after(stores, settings, entry, notices)
    return changed


def list_referrals(*, stores: Stores, user: User) -> dict[str, list[ReferralRow]]:
    """The referrals the user's partner made and those it received, newest first; audited as CONSULTATION."""
    check_role(user)
    with referral_session(stores) as session:
        query = (select(ReferralRow).where(or_(ReferralRow.referring_partner == user.partner,
                                               ReferralRow.receiving_partner == user.partner))
                 .order_by(ReferralRow.created_at.desc()))
        rows = list(session.scalars(query))
        session.expunge_all()
    if rows:
        audit.record(stores=stores, action=AuditAction.CONSULTATION, actor=user.email, partner=user.partner,
                     purpose=PURPOSE, what={"referrals": [r.id for r in rows]},
                     justification="listing my organisation's referrals")
    return {"made": [r for r in rows if r.referring_partner == user.partner],
            "received": [r for r in rows if r.receiving_partner == user.partner]}


def move_as_system(session: Session, settings: Settings, row: ReferralRow, target: Status, note: str,
                   actor: str) -> list[Notice]:
    """A change made by a scheduled job (expiry), with notices to both sides."""
    check_transition(Status(row.status), target, frozenset({Side.SYSTEM}))
    return _apply(session, settings, row, target, note, actor, None, _both_sides(session, row))


def _move(session: Session, settings: Settings, row: ReferralRow, user: User, target: Status,
          note: str) -> list[Notice]:
    side = check_transition(Status(row.status), target, sides(user, row))
    recipients = [row.referring_user] if side is Side.RECEIVER else _receiving_recipients(session, row)
    return _apply(session, settings, row, target, note, user.email, user.partner, recipients)


def _apply(session: Session, settings: Settings, row: ReferralRow, target: Status, note: str, actor: str,
           partner: str | None, recipients: list[str]) -> list[Notice]:
    now = utcnow()
    _add_change(session, row, Status(row.status), target, actor, partner, now, note)
    row.status, row.updated_at = target.value, now
    if target is Status.COMPLETED:
        row.outcome = note
    if target in CLOSED:
        row.closed_at = now
    return _notify(session, settings, row, recipients, f"Referral {row.reference} is now {target.label}")


def _both_sides(session: Session, row: ReferralRow) -> list[str]:
    return [row.referring_user, *_receiving_recipients(session, row)]


def _receiving_recipients(session: Session, row: ReferralRow) -> list[str]:
    if row.receiving_partner is None:
        return [row.provider_email] if row.provider_email else []
    roles = sorted(r.value for r in REFERRING_ROLES)
    query = select(UserRow.email).where(UserRow.partner == row.receiving_partner, UserRow.active,
                                        UserRow.role.in_(roles)).order_by(UserRow.email)
    return list(session.scalars(query))


def _notify(session: Session, settings: Settings, row: ReferralRow, recipients: list[str],
            message: str) -> list[Notice]:
    link = f"{settings.link_base}/referrals/{row.id}"
    return add_notices(session, referral_id=row.id, recipients=recipients, message=message, link=link)


def _visible(session: Session, stores: Stores, user: User, referral_id: str) -> ReferralRow:
    """The referral if the user is on one of its sides; otherwise as if it did not exist (and the try audited)."""
    check_role(user)
    row = session.get(ReferralRow, referral_id)
    if row is None or not sides(user, row):
        if row is not None:
            audit.record(stores=stores, action=AuditAction.REFUSAL, actor=user.email, partner=user.partner,
                         purpose=PURPOSE, what={"referral": referral_id, "reason": "not a party"},
                         outcome="refused")
        raise NotFoundError(f"There is no referral {referral_id} that you can see.",
                            hint="Your organisation's referrals are listed at /referrals.")
    return row


def _new_row(draft: ReferralDraft, user: User, receiver: Receiver, now: datetime) -> ReferralRow:
    return ReferralRow(
        id=str(uuid.uuid4()), reference=new_reference(), service_id=receiver.service_id,
        service_name=receiver.service_name, organization_id=receiver.organization_id,
        referring_partner=user.partner, referring_user=user.email, receiving_partner=receiver.partner,
        provider_email=receiver.provider_email, status=Status.NEW.value, urgency=draft.urgency,
        person_name=draft.person_name.strip(), person_date_of_birth=draft.person_date_of_birth,
        person_contact=draft.person_contact.strip(), needs=draft.needs.strip(), notes=draft.notes.strip(),
        consent=draft.consent, consent_by=draft.consent_by.strip() if draft.consent == "given" else "",
        consent_how=draft.consent_how if draft.consent == "given" else "",
        consent_at=draft.consent_at if draft.consent == "given" else None,
        basis_without_consent="" if draft.consent == "given" else draft.basis_without_consent,
        basis_reason="" if draft.consent == "given" else draft.basis_reason.strip(),
        outcome="", created_at=now, updated_at=now, closed_at=None)


def new_reference() -> str:
    """A short reference people can read out: R-7K3M9Q."""
    return "R-" + "".join(secrets.choice(_REFERENCE_LETTERS) for _ in range(6))


def _add_change(session: Session, row: ReferralRow, before: Status | None, after: Status, actor: str,
                partner: str | None, at: datetime, note: str) -> None:
    session.add(ReferralChangeRow(referral_id=row.id, from_status=before.value if before else None,
                                  to_status=after.value, actor=actor, partner=partner, at=at, note=note))


def _audit(session: Session, action: AuditAction, user: User, row: ReferralRow, done: str) -> AuditEntry:
    justification = f"referral {row.reference}, as a party to it" if action is AuditAction.CONSULTATION else None
    return audit.record_in(session, action=action, actor=user.email, partner=user.partner, purpose=PURPOSE,
                           what={"referral": row.id, "reference": row.reference, "done": done},
                           justification=justification)


def _detached(session: Session, row: ReferralRow, user: User) -> Referral:
    session.flush()
    history = list(session.scalars(select(ReferralChangeRow).where(ReferralChangeRow.referral_id == row.id)
                                   .order_by(ReferralChangeRow.number)))
    session.expunge_all()
    return Referral(row, history, sides(user, row))


def _after(stores: Stores, settings: Settings, entry: AuditEntry, notices: list[Notice]) -> None:
    audit.write_anchor_file(stores=stores, entry=entry)
    send_notices(stores=stores, settings=settings, notices=notices)


def _status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        raise ReferralProblems({"status": f"'{text}' is not a referral status; use one of "
                                          f"{', '.join(s.value for s in Status)}"}) from None


def birth_date(text: str) -> date | None:
    """A date of birth typed as YYYY-MM-DD (empty: not known); a wrong one is a problem on its field."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReferralProblems({"person_date_of_birth": "Enter the date of birth as YYYY-MM-DD"}) from None

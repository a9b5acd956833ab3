"""What a referral is, declared once: its statuses, who may move it from one to the next, consent, and
the checks a new referral passes before it is stored. Pure: nothing here touches a store.

Statuses follow the DfE Family Hubs referral (New → Opened → Accepted or Declined) extended to close
the loop (In progress → Completed, Not engaged, Cancelled, Expired). Each allowed change names the
side that may make it: the ``receiver`` (the partner that owns the service), the ``referrer`` (the
referring partner) or the ``system`` (the scheduled expiry job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from wholeplace.errors import UserError


class Status(StrEnum):
    NEW = "new"
    OPENED = "opened"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NOT_ENGAGED = "not_engaged"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Side(StrEnum):
    RECEIVER = "receiver"
    REFERRER = "referrer"
    SYSTEM = "system"


OPEN = frozenset({Status.NEW, Status.OPENED, Status.ACCEPTED, Status.IN_PROGRESS})
CLOSED = frozenset(Status) - OPEN
# status -> {next status: the side that may make the change}
TRANSITIONS: dict[Status, dict[Status, Side]] = {
    Status.NEW: {Status.OPENED: Side.RECEIVER, Status.ACCEPTED: Side.RECEIVER, Status.DECLINED: Side.RECEIVER,
                 Status.CANCELLED: Side.REFERRER, Status.EXPIRED: Side.SYSTEM},
    Status.OPENED: {Status.ACCEPTED: Side.RECEIVER, Status.DECLINED: Side.RECEIVER,
                    Status.CANCELLED: Side.REFERRER, Status.EXPIRED: Side.SYSTEM},
    Status.ACCEPTED: {Status.IN_PROGRESS: Side.RECEIVER, Status.NOT_ENGAGED: Side.RECEIVER,
                      Status.COMPLETED: Side.RECEIVER, Status.CANCELLED: Side.REFERRER},
    Status.IN_PROGRESS: {Status.COMPLETED: Side.RECEIVER, Status.NOT_ENGAGED: Side.RECEIVER,
                         Status.CANCELLED: Side.REFERRER},
}
NEEDS_NOTE = {Status.DECLINED: "reason", Status.COMPLETED: "outcome", Status.CANCELLED: "reason"}
URGENCIES = {"routine": "Routine", "soon": "Soon (within a week)", "urgent": "Urgent (within a working day)"}
CONSENT = {"given": "Consent given", "refused": "Consent refused", "not_sought": "Consent not sought"}
CONSENT_HOW = {"in_person": "In person", "phone": "By phone", "writing": "In writing", "video": "By video call"}
# The one lawful basis for referring without consent (UK GDPR Art 6(1)(e) and 9(2)(g), DPA 2018 Sch 1 para 18).
BASIS_WITHOUT_CONSENT = {"safeguarding": "Safeguarding: a child or adult at risk of harm"}
LIMITS = {"person_name": 200, "person_contact": 500, "needs": 2000, "notes": 4000, "consent_by": 200,
          "basis_reason": 2000}


class TransitionError(UserError):
    """A status change the referral's current status, or the actor's side, does not allow."""

    status = 409


class ReferralProblems(UserError):
    """A new referral or a status change with missing or wrong fields: every problem at once, by field."""

    status = 422

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        listed = "; ".join(f"{field}: {text}" for field, text in problems.items())
        super().__init__(f"The referral cannot be saved: {listed}.", hint="Correct the fields named and send it again.")


@dataclass(frozen=True)
class ReferralDraft:
    """A new referral as the referrer fills it in."""

    service_id: str
    person_name: str
    person_date_of_birth: date | None
    person_contact: str
    needs: str
    notes: str
    urgency: str
    consent: str
    consent_by: str = ""
    consent_how: str = ""
    consent_at: datetime | None = None
    basis_without_consent: str = ""
    basis_reason: str = ""


def draft_problems(draft: ReferralDraft, *, today: date) -> dict[str, str]:
    """Field -> what is wrong, for every problem in ``draft`` (empty when it may be saved)."""
    problems: dict[str, str] = {}
    if not draft.service_id.strip():
        problems["service_id"] = "Choose the service to refer to"
    if not draft.person_name.strip():
        problems["person_name"] = "Enter the person's name"
    if draft.person_date_of_birth is not None and draft.person_date_of_birth > today:
        problems["person_date_of_birth"] = "Date of birth must be in the past"
    if not draft.person_contact.strip():
        problems["person_contact"] = "Enter how the service can contact the person (phone, email or address)"
    if not draft.needs.strip():
        problems["needs"] = "Describe what the person needs help with"
    if draft.urgency not in URGENCIES:
        problems["urgency"] = "Choose how urgent the referral is"
    problems |= _length_problems(draft)
    return problems | consent_problems(draft, today=today)


def consent_problems(draft: ReferralDraft, *, today: date) -> dict[str, str]:
    """Consent given needs who gave it, how and when; without it, only safeguarding with a reason will do."""
    if draft.consent not in CONSENT:
        return {"consent": "Say whether the person consented to the referral"}
    if draft.consent == "given":
        problems = {}
        if not draft.consent_by.strip():
            problems["consent_by"] = "Enter who gave consent (the person, or who gave it for them)"
        if draft.consent_how not in CONSENT_HOW:
            problems["consent_how"] = "Choose how consent was given"
        if draft.consent_at is None or draft.consent_at.date() > today:
            problems["consent_at"] = "Enter the date consent was given (today or earlier)"
        return problems
    if draft.basis_without_consent not in BASIS_WITHOUT_CONSENT:
        return {"basis_without_consent": "Without consent a referral can be made only to safeguard someone: "
                                         "choose safeguarding and give the reason, or do not refer"}
    if not draft.basis_reason.strip():
        return {"basis_reason": "Give the safeguarding reason for referring without consent"}
    return {}


def _length_problems(draft: ReferralDraft) -> dict[str, str]:
    return {name: f"Must be {limit:,} characters or fewer" for name, limit in LIMITS.items()
            if len(getattr(draft, name)) > limit}


def check_transition(current: Status, target: Status, sides: frozenset[Side]) -> Side:
    """The side (of ``sides``) that may move a referral from ``current`` to ``target``, else TransitionError."""
    allowed = TRANSITIONS.get(current, {})
    if target not in allowed:
        choices = ", ".join(s.label for s in allowed) or "nothing: it is closed"
        raise TransitionError(f"A referral that is {current.label} cannot become {target.label}.",
                              hint=f"From {current.label} it can become {choices}.")
    if allowed[target] not in sides:
        raise TransitionError(f"Only the {allowed[target].value} side can make a referral {target.label}.",
                              hint="Reload the referral to see what you can do.")
    return allowed[target]


def next_steps(current: Status, sides: frozenset[Side]) -> list[Status]:
    """What ``sides`` may do next (Opened is never offered: viewing the referral opens it)."""
    return [s for s, who in TRANSITIONS.get(current, {}).items() if who in sides and s is not Status.OPENED]

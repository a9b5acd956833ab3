"""Referrals as service functions: transitions, permissions, consent, audit, notifications, expiry and
retention, on a small seeded directory (Harbour Food Bank is mapped to a partner; Far Hills Food Club's
organisation is not, so it is referred to by email)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.test_directory_seed import seeded_services, uid
from wholeplace.directory.hsds_io import import_directory
from wholeplace.errors import NotFoundError
from wholeplace.governance import audit
from wholeplace.governance.users import User, create_user
from wholeplace.referrals.expiry import add_working_days, erase_closed, expire_overdue, set_service_limits
from wholeplace.referrals.model import (
    CLOSED,
    TRANSITIONS,
    ReferralDraft,
    ReferralProblems,
    Status,
    TransitionError,
)
from wholeplace.referrals.notify import NOT_CONFIGURED, notifications_for, unread_count
from wholeplace.referrals.parties import NotAllowed, map_organisation
from wholeplace.referrals.service import change_status, list_referrals, make_referral, view_referral
from wholeplace.referrals.store import ReferralNotificationRow, ReferralRow, referral_session
from wholeplace.settings import Settings
from wholeplace.store import Stores

REFERRER, RECEIVER = "police-testshire", "council-testshire"
HARBOUR, FAR_HILLS = uid("s-Harbour Food Bank"), uid("s-Far Hills Food Club")


def seed_directory(stores: Stores, folder: Path) -> None:
    """The seeded directory, with Harbour Food Bank's organisation mapped to the receiving partner."""
    feed = folder / "directory.json"
    feed.write_text(json.dumps(seeded_services(filler=2)))
    import_directory(stores=stores, path=feed)
    map_organisation(stores=stores, organization_id=uid("o-Harbour Food Bank"), partner=RECEIVER)


def person(stores: Stores, partner: str, role: str = "practitioner", name: str = "a") -> User:
    return create_user(stores=stores, email=f"{name}.{role}@{partner}.example.org", partner=partner, role=role,
                       password=None)


def draft(service_id: str = HARBOUR, **changes: object) -> ReferralDraft:
    values: dict[str, object] = dict(
        service_id=service_id, person_name="Ada Example", person_date_of_birth=date(1980, 2, 3),
        person_contact="07700 900123", needs="Food for a family of four", notes="Prefers a morning call",
        urgency="soon", consent="given", consent_by="Ada Example", consent_how="in_person",
        consent_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    return ReferralDraft(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
def place(stores: Stores, tmp_path: Path, settings: Settings) -> dict:
    seed_directory(stores, tmp_path)
    return {"referrer": person(stores, REFERRER), "receiver": person(stores, RECEIVER),
            "settings": settings, "stores": stores}


def entries(stores: Stores, action: str) -> list:
    return audit.search(stores=stores, action=action, purpose="referral")[0]


def test_the_loop_closes_with_history_audit_and_notifications(place: dict) -> None:
    stores, settings, referrer, receiver = place["stores"], place["settings"], place["referrer"], place["receiver"]
    made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft())
    assert made.status is Status.NEW and made.row.receiving_partner == RECEIVER and made.row.provider_email is None
    assert unread_count(stores=stores, email=receiver.email) == 1
    assert [e.what for e in entries(stores, "collection")] == [
        {"done": "made", "reference": made.row.reference, "referral": made.row.id}]

    opened = view_referral(stores=stores, settings=settings, user=receiver, referral_id=made.row.id)
    assert opened.status is Status.OPENED and unread_count(stores=stores, email=receiver.email) == 0
    accepted = change_status(stores=stores, settings=settings, user=receiver, referral_id=made.row.id,
                             status="accepted", note="We will call tomorrow")
    assert accepted.status is Status.ACCEPTED
    change_status(stores=stores, settings=settings, user=receiver, referral_id=made.row.id, status="in_progress")
    done = change_status(stores=stores, settings=settings, user=receiver, referral_id=made.row.id,
                         status="completed", note="Food parcel delivered")
    assert done.row.outcome == "Food parcel delivered" and done.row.closed_at is not None

    seen = view_referral(stores=stores, settings=settings, user=referrer, referral_id=made.row.id)
    assert [h.to_status for h in seen.history] == ["new", "opened", "accepted", "in_progress", "completed"]
    assert [h.actor for h in seen.history[1:]] == [receiver.email] * 4
    assert [n.message for n in notifications_for(stores=stores, email=referrer.email)] == [
        f"Referral {made.row.reference} is now {s}" for s in ("Completed", "In progress", "Accepted", "Opened")]
    assert {n.email_status for n in notifications_for(stores=stores, email=referrer.email)} == {NOT_CONFIGURED}
    assert len(entries(stores, "consultation")) == 2 and len(entries(stores, "alteration")) == 3
    assert not any("Ada" in json.dumps(e.what) for e in audit.search(stores=stores)[0])


def test_illegal_changes_are_refused_as_conflicts(place: dict) -> None:
    stores, settings, referrer, receiver = place["stores"], place["settings"], place["referrer"], place["receiver"]
    made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft())
    with pytest.raises(TransitionError, match="Only the receiver side") as refused:
        change_status(stores=stores, settings=settings, user=referrer, referral_id=made.row.id, status="accepted")
    assert refused.value.status == 409
    with pytest.raises(TransitionError, match="cannot become Completed"):
        change_status(stores=stores, settings=settings, user=receiver, referral_id=made.row.id,
                      status="completed", note="done")
    with pytest.raises(ReferralProblems, match="reason"):
        change_status(stores=stores, settings=settings, user=receiver, referral_id=made.row.id, status="declined")
    change_status(stores=stores, settings=settings, user=receiver, referral_id=made.row.id, status="declined",
                  note="Outside our area")
    with pytest.raises(TransitionError, match="it is closed"):
        change_status(stores=stores, settings=settings, user=referrer, referral_id=made.row.id,
                      status="cancelled", note="no longer needed")


def test_only_the_two_sides_practitioners_and_administrators_see_a_referral(place: dict) -> None:
    stores, settings, referrer = place["stores"], place["settings"], place["referrer"]
    made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft())
    outsider = person(stores, "ambulance-testshire")
    with pytest.raises(NotFoundError):
        view_referral(stores=stores, settings=settings, user=outsider, referral_id=made.row.id)
    assert [e.outcome for e in entries(stores, "refusal")] == ["refused"]
    analyst = person(stores, REFERRER, role="analyst")
    with pytest.raises(NotAllowed):
        view_referral(stores=stores, settings=settings, user=analyst, referral_id=made.row.id)
    with pytest.raises(NotAllowed):
        make_referral(stores=stores, settings=settings, user=analyst, draft=draft())
    administrator = person(stores, RECEIVER, role="administrator")
    assert view_referral(stores=stores, settings=settings, user=administrator, referral_id=made.row.id).row.id
    assert list_referrals(stores=stores, user=outsider) == {"made": [], "received": []}
    assert [r.id for r in list_referrals(stores=stores, user=administrator)["received"]] == [made.row.id]


def test_refused_consent_blocks_a_referral_unless_safeguarding_with_a_reason(place: dict) -> None:
    stores, settings, referrer = place["stores"], place["settings"], place["referrer"]
    with pytest.raises(ReferralProblems) as refused:
        make_referral(stores=stores, settings=settings, user=referrer, draft=draft(consent="refused"))
    assert set(refused.value.problems) == {"basis_without_consent"}
    with pytest.raises(ReferralProblems) as no_reason:
        make_referral(stores=stores, settings=settings, user=referrer,
                      draft=draft(consent="refused", basis_without_consent="safeguarding"))
    assert set(no_reason.value.problems) == {"basis_reason"}
    with pytest.raises(ReferralProblems) as incomplete:
        make_referral(stores=stores, settings=settings, user=referrer,
                      draft=draft(consent_by="", consent_how="", person_name=" ", urgency="whenever"))
    assert set(incomplete.value.problems) == {"consent_by", "consent_how", "person_name", "urgency"}
    made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft(
        consent="refused", basis_without_consent="safeguarding", basis_reason="Children at risk of neglect"))
    assert (made.row.consent, made.row.consent_by, made.row.basis_reason) == (
        "refused", "", "Children at risk of neglect")


def test_an_organisation_without_a_partner_is_referred_to_by_email(place: dict) -> None:
    stores, settings, referrer = place["stores"], place["settings"], place["referrer"]
    made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft(FAR_HILLS))
    assert (made.row.receiving_partner, made.row.provider_email) == (None, "help@example.org")
    with referral_session(stores) as session:
        notices = session.query(ReferralNotificationRow).all()
    assert [(n.recipient, n.message) for n in notices] == [("help@example.org", f"New referral {made.row.reference}")]
    # the referrer records the provider's answers for it
    accepted = change_status(stores=stores, settings=settings, user=referrer, referral_id=made.row.id,
                             status="accepted", note="Confirmed by phone")
    assert accepted.status is Status.ACCEPTED
    with pytest.raises(NotFoundError, match="No service"):
        make_referral(stores=stores, settings=settings, user=referrer, draft=draft("no-such-service"))


def test_overdue_referrals_expire_and_both_sides_hear(place: dict) -> None:
    stores, settings, referrer, receiver = place["stores"], place["settings"], place["referrer"], place["receiver"]
    made_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
    old = make_referral(stores=stores, settings=settings, user=referrer, draft=draft(), now=made_at)
    fresh = make_referral(stores=stores, settings=settings, user=referrer, draft=draft(),
                          now=made_at + timedelta(days=10))
    # ten working days after Monday 2 March is Monday 16 March: still in time that day, expired the next
    assert expire_overdue(stores=stores, settings=settings, now=datetime(2026, 3, 16, 20, tzinfo=UTC)) == []
    assert expire_overdue(stores=stores, settings=settings,
                          now=datetime(2026, 3, 17, 8, tzinfo=UTC)) == [old.row.reference]
    seen = view_referral(stores=stores, settings=settings, user=referrer, referral_id=old.row.id)
    assert seen.status is Status.EXPIRED and seen.history[-1].actor == "referral-expiry-job"
    assert unread_count(stores=stores, email=receiver.email) == 3  # two new referrals, and an expiry
    assert view_referral(stores=stores, settings=settings, user=referrer, referral_id=fresh.row.id).status is Status.NEW


def test_a_service_can_have_its_own_expiry_times(place: dict) -> None:
    stores, settings, referrer, receiver = place["stores"], place["settings"], place["referrer"], place["receiver"]
    set_service_limits(stores=stores, service_id=HARBOUR, working_days_unopened=30, days_unaccepted=3)
    made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft(),
                         now=datetime(2026, 3, 2, 9, tzinfo=UTC))
    view_referral(stores=stores, settings=settings, user=receiver, referral_id=made.row.id)  # opened
    assert expire_overdue(stores=stores, settings=settings, now=datetime(2026, 3, 5, 8, tzinfo=UTC)) == []
    assert expire_overdue(stores=stores, settings=settings,
                          now=datetime(2026, 3, 5, 10, tzinfo=UTC)) == [made.row.reference]


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 1)  # Monday 31 August is a bank holiday
    assert add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 16)


def test_retention_erases_only_referrals_closed_long_enough_ago(place: dict) -> None:
    stores, settings, referrer, receiver = place["stores"], place["settings"], place["referrer"], place["receiver"]
    closed = make_referral(stores=stores, settings=settings, user=referrer, draft=draft())
    change_status(stores=stores, settings=settings, user=referrer, referral_id=closed.row.id, status="cancelled",
                  note="Moved away")
    still_open = make_referral(stores=stores, settings=settings, user=referrer, draft=draft())
    with referral_session(stores) as session:
        session.get(ReferralRow, closed.row.id).closed_at = datetime(2024, 1, 15, tzinfo=UTC)  # type: ignore[union-attr]
    assert erase_closed(stores=stores, months=24, today=date(2026, 1, 31)) == 0  # kept from January 2024
    assert erase_closed(stores=stores, months=24, today=date(2026, 2, 1)) == 1
    assert erase_closed(stores=stores, months=24, today=date(2026, 2, 1)) == 0
    with referral_session(stores) as session:
        assert [r.id for r in session.query(ReferralRow).all()] == [still_open.row.id]
        assert session.query(ReferralNotificationRow).filter_by(referral_id=closed.row.id).count() == 0
    erasures = entries(stores, "erasure") + audit.search(stores=stores, action="erasure", purpose="retention")[0]
    assert len(erasures) == 1 and erasures[0].what["referrals"] == [closed.row.id]
    assert audit.verify(stores=stores).ok
    assert receiver  # the receiving side took no part


def test_closed_statuses_are_exactly_those_with_no_way_on() -> None:
    assert {s for s in Status if s not in TRANSITIONS} == CLOSED
    reachable = {Status.NEW} | {t for nexts in TRANSITIONS.values() for t in nexts}
    assert reachable == set(Status)


def test_the_demo_maps_its_partners_organisations_and_leaves_the_voluntary_sector_to_email(stores: Stores) -> None:
    from wholeplace.referrals.parties import DEMO_PARTNERS, map_demo_organisations, organisation_partners
    from wholeplace.synth.directory import organisations, stable_id

    mapping = map_demo_organisations(stores=stores, seed=7)
    assert organisation_partners(stores=stores) == mapping
    assert mapping[stable_id(7, "organization", "council")] == "council-wenlow-vale"
    assert {organisations()[key]["sector"] for key in DEMO_PARTNERS} == {"police", "nhs", "council"}

"""The referral pages end to end on each operational store engine: a practitioner refers a person from a
service, the receiving organisation opens and accepts it, and the referrer sees Accepted; with the
permissions, conflicts, form errors and audit entries that go with it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.support.web_client import AppClient, signed_in
from tests.unit.test_referrals import HARBOUR, RECEIVER, REFERRER, seed_directory
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.query import get_service
from wholeplace.governance import audit
from wholeplace.settings import Settings
from wholeplace.web.app import create_app

FORM = {"person_name": "Ada Example", "person_date_of_birth": "1980-02-03", "person_contact": "07700 900123",
        "needs": "Food for a family of four", "notes": "", "urgency": "soon", "consent": "given",
        "consent_by": "Ada Example", "consent_how": "phone", "consent_at": "2026-03-02"}


@pytest.fixture
def app(operational_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    made = create_app(Settings(data_dir=tmp_path / "data", database_url=operational_url))
    seed_directory(made.state.stores, tmp_path)
    yield made
    made.state.stores.close()


def refer(client: AppClient, **changes: str) -> str:
    """Send the referral form; returns the new referral's address."""
    token = client.csrf_token(f"/referrals/new?service={HARBOUR}")
    response = client.post("/referrals/new", data=FORM | {"service_id": HARBOUR, "csrf_token": token} | changes)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def act(client: AppClient, address: str, status: str, note: str = "") -> int:
    token = client.csrf_token(address)
    return client.post(f"{address}/status", data={"status": status, "note": note, "csrf_token": token}).status_code


def test_refer_open_accept_and_the_referrer_sees_accepted(app: FastAPI) -> None:
    referrer = signed_in(app, role="practitioner", partner=REFERRER, purpose=None)
    receiver = signed_in(app, role="practitioner", partner=RECEIVER, purpose=None)
    form = referrer.get(f"/referrals/new?service={HARBOUR}")
    assert form.status_code == 200 and "Harbour Food Bank" in form.text and "notifications are shown here" in form.text
    address = refer(referrer)
    made = referrer.get(f"{address}?made=1")
    assert "sent." in made.text and ">New<" in made.text

    listed = receiver.get("/referrals")
    assert "Referrals (1 new)" in listed.text and "Ada Example" in listed.text
    opened = receiver.get(address)
    assert ">Opened<" in opened.text and 'id="action-accepted"' in opened.text
    assert act(receiver, address, "accepted", "We will call tomorrow") == 303

    seen = referrer.get(address)
    assert ">Accepted<" in seen.text and "We will call tomorrow" in seen.text
    assert 'id="action-cancelled"' in seen.text and 'id="action-completed"' not in seen.text
    notices = referrer.get("/referrals/notifications").text
    assert re.search(r"Referral R-\w{6} is now Accepted", notices)

    entries = audit.search(stores=app.state.stores, purpose="referral", limit=1000)[0]
    actions = sorted({e.action for e in entries})
    assert actions == ["alteration", "collection", "consultation"]
    assert all("Ada" not in str(e.what) for e in entries)


def test_only_the_two_sides_practitioners_and_administrators_get_in(app: FastAPI) -> None:
    referrer = signed_in(app, role="practitioner", partner=REFERRER, purpose=None)
    address = refer(referrer)
    outsider = signed_in(app, role="practitioner", partner="ambulance-testshire", purpose=None)
    assert outsider.get(address).status_code == 404
    assert act(outsider, address, "cancelled", "Not needed") == 404
    analyst = signed_in(app, role="analyst", partner=REFERRER, purpose=None)
    assert analyst.get(address).status_code == 403
    assert analyst.get("/referrals").status_code == 403
    assert "Referrals" not in analyst.get("/").text.split("</header>")[0]
    administrator = signed_in(app, role="administrator", partner=RECEIVER, purpose=None)
    assert administrator.get(address).status_code == 200


def test_illegal_changes_conflict_and_missing_reasons_are_unprocessable(app: FastAPI) -> None:
    referrer = signed_in(app, role="practitioner", partner=REFERRER, purpose=None)
    receiver = signed_in(app, role="practitioner", partner=RECEIVER, purpose=None)
    address = refer(referrer)
    assert act(referrer, address, "accepted") == 409
    assert act(receiver, address, "completed", "done") == 409
    assert act(receiver, address, "declined") == 422
    assert act(receiver, address, "declined", "Outside our area") == 303
    assert act(referrer, address, "cancelled", "Not needed") == 409
    no_token = referrer.post(f"{address}/status", data={"status": "cancelled", "note": "x"})
    assert no_token.status_code == 403


def test_a_form_with_problems_is_shown_again_with_an_error_summary(app: FastAPI) -> None:
    referrer = signed_in(app, role="practitioner", partner=REFERRER, purpose=None)
    token = referrer.csrf_token(f"/referrals/new?service={HARBOUR}")
    data = FORM | {"service_id": HARBOUR, "csrf_token": token, "consent": "refused", "person_name": ""}
    response = referrer.post("/referrals/new", data=data)
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'href="#person_name"' in response.text and 'href="#basis_without_consent"' in response.text
    assert 'value="07700 900123"' in response.text or "07700 900123" in response.text
    safeguarding = data | {"person_name": "Ada Example", "basis_without_consent": "safeguarding",
                           "basis_reason": "Children at risk of neglect"}
    assert referrer.post("/referrals/new", data=safeguarding).status_code == 303


def test_a_full_or_alerted_service_is_said_so_before_referring(app: FastAPI, tmp_path: Path) -> None:
    stores = app.state.stores
    referrer = signed_in(app, role="practitioner", partner=REFERRER, purpose=None)
    assert 'id="capacity-warning"' not in referrer.get(f"/referrals/new?service={HARBOUR}").text
    service = get_service(stores=stores, service_id=HARBOUR)
    assert service["capacities"][0]["available"] > 0
    emptied = [c | {"available": 0, "maximum": 40, "updated": "2026-03-01T09:00:00Z",
                    "unit": {"id": str(uuid.uuid4()), "name": "food parcels"}} for c in service["capacities"]]
    full = service | {"capacities": emptied, "alert": "Closed on bank holidays"}
    path = tmp_path / "full.json"
    path.write_text(json.dumps([full]))
    import_directory(stores=stores, path=path)
    form = referrer.get(f"/referrals/new?service={HARBOUR}").text
    assert 'id="capacity-warning"' in form and "0 of 40 food parcels free, as of 2026-03-01" in form
    assert "Closed on bank holidays" in form
    assert refer(referrer).startswith("/referrals/")  # a warning, not a refusal: they may keep a waiting list

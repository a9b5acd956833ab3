"""The directory editors' pages over the small seeded directory (its planted duplicate pair, its planted stale
service): merging likely duplicates, providers' proposed edits through the approval queue, and review reminders."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.support.places import settings_in
from tests.support.web_client import signed_in
from tests.unit.test_directory_seed import seeded_services, uid
from wholeplace.directory.duplicates import merges
from wholeplace.directory.freshness import EDITABLE, list_proposals
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.query import get_service
from wholeplace.web.app import create_app
from wholeplace.web.directory_editor_pages import LABELS, shown
from wholeplace.web.directory_pages import long_date

FOOD_BANK = uid("s-Harbour Food Bank")
KEEP, DROP = uid("o-Harbour Food Bank"), uid("o-Harbour Foodbank CIO")
STALE = date(2020, 1, 10)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """A fresh app over the seeded directory: every service checked today except Far Hills Food Club (checked
    on ``STALE``) and Harbour Advice Desk (never checked)."""
    built = create_app(settings_in(tmp_path))
    services = seeded_services(filler=3)
    for service in services:
        service["assured_date"] = date.today().isoformat()
    services[1]["assured_date"] = STALE.isoformat()
    del services[2]["assured_date"]
    (tmp_path / "feed.json").write_text(json.dumps(services))
    import_directory(stores=built.state.stores, path=tmp_path / "feed.json")
    yield built
    built.state.stores.close()


def test_every_editable_field_has_a_label():
    assert set(LABELS) == set(EDITABLE)


def test_a_likely_duplicate_pair_is_merged_by_an_editor(app: FastAPI):
    assert signed_in(app, role="analyst", purpose=None).get("/directory/duplicates").status_code == 403
    editor = signed_in(app, role="practitioner", partner="council-wenlow-vale", purpose=None)
    page = editor.get("/directory/duplicates")
    assert page.status_code == 200 and "1 likely duplicate" in page.text
    assert "Harbour Food Bank" in page.text and "Harbour Foodbank CIO" in page.text
    assert "both have GB-CHC 1100001" in page.text and "similar names" in page.text and "PR12AA" in page.text
    first, second = re.findall(r'name="(?:first|second)_id" value="([^"]+)"', page.text)
    token = editor.csrf_token("/directory/duplicates")
    pair = {"csrf_token": token, "first_id": first, "second_id": second}
    unchosen = editor.post("/directory/duplicates", data=pair)
    assert unchosen.status_code == 422 and "There is a problem" in unchosen.text
    assert 'href="#keep-1"' in unchosen.text and 'id="keep-1-error"' in unchosen.text

    merged = editor.post("/directory/duplicates", data=pair | {"keep": KEEP})
    assert merged.status_code == 303 and merged.headers["location"] == "/directory/duplicates"
    assert get_service(stores=app.state.stores, service_id=uid("s-Harbour Advice Desk"))["organization_id"] == KEEP
    after = editor.get("/directory/duplicates")
    assert "Harbour Foodbank CIO is merged into Harbour Food Bank: 2 records" in after.text
    assert "No likely duplicates." in after.text and 'name="first_id"' not in after.text
    assert re.search(r"Kept <strong>Harbour Food Bank</strong>; removed <span[^>]*>" + DROP, after.text)
    assert [m["merged_by"] for m in merges(stores=app.state.stores)] == ["practitioner@council-wenlow-vale.example.org"]
    assert "is merged into" not in editor.get("/directory/duplicates").text  # the banner is shown once

    again = editor.post("/directory/duplicates", data=pair | {"keep": KEEP})
    assert again.status_code == 404 and f"No organisation has the id {DROP}" in again.text
    assert 'href="#duplicates"' in again.text and len(merges(stores=app.state.stores)) == 1


def as_sent(service: dict, **changes: str) -> dict[str, str]:
    """The proposal form as a browser sends it: every field at its current value, except ``changes``."""
    return {name: shown(service.get(name)) for name in EDITABLE} | changes


def test_a_providers_proposal_waits_for_an_editor_and_approval_applies_it(app: FastAPI):
    stores = app.state.stores
    provider = signed_in(app, role="viewer", partner="vcs-harbour", purpose=None)
    url = f"/directory/services/{FOOD_BANK}/propose"
    assert f'href="{url}"' in provider.get(f"/directory/services/{FOOD_BANK}").text
    form_page = provider.get(url)
    assert form_page.status_code == 200 and 'value="Harbour Food Bank"' in form_page.text
    service = get_service(stores=stores, service_id=FOOD_BANK)
    token = {"csrf_token": provider.csrf_token(url)}
    unchanged = provider.post(url, data=token | as_sent(service))
    assert unchanged.status_code == 422 and "Change at least one field" in unchanged.text
    bad = provider.post(url, data=token | as_sent(service, minimum_age="old", name=""))
    assert bad.status_code == 422 and "Minimum age must be a whole number" in bad.text
    assert "Enter the service&#39;s name" in bad.text and list_proposals(stores=stores) == []

    alert = "Closed on 1 June for a deep clean"
    sent = provider.post(url, data=token | as_sent(service, alert=alert, minimum_age="18", note="New rules"))
    assert sent.status_code == 303 and sent.headers["location"].endswith("/propose?sent=1")
    confirmation = provider.get(sent.headers["location"])
    assert "Sent for approval" in confirmation.text and alert in confirmation.text
    [proposal] = list_proposals(stores=stores)
    assert proposal.changes == {"alert": alert, "minimum_age": 18.0}  # only what differs is proposed

    assert provider.get("/directory/proposals").status_code == 403
    editor = signed_in(app, role="administrator", partner="council-wenlow-vale", purpose=None)
    queue = editor.get("/directory/proposals")
    assert queue.status_code == 200 and "Harbour Food Bank" in queue.text and "New rules" in queue.text
    assert re.search(r"Minimum age</th>\s*<td[^>]*>16</td>\s*<td[^>]*>18</td>", queue.text)
    assert re.search(r"Alert, for example a closure</th>\s*<td[^>]*>\(empty\)</td>\s*<td[^>]*>" + alert, queue.text)
    decide = {"csrf_token": editor.csrf_token("/directory/proposals")}
    unexplained = editor.post("/directory/proposals/1/reject", data=decide | {"reason": "  "})
    assert unexplained.status_code == 422 and 'href="#reason-1"' in unexplained.text
    assert "Give a reason for rejecting this proposal" in unexplained.text
    assert [p.status for p in list_proposals(stores=stores, status=None)] == ["pending"]

    approved = editor.post("/directory/proposals/1/approve", data=decide)
    assert approved.status_code == 303 and approved.headers["location"] == "/directory/proposals?approved=1"
    assert "Proposal 1 for Harbour Food Bank is approved" in editor.get(approved.headers["location"]).text
    assert "No pending proposals." in editor.get("/directory/proposals").text
    assert "Closed on 1 June" in editor.get("/directory/proposals?status=approved").text
    page = provider.get(f"/directory/services/{FOOD_BANK}")
    assert alert in page.text and "From 18" in page.text
    assert f"Last checked {long_date(date.today())} by administrator@council-wenlow-vale.example.org" in page.text
    twice = editor.post("/directory/proposals/1/approve", data=decide)
    assert twice.status_code == 422 and "was approved by administrator@" in twice.text
    assert "Approved by administrator@" in provider.get(sent.headers["location"]).text

    second = provider.post(url, data=token | as_sent(get_service(stores=stores, service_id=FOOD_BANK),
                                                     wait_time="None at all"))
    reason = "Waiting times are set by the council's contract"
    rejected = editor.post("/directory/proposals/2/reject", data=decide | {"reason": reason})
    assert rejected.status_code == 303 and rejected.headers["location"] == "/directory/proposals?rejected=2"
    assert "Proposal 2 for Harbour Food Bank is rejected" in editor.get(rejected.headers["location"]).text
    assert reason.replace("'", "&#39;") in provider.get(second.headers["location"]).text
    assert "wait_time" not in get_service(stores=stores, service_id=FOOD_BANK)


def test_review_reminders_list_stale_organisations(app: FastAPI):
    editor = signed_in(app, role="practitioner", purpose=None)
    page = editor.get("/directory/reviews")
    assert page.status_code == 200 and "2 services at 2 organisations due for review" in page.text
    overdue = f"{(date.today() - STALE).days:,}"
    assert re.search(r"Far Hills Food Club</a></th>\s*<td[^>]*>10 January 2020</td>\s*<td[^>]*>" + overdue,
                     page.text)
    assert "Harbour Foodbank CIO" in page.text and "never checked" in page.text
    assert "Advice point" not in page.text  # checked today
    everything = editor.get("/directory/reviews?days=0")
    assert "6 services at 6 organisations due for review" in everything.text
    bad = editor.get("/directory/reviews?days=soon")
    assert bad.status_code == 400 and 'href="#days"' in bad.text
    assert signed_in(app, role="ig_officer", purpose=None).get("/directory/reviews").status_code == 403

"""The directory pages over the demo place's directory and pathways (installed as the demo installs them):
search by need and postcode, a service's page, reporting a problem, and pathways with versioned edits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.support.places import settings_in
from tests.support.web_client import signed_in
from wholeplace.directory.pathways import list_pathways
from wholeplace.governance import audit
from wholeplace.synth.demo import _add_directory
from wholeplace.web.app import create_app

SEED = 20260101
SHELTER = "XV5 1BR"  # the postcode of the demo night shelter's venue


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("directory")
    built = create_app(settings_in(folder))
    _add_directory(built.state.stores, folder / "demo-source", SEED)
    _add_directory(built.state.stores, folder / "demo-source", SEED)  # reusing the demo adds nothing
    yield built
    built.state.stores.close()


def test_the_demo_installs_the_directory_and_pathways_once(app: FastAPI, tmp_path: Path):
    pathways = list_pathways(stores=app.state.stores)
    assert len(pathways) >= 7 * 2 * 3  # seven situations, in and out of hours, every locality
    assert {p["version"] for p in pathways} == {1}


def test_search_by_need_and_postcode_needs_no_purpose(app: FastAPI):
    client = signed_in(app, role="viewer", purpose=None)
    page = client.get(f"/directory?need=sleep-tonight&postcode={SHELTER}")
    assert page.status_code == 200
    assert "Wenlow Night Shelter" in page.text and "Covers this area (Wenlow Vale)" in page.text
    assert re.search(r"\d+ services? found", page.text) and "Last checked" in page.text
    first = re.search(r'href="/directory/services/([0-9a-f-]+)">([^<]+)</a>', page.text)
    assert first and first.group(2) == "Wenlow Night Shelter"  # its venue is at that postcode
    service = client.get(f"/directory/services/{first.group(1)}")
    assert service.status_code == 200
    assert f'href="/referrals/new?service={first.group(1)}"' in service.text
    assert "Opening times" in service.text and "Every day 20:00 to 24:00" in service.text


def test_a_bad_search_is_explained_on_the_page(app: FastAPI):
    client = signed_in(app, role="practitioner", purpose=None)
    page = client.get("/directory?postcode=ZZ9+9ZZ")
    assert page.status_code == 400 and "There is a problem" in page.text and "ZZ9 9ZZ" in page.text


def test_a_reported_problem_reaches_the_editors_and_the_audit_log(app: FastAPI):
    reporter = signed_in(app, role="analyst", purpose=None)
    page = reporter.get(f"/directory?postcode={SHELTER}")
    service_id = re.search(r'href="/directory/services/([0-9a-f-]+)"', page.text).group(1)
    form = f"/directory/services/{service_id}/problems"
    token = reporter.csrf_token(form)
    empty = reporter.post(form, data={"csrf_token": token})
    assert empty.status_code == 422 and "Select what is wrong" in empty.text
    sent = reporter.post(form, data={"csrf_token": token, "kind": "hours", "detail": "Opens at 19:00 now."})
    assert sent.status_code == 303 and "reported=" in sent.headers["location"]
    assert reporter.get("/directory/problems").status_code == 403
    editor = signed_in(app, role="administrator", purpose=None)
    listed = editor.get("/directory/problems")
    assert "Opens at 19:00 now." in listed.text
    entries, _ = audit.search(stores=app.state.stores, action="collection")
    assert any(e.what.get("service") == service_id for e in entries)


def test_a_pathway_shows_the_threshold_questions_and_linked_services(app: FastAPI):
    client = signed_in(app, role="viewer", partner="council-wenlow-vale", purpose=None)
    page = client.get("/directory/pathways/mental-health-crisis?locality=Tarnbury&time=out_of_hours")
    assert page.status_code == 200
    assert "real and immediate risk to someone" in page.text and "listening line" in page.text.lower()
    assert page.text.count('href="/directory/services/') >= 3
    assert "Edit this pathway" not in page.text  # viewers read, editors edit
    assert client.get("/directory/pathways/no-such-thing").status_code == 404


def test_editing_a_pathway_adds_an_audited_version(app: FastAPI):
    editor = signed_in(app, role="practitioner", partner="council-wenlow-vale", purpose=None)
    url = "/directory/pathways/domestic-abuse/edit?locality=Wenlow&time=in_hours"
    form_page = editor.get(url)
    assert form_page.status_code == 200
    token = editor.csrf_token(url)
    steps = re.search(r'<textarea[^>]*name="steps"[^>]*>\s*([^<]*)</textarea>', form_page.text).group(1)
    base = {"csrf_token": token, "locality": "Wenlow", "time": "in_hours", "lead": "Specialist services",
            "questions": "Is someone in danger now?"}
    bad = editor.post("/directory/pathways/domestic-abuse/edit", data=base | {"steps": "shout | | loudly"})
    assert bad.status_code == 422 and "steps, line 1" in bad.text.lower() and "Say what changed" in bad.text
    saved = editor.post("/directory/pathways/domestic-abuse/edit",
                        data=base | {"steps": steps.replace("&#39;", "'").replace("&amp;", "&"),
                                     "note": "Shorter questions agreed at the partnership meeting"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("saved=2")
    shown = editor.get(saved.headers["location"])
    assert "Is someone in danger now?" in shown.text and "Version 2" in shown.text and "Earlier versions" in shown.text
    entries, _ = audit.search(stores=app.state.stores, action="alteration")
    assert any(e.what.get("pathway") and e.what.get("version") == 2 for e in entries)

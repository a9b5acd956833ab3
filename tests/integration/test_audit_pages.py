"""The governance officer's audit pages: search, chain status, access review, audited export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.police_files import street_row, write_street_file
from tests.support.web_client import signed_in
from wholeplace.governance import audit
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.web.app import create_app


@pytest.fixture
def app(settings: Settings, tmp_path) -> Iterator:
    application = create_app(settings)
    stores = application.state.stores
    path = write_street_file(tmp_path / "a.csv", [street_row("2021-01")] * 3)
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=[path], settings=settings, actor="cli:loader")
    yield application
    stores.close()


def test_the_officer_sees_entries_chain_status_and_access_review(app) -> None:
    page = signed_in(app, role="ig_officer").get("/audit")
    assert page.status_code == 200
    assert "Intact" in page.text and "collection" in page.text and "cli:loader" in page.text
    assert 'id="review"' in page.text
    filtered = signed_in(app, role="ig_officer", partner="council-x").get("/audit?action=refusal")
    assert "0 entries" in filtered.text


def test_an_unknown_action_is_a_clear_error(app) -> None:
    response = signed_in(app, role="administrator").get("/audit?action=drop table")
    assert response.status_code in (400, 422) and "no audit action" in response.text


def test_the_export_is_csv_and_is_itself_recorded_as_a_disclosure(app) -> None:
    client = signed_in(app, role="ig_officer")
    response = client.get("/audit/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].startswith("sequence,")
    [entry], _ = audit.search(stores=app.state.stores, action="disclosure")
    assert entry.actor == "ig_officer@police-testshire-police.example.org" and entry.what["export"] == "audit log"


def test_a_broken_chain_is_shown_as_broken(app) -> None:
    from sqlalchemy import text

    with app.state.stores.session() as session:
        session.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE sequence = 1"))
    page = signed_in(app, role="ig_officer").get("/audit")
    assert "Broken" in page.text and "First bad entry: 1" in page.text


def test_sign_ins_and_refused_sign_ins_are_in_the_log(app) -> None:
    from tests.support.web_client import AppClient

    signed_in(app, role="analyst")
    AppClient(app).sign_in("analyst@police-testshire-police.example.org", "not the password")
    entries, _ = audit.search(stores=app.state.stores, action="sign_in")
    assert [(e.actor, e.outcome, e.what["method"]) for e in entries] == [
        ("analyst@police-testshire-police.example.org", "refused", "password"),
        ("analyst@police-testshire-police.example.org", "allowed", "password")]

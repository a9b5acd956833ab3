"""Keeping the directory fresh: review reminders group overdue services by organisation, and provider
edits wait in the queue until approved (applied, searchable, checked today) or rejected (unchanged)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.test_directory_seed import seeded_services, uid
from wholeplace.cli.main import app
from wholeplace.directory.freshness import (
    approve_proposal,
    list_proposals,
    propose_change,
    reject_proposal,
    review_reminders,
)
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.query import get_service, parse_query, service_page
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store.stores import Stores

FOOD_BANK = uid("s-Harbour Food Bank")


def load(stores: Stores, tmp_path: Path) -> None:
    services = seeded_services(filler=4)
    services[1]["assured_date"] = "2024-01-10"  # Far Hills Food Club: long overdue
    del services[2]["assured_date"]  # Harbour Advice Desk: never checked
    services[0]["organization"]["email"] = "hello@harbour.example"
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(services))
    import_directory(stores=stores, path=path)


def test_reminders_list_overdue_services_by_organisation(stores_on_each_engine: Stores, tmp_path: Path):
    load(stores_on_each_engine, tmp_path)
    # Every seeded service was checked on 2025-05-01 except the two planted above.
    due = review_reminders(stores=stores_on_each_engine, days=180, today=date(2025, 8, 1))
    assert [(r.organization_name, [s.name for s in r.services]) for r in due] == [
        ("Far Hills Trust", ["Far Hills Food Club"]), ("Harbour Foodbank CIO", ["Harbour Advice Desk"])]
    assert due[0].services[0].days_unchecked == (date(2025, 8, 1) - date(2024, 1, 10)).days
    assert due[1].services[0].last_checked is None and due[1].services[0].days_unchecked is None
    later = review_reminders(stores=stores_on_each_engine, days=180, today=date(2026, 1, 1))
    assert sum(len(r.services) for r in later) == 7  # everything is overdue by then
    harbour = next(r for r in later if r.organization_name == "Harbour Food Bank")
    assert harbour.email == "hello@harbour.example"
    with pytest.raises(UserError, match="0 or more"):
        review_reminders(stores=stores_on_each_engine, days=-1)


def test_an_approved_proposal_changes_the_service_and_marks_it_checked(stores_on_each_engine: Stores,
                                                                         tmp_path: Path):
    stores = stores_on_each_engine
    load(stores, tmp_path)
    proposal = propose_change(stores=stores, service_id=FOOD_BANK, by="manager@harbour.example",
                              changes={"name": "Harbour Community Pantry", "minimum_age": "18",
                                       "status": "temporarily closed"}, note="Renamed in June")
    assert [p.number for p in list_proposals(stores=stores)] == [proposal.number]
    assert get_service(stores=stores, service_id=FOOD_BANK)["name"] == "Harbour Food Bank"  # not yet applied
    approved = approve_proposal(stores=stores, number=proposal.number, by="editor@council.example",
                                today=date(2025, 9, 2))
    assert (approved.status, approved.decided_by) == ("approved", "editor@council.example")
    service = get_service(stores=stores, service_id=FOOD_BANK)
    assert (service["name"], service["minimum_age"], service["status"]) == ("Harbour Community Pantry", 18.0,
                                                                           "temporarily closed")
    assert (service["assured_date"], service["assurer_email"]) == ("2025-09-02", "editor@council.example")
    found = service_page(stores=stores, query=parse_query({"search": "pantry"}))
    assert [s["id"] for s in found["contents"]] == [FOOD_BANK]  # the search rows follow the change
    assert list_proposals(stores=stores) == []
    with pytest.raises(UserError, match=r"approved by editor@council\.example already"):
        reject_proposal(stores=stores, number=proposal.number, by="other@council.example", reason="late")


def test_a_rejected_proposal_keeps_its_reason_and_changes_nothing(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    load(stores, tmp_path)
    proposal = propose_change(stores=stores, service_id=FOOD_BANK, by="p@example.org", changes={"alert": "Closed"})
    with pytest.raises(UserError, match="reason"):
        reject_proposal(stores=stores, number=proposal.number, by="editor@council.example", reason=" ")
    rejected = reject_proposal(stores=stores, number=proposal.number, by="editor@council.example",
                               reason="The hall is open; please phone us.")
    assert (rejected.status, rejected.reason) == ("rejected", "The hall is open; please phone us.")
    assert "alert" not in get_service(stores=stores, service_id=FOOD_BANK)
    assert [p.status for p in list_proposals(stores=stores, status=None)] == ["rejected"]


def test_bad_proposals_are_refused_naming_every_field(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    load(stores, tmp_path)
    with pytest.raises(UserError) as caught:
        propose_change(stores=stores, service_id=FOOD_BANK, by="p@example.org",
                       changes={"id": "x", "status": "open", "maximum_age": "old"})
    message = str(caught.value)
    assert "'id' cannot be edited" in message and "status 'open'" in message and "maximum_age must be" in message
    with pytest.raises(NotFoundError):
        propose_change(stores=stores, service_id="no-such-service", by="p@example.org", changes={"alert": "x"})
    with pytest.raises(NotFoundError, match="no proposal number 99"):
        approve_proposal(stores=stores, number=99, by="editor@council.example")
    assert list_proposals(stores=stores, status=None) == []


def test_the_cli_runs_the_queue_and_the_reminders(tmp_path: Path):
    data = ["--data-dir", str(tmp_path / "data")]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(seeded_services(filler=1)))
    runner = CliRunner()
    assert runner.invoke(app, ["directory", "import", str(feed), *data]).exit_code == 0
    due = runner.invoke(app, ["directory", "reminders", "--days", "0", *data])
    assert due.exit_code == 0 and "Harbour Food Bank" in due.output and "last checked 2025-05-01" in due.output
    queued = runner.invoke(app, ["directory", "propose", FOOD_BANK, "alert=Closed on Friday", "--by",
                                 "p@example.org", *data])
    assert queued.exit_code == 0, queued.output
    listed = runner.invoke(app, ["directory", "proposals", *data])
    assert "alert='Closed on Friday'" in listed.output and "pending" in listed.output
    assert runner.invoke(app, ["directory", "approve", "1", "--by", "editor@council.example", *data]).exit_code == 0
    assert "No pending proposals." in runner.invoke(app, ["directory", "proposals", *data]).output
    again = runner.invoke(app, ["directory", "reject", "1", "--by", "e@x.org", "--reason", "no", *data])
    assert again.exit_code == 2 and "already" in again.output
    bad = runner.invoke(app, ["directory", "propose", FOOD_BANK, "alert", "--by", "p@example.org", *data])
    assert bad.exit_code == 2 and "field=value" in bad.output

"""Practitioner search: open now with exceptions, bank holidays and temporary closures; needs mapped to
taxonomy terms; distance and service-area coverage; the filters, against planted services."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_directory_seed import FOOD, seeded_services, uid
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.opening import LONDON, open_state
from wholeplace.directory.search import Need, load_needs, parse_form, search_services
from wholeplace.errors import UserError
from wholeplace.store.stores import Stores
from wholeplace.synth.directory import DATA, term_id

WEDNESDAY = datetime(2025, 12, 3, 10, 0, tzinfo=LONDON)  # an ordinary Wednesday


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=LONDON)


def weekly(byday: str, opens: str, closes: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"{byday}-{opens}", "freq": "WEEKLY", "byday": byday, "opens_at": opens, "closes_at": closes} | extra


def office(**extra: Any) -> dict[str, Any]:
    return {"id": "s", "status": "active", "schedules": [weekly("MO,TU,WE,TH,FR", "09:00", "17:00")]} | extra


def test_weekly_slots_say_until_when_and_when_next():
    assert open_state(office(), WEDNESDAY).label == "Open until 17:00"
    assert open_state(office(), at("2025-12-03", "18:00")).label == "Closed: opens tomorrow at 09:00"
    assert open_state(office(), at("2025-12-05", "18:00")).label == "Closed: opens Monday at 09:00"
    assert open_state(office(), at("2025-12-03", "08:30")).label == "Closed: opens at 09:00"


def test_slots_that_meet_run_on_and_every_hour_is_open_24_hours():
    night = {"status": "active", "schedules": [weekly("MO,TU,WE,TH,FR,SA,SU", "20:00", "24:00"),
                                               weekly("MO,TU,WE,TH,FR,SA,SU", "00:00", "08:00")]}
    assert open_state(night, at("2025-12-03", "23:30")).label == "Open until 08:00 tomorrow"
    always = {"status": "active", "schedules": [weekly("MO,TU,WE,TH,FR,SA,SU", "00:00", "24:00")]}
    assert open_state(always, WEDNESDAY).label == "Open 24 hours"


def test_an_exception_replaces_or_closes_a_day():
    closed = office(schedules=office()["schedules"] + [{"id": "x", "valid_from": "2025-12-03",
                                                         "valid_to": "2025-12-03", "description": "Staff training"}])
    state = open_state(closed, WEDNESDAY)
    assert state.open is False and state.why == "exception"
    assert state.label == "Closed today: opens tomorrow at 09:00"
    short = office(schedules=office()["schedules"] + [{"id": "y", "dtstart": "2025-12-03", "opens_at": "09:00",
                                                        "closes_at": "12:00"}])
    assert open_state(short, WEDNESDAY).label == "Open until 12:00"
    assert open_state(short, at("2025-12-03", "13:00")).open is False


def test_bank_holidays_close_services_that_do_not_open_every_day():
    christmas = at("2025-12-25", "10:00")  # a Thursday
    state = open_state(office(), christmas)
    assert state.open is False and state.why == "bank holiday"
    assert state.label == "Closed today (bank holiday): opens Monday at 09:00"  # Boxing Day is one too
    always = {"status": "active", "schedules": [weekly("MO,TU,WE,TH,FR,SA,SU", "08:00", "20:00")]}
    assert open_state(always, christmas).label == "Open until 20:00"
    opened = office(schedules=office()["schedules"] + [{"id": "z", "valid_from": "2025-12-25",
                                                         "valid_to": "2025-12-25", "opens_at": "10:00",
                                                         "closes_at": "14:00"}])
    assert open_state(opened, christmas).label == "Open until 14:00"


def test_a_temporary_closure_wins_and_names_its_date():
    closed = office(status="temporarily closed", alert="Temporarily closed until 2026-01-12 while refurbished.")
    state = open_state(closed, WEDNESDAY)
    assert (state.open, state.label) == (False, "Temporarily closed until 12 January 2026")
    assert open_state(office(schedules=[]), WEDNESDAY).open is None


def test_validity_dates_limit_weekly_slots():
    winter = office(schedules=[weekly("WE", "10:00", "16:00", valid_from="2025-11-01", valid_to="2026-03-31")])
    assert open_state(winter, WEDNESDAY).open is True
    assert open_state(winter, at("2026-04-01", "11:00")).open is False


def test_every_need_names_the_taxonomy_terms_of_its_codes():
    needs = load_needs()
    with (DATA / "needs.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["need_id"]: row for row in csv.DictReader(handle)}
    assert len(needs) == len(rows) > 30
    for need in needs:
        assert need.term_ids == tuple(term_id(code) for code in rows[need.id]["term_codes"].split(";"))


@pytest.fixture
def seeded(stores: Stores, tmp_path: Path) -> Stores:
    services = seeded_services(filler=6)
    services[0]["languages"] = [{"id": uid("lang-pl"), "code": "pl", "name": "Polish"}]
    services[0]["cost_options"] = [{"id": uid("cost"), "option": "Free", "amount": 0}]
    services[0]["schedules"][0]["attending_type"] = "in person"
    services[0]["x_referral_route"] = "both"
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(services), encoding="utf-8")
    import_directory(stores=stores, path=path)
    return stores


FOOD_NEED = (Need("food", "Food", (FOOD["id"],), "Food and meals"),)
TUESDAY = at("2025-12-02", "11:00")


def find(stores: Stores, **params: str) -> list[Any]:
    form = parse_form(params, needs=FOOD_NEED)
    return search_services(stores=stores, form=form, now=TUESDAY, needs=FOOD_NEED).results


def test_need_and_postcode_find_the_planted_service_and_leave_the_far_one(seeded: Stores):
    near = find(seeded, need="food", postcode="PR1 2AA")
    assert [r.name for r in near] == ["Harbour Food Bank"]
    assert near[0].match == "distance" and near[0].distance_m < 10  # the postcode: the mean of its two venues
    assert near[0].state.label == "Open until 14:00" and str(near[0].last_checked) == "2025-05-01"
    wide = find(seeded, need="food", postcode="PR1 2AA", distance_km="50")
    far = next(r for r in wide if r.name == "Far Hills Food Club")
    assert far.distance_m == pytest.approx(40_100, rel=0.01)  # 0.361 degrees of latitude north
    assert [r.name for r in wide] == ["Harbour Food Bank", "Far Hills Food Club"]  # nearest first


def test_a_position_searches_like_a_postcode(seeded: Stores):
    names = [r.name for r in find(seeded, need="food", latitude="54.12", longitude="-2.70", distance_km="1")]
    assert names == ["Far Hills Food Club"]


def test_a_service_area_covering_the_place_matches_by_coverage(stores: Stores, tmp_path: Path):
    services = seeded_services(filler=0)
    far = services[1]
    square = {"type": "Polygon", "coordinates": [[[-2.8, 53.7], [-2.6, 53.7], [-2.6, 53.8], [-2.8, 53.8],
                                                  [-2.8, 53.7]]]}
    far["service_areas"] = [{"id": uid("area"), "name": "Preston", "extent": json.dumps(square),
                             "extent_type": "geojson"}]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(services), encoding="utf-8")
    import_directory(stores=stores, path=path)
    found = {r.name: r for r in find(stores, need="food", postcode="PR1 2AA")}
    assert found["Harbour Food Bank"].match == "distance"
    assert (found["Far Hills Food Club"].match, found["Far Hills Food Club"].area) == ("coverage", "Preston")


def test_filters_all_hold(seeded: Stores):
    assert [r.name for r in find(seeded, need="food", language="Polish")] == ["Harbour Food Bank"]
    assert [r.name for r in find(seeded, need="food", free="1", mode="in_person")] == ["Harbour Food Bank"]
    assert [r.name for r in find(seeded, need="food", accepts_referrals="on")] == ["Harbour Food Bank"]
    assert {r.name for r in find(seeded, need="food", open_now="1")} == {"Harbour Food Bank",
                                                                         "Far Hills Food Club"}
    assert find(seeded, need="food", age="70") == []  # both take people aged 16 to 65
    assert find(seeded, need="food", language="Polish", age="70") == []  # AND, not OR


@pytest.mark.parametrize(("params", "message"), [
    ({"age": "old"}, "Age must be a number"),
    ({"latitude": "53.7"}, "both latitude and longitude"),
    ({"distance_km": "500"}, "Distance must be between"),
    ({"need": "unicorns"}, "'unicorns' is not a need"),
    ({"mode": "pigeon"}, "not a way services are delivered"),
])
def test_bad_form_values_are_named(params: dict[str, str], message: str):
    with pytest.raises(UserError, match=message):
        parse_form(params, needs=FOOD_NEED)


def test_an_unknown_postcode_says_so(seeded: Stores):
    with pytest.raises(UserError, match="ZZ9 9ZZ"):
        find(seeded, postcode="ZZ9 9ZZ")

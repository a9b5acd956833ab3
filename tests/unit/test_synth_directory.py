"""The demo directory: every service valid against the Open Referral UK 3.0 service schema, a
realistic mix across localities and needs, venues inside the place, pathways linked to services."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import shapely
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import require_shared
from wholeplace.synth.directory import (
    DATA,
    demo_pathways,
    directory_services,
    service_kinds,
    taxonomy_terms,
    term_id,
    write_directory,
)
from wholeplace.synth.place import Place, build_place

pytestmark = pytest.mark.shared

SEED = 20260101
SCHEMA_BASE = "https://schema.openreferraluk.test/3.0/"


@pytest.fixture(scope="module")
def place() -> Place:
    return build_place(SEED, (2023, 2024))


@pytest.fixture(scope="module")
def services(place: Place) -> list[dict[str, Any]]:
    return directory_services(place, SEED)


def _service_validator() -> Draft202012Validator:
    folder = require_shared("reference/hsds/oruk-uk-profile-3.0/schema")
    resources = [(SCHEMA_BASE + path.name, Resource.from_contents(json.loads(path.read_text()),
                                                                  default_specification=DRAFT202012))
                 for path in sorted(folder.glob("*.json")) if path.name != "openapi.json"]
    registry = Registry().with_resources(resources)
    return Draft202012Validator({"$ref": SCHEMA_BASE + "service.json"}, registry=registry,
                                format_checker=FormatChecker())


def test_every_service_validates_against_the_uk_service_schema(services: list[dict[str, Any]]) -> None:
    validator = _service_validator()
    problems = [f"{s['name']}: {e.json_path}: {e.message}" for s in services for e in validator.iter_errors(s)]
    assert problems == []


def test_the_schema_check_catches_a_broken_service(services: list[dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(services[0]))
    broken["status"] = "open"
    broken["schedules"][0]["freq"] = "DAILY"
    del broken["service_at_locations"][:]
    broken["organization"].pop("name")
    assert len(list(_service_validator().iter_errors(broken))) == 3


def test_about_300_services_with_unique_ids(services: list[dict[str, Any]]) -> None:
    assert 250 <= len(services) <= 350
    ids = [s["id"] for s in services]
    assert len(set(ids)) == len(ids)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ids(place: Place, tmp_path: Path) -> None:
    first = write_directory(place, SEED, tmp_path / "a.json").read_bytes()
    assert write_directory(place, SEED, tmp_path / "b.json").read_bytes() == first
    other = {s["id"] for s in directory_services(place, SEED + 1)}
    assert other.isdisjoint(s["id"] for s in json.loads(first))


def test_partners_and_voluntary_sector_mix(services: list[dict[str, Any]]) -> None:
    sectors = Counter(_sector(s["organization"]["name"]) for s in services)
    assert sectors["vcs"] > len(services) / 2
    assert min(sectors["police"], sectors["nhs"], sectors["council"]) >= 10


def _sector(name: str) -> str:
    if "Constabulary" in name or "Police" in name:
        return "police"
    return "nhs" if "NHS" in name else "council" if name == "Wenlow Vale Council" else "vcs"


def test_opening_hours_mix(services: list[dict[str, Any]]) -> None:
    always = [s for s in services if any(x["byday"] == "MO,TU,WE,TH,FR,SA,SU" and x["opens_at"] == "00:00"
                                         and x["closes_at"] == "24:00" for x in s["schedules"])]
    weekends = [s for s in services if any(d in x["byday"] for x in s["schedules"] for d in ("SA", "SU"))]
    closed = [s for s in services if s["status"] == "temporarily closed"]
    assert len(always) >= 10
    assert len(services) - len(weekends) > len(services) / 2  # most are closed at weekends
    assert 1 <= len(closed) <= 20 and all(s["alert"] and s["schedules"][0]["notes"] for s in closed)
    assert any(x["freq"] == "MONTHLY" for s in services for x in s["schedules"])
    assert all(s["schedules"] for s in services)


def test_costs_ages_and_capacity(services: list[dict[str, Any]]) -> None:
    free = [s for s in services if s["cost_options"][0]["amount"] == 0]
    assert 0.7 * len(services) < len(free) < len(services)
    assert any(s.get("maximum_age") == 17 for s in services) and any(s.get("minimum_age") == 60 for s in services)
    beds = [c for s in services for c in s.get("capacities", [])]
    assert beds and all(0 <= c["available"] <= c["maximum"] for c in beds)


def test_every_neighbourhood_has_local_venues_inside_it(services: list[dict[str, Any]], place: Place) -> None:
    polygons = place.polygons("msoa")
    per_hood = Counter()
    for service in services:
        key = service["x_service_key"]
        if "@X02" not in key:
            continue
        hood = int(key.split("@X02")[1][:6]) - 1
        for at in service["service_at_locations"]:
            location = at["location"]
            assert shapely.contains_xy(polygons[hood], location["longitude"], location["latitude"]), service["name"]
            assert location["addresses"][0]["postal_code"].startswith(f"XV{hood + 1} ")
            per_hood[hood] += 1
    assert set(per_hood) == set(range(place.neighbourhoods.height))
    assert min(per_hood.values()) >= 8


def test_every_venue_lies_in_the_place_and_every_district_has_services(services: list[dict[str, Any]],
                                                                      place: Place) -> None:
    outline = shapely.coverage_union_all(place.polygons("lad"))
    locations = {at["location"]["id"]: at["location"] for s in services for at in s["service_at_locations"]}
    assert len(locations) >= 60
    assert all(shapely.contains_xy(outline, x["longitude"], x["latitude"]) for x in locations.values())
    assert sum(x.get("external_identifier_type") == "UPRN" for x in locations.values()) > len(locations) / 2
    areas = Counter(s["service_areas"][0]["name"] for s in services)
    assert all(areas[name] >= 20 for name in place.districts["name"])


def test_taxonomy_subset_matches_the_published_open_eligibility_file() -> None:
    root = ET.parse(require_shared("reference/hsds/taxonomies/open-eligibility-taxonomy.xml")).getroot()
    published: dict[str, set[tuple[str, str]]] = {}

    def walk(element: ET.Element, parent: str) -> None:
        for child in element:
            if child.get("id") and child.tag != "category":
                published.setdefault(child.get("id", ""), set()).add((child.get("title", ""), parent))
                walk(child, child.get("id", ""))
            else:
                walk(child, parent)

    walk(root, "")
    for code, term in taxonomy_terms().items():
        parent = next((c for c, t in taxonomy_terms().items() if t["id"] == term.get("parent_id")), "")
        assert (term["name"], parent) in published[code], code


def test_needs_cover_the_directory_and_name_real_terms(services: list[dict[str, Any]]) -> None:
    with (DATA / "needs.csv").open(encoding="utf-8", newline="") as handle:
        needs = list(csv.DictReader(handle))
    tagged = {a["taxonomy_term"]["code"] for s in services for a in s["attributes"]}
    assert len(needs) >= 30
    for need in needs:
        codes = need["term_codes"].split(";")
        assert need["taxonomy_term_ids"].split(";") == [term_id(c) for c in codes], need["need_id"]
        assert tagged.intersection(codes), f"no service meets the need {need['need']!r}"
        assert need["explanation"]


def test_every_kind_of_need_in_the_brief_has_services(services: list[dict[str, Any]]) -> None:
    terms = Counter(a["taxonomy_term"]["name"] for s in services for a in s["attributes"])
    for name in ("Psychiatric Emergency Services", "Help Find Missing Persons", "Help Escape Violence",
                 "Help Find Housing", "Addiction & Recovery", "Food Pantry", "Credit Counseling",
                 "Government Benefits", "Relief for Caregivers", "Citizenship & Immigration", "Seniors", "Teens",
                 "Physical Disability", "Abuse or Neglect Survivors", "Support Groups"):
        assert terms[name] >= 1, name


def test_pathways_cover_every_locality_situation_and_time_band(services: list[dict[str, Any]],
                                                               place: Place) -> None:
    pathways = demo_pathways(place, SEED)
    ids = {s["id"] for s in services}
    situations = {"mental-health-crisis", "concern-for-welfare", "missing-person-found", "domestic-abuse",
                  "homelessness", "substance-misuse", "child-at-risk"}
    combos = {(p["locality"], p["situation"], p["time_band"]) for p in pathways}
    assert combos == {(d, s, b) for d in place.districts["name"] for s in situations
                      for b in ("in_hours", "out_of_hours")}
    assert all(p["steps"] and p["version"] >= 1 and len(p["threshold_questions"]) >= 3 for p in pathways)
    assert {step["service_id"] for p in pathways for step in p["steps"]} <= ids


def test_pathways_use_the_localitys_own_services(services: list[dict[str, Any]], place: Place) -> None:
    by_id = {s["id"]: s for s in services}
    for pathway in demo_pathways(place, SEED):
        for step in pathway["steps"]:
            if "@" in step["service_key"]:
                assert by_id[step["service_id"]]["service_areas"][0]["name"] == pathway["locality"]


def test_benchmark_data_scales_and_keeps_the_mix(place: Place) -> None:
    many = directory_services(place, SEED, copies=4)
    assert len(many) > 3 * len(directory_services(place, SEED))
    assert len({s["id"] for s in many}) == len(many)
    neighbourhood_kinds = {k["key"] for k in service_kinds() if k["scope"] == "neighbourhood"}
    assert neighbourhood_kinds <= {s["x_service_key"].split("@")[0] for s in many[:len(many) // 2]}

"""A small seeded directory as HSDS JSON, with planted truth for every search filter.

Services are spread over a grid near Preston; "Harbour Food Bank" is the planted match: food term,
ages 16-65, Tuesday 10:00-14:00, postcode PR1 2AA, charity number 1100001. "Far Hills Food Club"
shares the term but is 40 km north; "Harbour Foodbank CIO" is its likely duplicate.
"""

from __future__ import annotations

import uuid
from typing import Any

NS = uuid.UUID("0b8a3c1e-7d5a-4f6e-9a2b-1c3d4e5f6a7b")
TAXONOMY = {"id": str(uuid.uuid5(NS, "taxonomy")), "name": "Needs", "description": "Local needs",
            "uri": "https://example.org/needs", "version": "1"}
FOOD = {"id": str(uuid.uuid5(NS, "term-food")), "name": "Food", "description": "Food and meals",
        "taxonomy_id": TAXONOMY["id"], "term_uri": "https://example.org/needs/food", "code": "food"}
MONEY = {"id": str(uuid.uuid5(NS, "term-money")), "name": "Money", "description": "Money advice",
         "taxonomy_id": TAXONOMY["id"], "code": "money"}


def uid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def service(name: str, *, org: str, lat: float, lon: float, postcode: str, term: dict[str, Any],
            ages: tuple[int, int] = (0, 99), day: str = "MO", hours: tuple[str, str] = ("09:00", "17:00"),
            charity: str | None = None) -> dict[str, Any]:
    service_id, org_id, loc_id = uid(f"s-{name}"), uid(f"o-{org}"), uid(f"l-{name}")
    identifiers = [{"id": uid(f"i-{org}"), "identifier_scheme": "GB-CHC", "identifier_type": "Charity number",
                    "identifier": charity}] if charity else []
    return {
        "id": service_id, "name": name, "status": "active", "description": f"{name} helps people nearby.",
        "email": "help@example.org", "url": "https://example.org/service", "organization_id": org_id,
        "minimum_age": ages[0], "maximum_age": ages[1], "last_modified": "2025-06-01T12:00:00Z",
        "assured_date": "2025-05-01",
        "organization": {"id": org_id, "name": org, "description": f"{org} is a local charity.",
                         "organization_identifiers": identifiers},
        "schedules": [{"id": uid(f"sch-{name}"), "freq": "WEEKLY", "byday": day, "opens_at": hours[0],
                       "closes_at": hours[1]}],
        "attributes": [{"id": uid(f"a-{name}"), "taxonomy_term_id": term["id"], "link_type": "need",
                        "link_entity": "service", "taxonomy_term": term | {"taxonomy_detail": TAXONOMY}}],
        "service_capacity": [{"id": uid(f"cap-{name}"), "available": 3, "maximum": 10, "description": "places"}],
        "service_at_locations": [{"id": uid(f"sal-{name}"), "location": {
            "id": loc_id, "location_type": "physical", "name": f"{name} hall", "latitude": lat, "longitude": lon,
            "external_identifier": "100010000001", "external_identifier_type": "UPRN",
            "addresses": [{"id": uid(f"ad-{name}"), "address_1": "1 High Street", "city": "Preston",
                           "state_province": "Lancashire", "postal_code": postcode, "country": "GB",
                           "address_type": "physical"}]}}],
    }


def seeded_services(filler: int = 40) -> list[dict[str, Any]]:
    """The planted services plus ``filler`` ordinary ones (Mondays, money advice, all ages)."""
    planted = [
        service("Harbour Food Bank", org="Harbour Food Bank", lat=53.7590, lon=-2.6990, postcode="PR1 2AA",
                term=FOOD, ages=(16, 65), day="TU", hours=("10:00", "14:00"), charity="1100001"),
        service("Far Hills Food Club", org="Far Hills Trust", lat=54.1200, lon=-2.7000, postcode="LA1 9ZZ",
                term=FOOD, ages=(16, 65), day="TU", hours=("10:00", "14:00")),
        service("Harbour Advice Desk", org="Harbour Foodbank CIO", lat=53.7591, lon=-2.6991, postcode="PR1 2AA",
                term=MONEY, charity="01100001"),
    ]
    fillers = [service(f"Advice point {i:02d}", org=f"Advice network {i % 7}", lat=53.70 + i * 0.002,
                       lon=-2.75 + i * 0.002, postcode=f"PR{2 + i % 5} {i % 9}BB", term=MONEY)
               for i in range(filler)]
    return planted + fillers


def test_the_seeded_directory_has_unique_ids_and_its_planted_services():
    services = seeded_services(filler=10)
    assert len({s["id"] for s in services}) == len(services) == 13
    planted = {s["name"]: s for s in services[:3]}
    assert planted["Harbour Food Bank"]["attributes"][0]["taxonomy_term_id"] == FOOD["id"]
    assert planted["Harbour Advice Desk"]["attributes"][0]["taxonomy_term_id"] == MONEY["id"]

"""The demo place's community support directory, in the Open Referral UK (HSDS 3.0 UK profile) shape.

``directory_services`` returns about 300 fully nested services, each as ``GET /services/{id}``
returns it: organisation, service-at-locations with located, addressed venues, weekly opening
schedules, service areas (GeoJSON of the district or neighbourhood), contacts with phones,
languages, accessibility, cost options, age bounds and eligibility, Open Eligibility taxonomy
terms, funding and HSDS 3.1 ``capacities``. The kinds of service, organisations and the taxonomy
subset are small tables in ``directory_data/``; venues take real addresses and postcodes from
the demo place's address book, so every venue lies inside its neighbourhood. Identifiers are
UUIDs derived from the seed and a readable key (``safe-haven@X07000002``), so the same seed
always gives the same directory, and ``demo_pathways`` can link pathways to service ids.

The Open Eligibility taxonomy is by Aunt Bertha (github.com/auntbertha/openeligibility),
CC BY-SA 3.0; the subset in ``directory_data/taxonomy_terms.csv`` is shared under the same licence.
"""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import shapely
import yaml

from wholeplace.errors import UserError
from wholeplace.synth.addresses import build_addresses
from wholeplace.synth.names import DISTRICT_NAMES, PLACE_NAME
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import rng_for

DATA = Path(__file__).parent / "directory_data"
AS_OF = date(2025, 12, 1)  # the directory describes services as they stood on this day
NAMESPACE = uuid.UUID("6f1c1f0e-5b1e-4f55-9d7e-2f3f4b9a0c11")
TAXONOMY = {
    "id": str(uuid.uuid5(NAMESPACE, "taxonomy/openEligibility")), "name": "Open Eligibility",
    "description": "Open Eligibility human services and human situations taxonomy (Aunt Bertha, CC BY-SA 3.0).",
    "uri": "https://github.com/auntbertha/openeligibility", "version": "2.0",
}
ALL_DAYS = "MO,TU,WE,TH,FR,SA,SU"
WEEKDAYS = "MO,TU,WE,TH,FR"
# Fixed weekly opening profiles: (byday, opens_at, closes_at); 24:00 closes at midnight.
PROFILES: dict[str, list[tuple[str, str, str]]] = {
    "always": [(ALL_DAYS, "00:00", "24:00")],
    "office": [("MO,TU,WE,TH", "09:00", "17:00"), ("FR", "09:00", "16:30")],
    "office_short": [("MO,TU,TH,FR", "09:30", "16:00"), ("WE", "09:30", "13:00")],
    "office_late": [(WEEKDAYS, "08:00", "20:00"), ("SA", "09:00", "13:00")],
    "office_saturday": [(WEEKDAYS, "09:00", "17:00"), ("SA", "10:00", "13:00")],
    "out_of_hours": [(WEEKDAYS, "00:00", "09:00"), (WEEKDAYS, "17:00", "24:00"), ("SA,SU", "00:00", "24:00")],
    "late": [(ALL_DAYS, "16:00", "24:00"), (ALL_DAYS, "00:00", "02:00")],
    "evenings": [(ALL_DAYS, "18:00", "23:00")],
    "night": [(ALL_DAYS, "20:00", "24:00"), (ALL_DAYS, "00:00", "08:00")],
    "outreach": [(ALL_DAYS, "05:30", "09:00"), (ALL_DAYS, "20:00", "23:00")],
    "weekdays_day": [(WEEKDAYS, "10:00", "15:30")],
    "library": [(WEEKDAYS, "09:30", "18:00"), ("SA", "09:30", "16:00")],
}
SESSION_TIMES = (("10:00", "12:00"), ("13:30", "15:30"), ("11:00", "13:00"))
LANGUAGES = (("pl", "Polish", 0.08), ("ur", "Urdu", 0.06), ("pa", "Punjabi", 0.05), ("ro", "Romanian", 0.04),
             ("ar", "Arabic", 0.04), ("bfi", "British Sign Language", 0.03))
FUNDERS = ("Wenlow Vale Council grant", "NHS Wenlow Vale Integrated Care Board grant", "Vale Community Foundation",
           "Police and Crime Commissioner's Community Safety Fund", "Donations and fundraising",
           "Charitable trusts and foundations")
SECTOR_FUNDER = {"police": "Wenlow Vale Constabulary", "nhs": "NHS Wenlow Vale Integrated Care Board",
                 "council": "Wenlow Vale Council"}
NATIONAL_NUMBERS = {"police-999": "999", "police-101": "101", "nhs-111": "111", "mh-crisis-line": "111"}
VENUE_NAMES = {
    "community_centre": "{stem} Community Centre", "church_hall": "{stem} {church}", "library": "{stem} Library",
    "youth_centre": "{stem} Youth Centre", "health_centre": "{stem} Health Centre", "family_hub": "{town} Family Hub",
    "police_station": "{town} Police Station", "council_office": "{town} Customer Service Centre",
    "advice_centre": "{town} Advice Centre", "recovery_hub": "{stem} House", "night_shelter": "{stem} Lodge",
}
CHURCHES = ("Methodist Church Hall", "Parish Church Hall", "Baptist Church", "Community Church",
            "United Reformed Church")
TEMPORARY_CLOSURE_SHARE = 0.025


def stable_id(seed: int, *parts: str) -> str:
    """A UUID fixed by the seed and a readable key, e.g. ``stable_id(1, "service", "refuge")``."""
    return str(uuid.uuid5(NAMESPACE, "/".join([str(seed), *parts])))


def term_id(code: str) -> str:
    """The id of an Open Eligibility term: the same for every seed, so the needs list can name it."""
    return str(uuid.uuid5(NAMESPACE, f"openEligibility/{code}"))


@cache
def service_kinds() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load((DATA / "service_kinds.yaml").read_text(encoding="utf-8")))


@cache
def organisations() -> dict[str, dict[str, Any]]:
    rows = yaml.safe_load((DATA / "organisations.yaml").read_text(encoding="utf-8"))
    return {row["key"]: row for row in rows}


@cache
def taxonomy_terms() -> dict[str, dict[str, Any]]:
    """The Open Eligibility subset as HSDS ``taxonomy_term`` objects, by code."""
    with (DATA / "taxonomy_terms.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row["code"]: {
        "id": term_id(row["code"]), "code": row["code"], "name": row["name"],
        "description": f"Open Eligibility human {row['facet']}: {row['name']}",
        "taxonomy": TAXONOMY["name"], "taxonomy_id": TAXONOMY["id"],
        "term_uri": f"{TAXONOMY['uri']}#{row['code']}", "version": TAXONOMY["version"],
    } | ({"parent_id": term_id(row["parent_code"])} if row["parent_code"] else {}) for row in rows}


@cache
def accessibility_list() -> tuple[tuple[str, str, float], ...]:
    with (DATA / "accessibility.csv").open(encoding="utf-8", newline="") as handle:
        return tuple((r["code"], r["description"], float(r["share"])) for r in csv.DictReader(handle))


def write_directory(place: Place, seed: int, path: Path) -> Path:
    """Write the demo directory as a JSON list of full services; the same seed gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(directory_services(place, seed), ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    return path


def directory_services(place: Place, seed: int, *, copies: int = 1) -> list[dict[str, Any]]:
    """About 300 services for the demo place; ``copies`` repeats neighbourhood services at new
    venues (for benchmarks: about 180 more services per copy)."""
    builder = _Builder(place, seed)
    return [builder.service(kind, scope, instance)
            for kind, scope, instance in _instances(place, rng_for(seed, "directory/instances"), copies)]


def service_key(kind: str, scope_code: str | None = None, instance: int = 0) -> str:
    """Readable key of one service: ``kind``, ``kind@X07000002`` or ``kind@X02000005#1``."""
    if scope_code is None:
        return kind
    return f"{kind}@{scope_code}" + (f"#{instance}" if instance else "")


def _instances(place: Place, rng: np.random.Generator, copies: int) -> list[tuple[dict[str, Any], int | None, int]]:
    """(kind, district or neighbourhood index or None, instance) for every service to generate."""
    found: list[tuple[dict[str, Any], int | None, int]] = []
    for kind in service_kinds():
        if kind["scope"] == "place":
            found.append((kind, None, 0))
        elif kind["scope"] == "district":
            found += [(kind, d, 0) for d in range(place.districts.height)]
    for copy in range(copies):  # copies outermost, so a prefix of the list keeps the mix of kinds
        for kind in (k for k in service_kinds() if k["scope"] == "neighbourhood"):
            draws = kind.get("count", 1)
            for hood in range(place.neighbourhoods.height):
                found += [(kind, hood, copy * draws + i) for i in range(draws) if rng.random() < kind.get("share", 1.0)]
    return found


class _Builder:
    """Builds services for one place and seed, sharing venues, service areas and phone numbers."""

    def __init__(self, place: Place, seed: int) -> None:
        self.place, self.seed = place, seed
        self.rng = rng_for(seed, "directory")
        self.venues: dict[tuple[str, int, int], dict[str, Any]] = {}
        self.areas: dict[tuple[str, int], dict[str, Any]] = {}
        self.addresses = _address_book(place, seed)
        self.main_hood = _main_neighbourhoods(place)
        self.numbers = iter(range(10**9))

    def service(self, kind: dict[str, Any], scope: int | None, instance: int) -> dict[str, Any]:
        code = self._scope_code(kind["scope"], scope)
        key = service_key(kind["key"], code, instance)
        sid = stable_id(self.seed, "service", key)
        hood = self._hood(kind["scope"], scope)
        venue = self._venue(kind["venue"], hood, instance) if "venue" in kind else None
        name = kind["name"].format(locality=self._locality(kind["scope"], scope), venue=venue["name"] if venue else "")
        org = organisations()[kind["org"]]
        assured = AS_OF - timedelta(days=int(self.rng.integers(7, 540)))
        modified = datetime.combine(assured, time(9), UTC) + timedelta(seconds=int(self.rng.integers(0, 10 * 3600)))
        service: dict[str, Any] = {
            "id": sid, "organization_id": _org_id(self.seed, org), "name": name,
            "description": kind["description"], "url": f"https://{org['domain']}/services/{kind['key']}",
            "email": f"{kind['key']}@{org['domain']}", "status": "active",
            "minimum_age": (kind.get("ages") or [None, None])[0], "maximum_age": (kind.get("ages") or [None, None])[1],
            "eligibility_description": _eligibility(kind), "application_process": _application(kind),
            "x_referral_route": kind["referral"], "x_service_key": key,
            "assured_date": assured.isoformat(), "assurer_email": f"directory@{organisations()['council']['domain']}",
            "last_modified": modified.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "schedules": self._schedules(kind, sid), "service_areas": [self._area(sid, kind["scope"], scope)],
            "service_at_locations": [self._at(sid, venue)] if venue else [],
            "languages": self._languages(sid), "organization": _organisation(self.seed, org),
            "funding": [self._funding(sid, org)], "cost_options": [_cost(sid, kind.get("cost", "free"))],
            "contacts": [self._contact(sid, kind, org)], "attributes": _attributes(sid, kind),
            "capacities": _capacities(sid, kind, modified, self.rng),
        }
        if kind["scope"] != "place" and self.rng.random() < TEMPORARY_CLOSURE_SHARE:
            _close_temporarily(service, venue)
        return {k: v for k, v in service.items() if v is not None}

    def _scope_code(self, scope: str, index: int | None) -> str | None:
        frame = {"district": self.place.districts, "neighbourhood": self.place.neighbourhoods}.get(scope)
        return None if frame is None or index is None else str(frame["code"][index])

    def _locality(self, scope: str, index: int | None) -> str:
        if scope == "district" and index is not None:
            return DISTRICT_NAMES[index]
        if scope == "neighbourhood" and index is not None:
            return str(self.place.neighbourhoods["name"][index])
        return PLACE_NAME

    def _hood(self, scope: str, index: int | None) -> int:
        if scope == "neighbourhood" and index is not None:
            return index
        return self.main_hood[index if scope == "district" and index is not None else 0]

    def _venue(self, kind: str, hood: int, instance: int) -> dict[str, Any]:
        key = (kind, hood, instance)
        if key not in self.venues:
            self.venues[key] = _venue(self, kind, hood, instance)
        return self.venues[key]

    def _area(self, sid: str, scope: str, index: int | None) -> dict[str, Any]:
        level = {"place": "place", "district": "lad", "neighbourhood": "msoa"}[scope]
        key = (level, index or 0)
        if key not in self.areas:
            self.areas[key] = _service_area(self.place, self.seed, level, index or 0)
        area = dict(self.areas[key])
        area |= {"id": stable_id(self.seed, "service_area", sid), "service_id": sid}
        return area

    def _at(self, sid: str, venue: dict[str, Any]) -> dict[str, Any]:
        return {"id": stable_id(self.seed, "service_at_location", sid, venue["id"]), "service_id": sid,
                "location_id": venue["id"], "location": venue}

    def _schedules(self, kind: dict[str, Any], sid: str) -> list[dict[str, Any]]:
        slots, valid = _slots(kind["hours"], self.rng)
        attending = " or ".join(m.replace("_", " ") for m in kind["modes"])
        return [_schedule(stable_id(self.seed, "schedule", sid, str(i)), sid, slot, valid, attending)
                for i, slot in enumerate(slots)]

    def _languages(self, sid: str) -> list[dict[str, Any]]:
        spoken = [("en", "English")] + [(c, n) for c, n, share in LANGUAGES if self.rng.random() < share]
        return [{"id": stable_id(self.seed, "language", sid, c), "service_id": sid, "code": c, "name": n}
                for c, n in spoken]

    def _funding(self, sid: str, org: dict[str, Any]) -> dict[str, Any]:
        source = SECTOR_FUNDER.get(org["sector"]) or FUNDERS[int(self.rng.integers(len(FUNDERS)))]
        return {"id": stable_id(self.seed, "funding", sid), "service_id": sid, "source": source}

    def _contact(self, sid: str, kind: dict[str, Any], org: dict[str, Any]) -> dict[str, Any]:
        cid = stable_id(self.seed, "contact", sid)
        title = "Duty worker" if kind["referral"] != "self" else "Reception"
        return {"id": cid, "service_id": sid, "name": "Referrals" if kind["referral"] != "self" else "Enquiries",
                "title": title, "email": f"{kind['key']}@{org['domain']}",
                "phones": [{"id": stable_id(self.seed, "phone", cid), "contact_id": cid,
                            "number": self._number(kind), "description": _phone_description(kind)}]}

    def _number(self, kind: dict[str, Any]) -> str:
        if kind["key"] in NATIONAL_NUMBERS:
            return NATIONAL_NUMBERS[kind["key"]]
        n = next(self.numbers) % 1000
        return f"0808 157 0{n:03d}" if kind["hours"] == "always" else f"01632 960{n:03d}"


def _address_book(place: Place, seed: int) -> dict[str, Any]:
    """Home addresses by neighbourhood, plus the hospital and mental health unit premises."""
    addresses, _ = build_addresses(seed, place)
    hood_of = place.areas["neighbourhood"].to_numpy()
    frame = addresses.with_columns(hood=pl.Series(hood_of[addresses["area"].to_numpy()]))
    homes = frame.filter(pl.col("kind") == "home")
    book: dict[str, Any] = {"columns": {c: homes[c].to_list() for c in ("text", "street", "postcode", "longitude",
                                                                         "latitude", "area", "address")},
                            "by_hood": {h: np.flatnonzero(homes["hood"].to_numpy() == h) for h in range(len(
                                place.neighbourhoods))}}
    for kind in ("hospital", "mh_unit"):
        book[kind] = frame.filter(pl.col("kind") == kind).row(0, named=True)
    return book


def _main_neighbourhoods(place: Place) -> list[int]:
    """Each district's most built-up neighbourhood (fewest rural small areas, then lowest index)."""
    counts = place.areas.group_by("neighbourhood", "district").agg(pl.col("rural").sum().alias("rural"),
                                                                    pl.len().alias("n"))
    ordered = counts.sort(["rural", "n", "neighbourhood"], descending=[False, True, False])
    best = ordered.unique("district", keep="first", maintain_order=True)
    return [int(best.filter(pl.col("district") == d)["neighbourhood"][0]) for d in range(place.districts.height)]


def _venue(builder: _Builder, kind: str, hood: int, instance: int) -> dict[str, Any]:
    rng, book, place = builder.rng, builder.addresses, builder.place
    lid = stable_id(builder.seed, "location", kind, str(hood), str(instance))
    if kind in ("hospital", "mh_unit"):
        row = book[kind]
        name, address_1 = row["text"].split(", ")[0], row["street"]
    else:
        index = int(rng.choice(book["by_hood"][hood]))
        row = {c: values[index] for c, values in book["columns"].items()}
        town = str(place.areas["town"][row["area"]])
        name = VENUE_NAMES[kind].format(stem=row["street"].rsplit(" ", 1)[0], town=town,
                                        church=CHURCHES[int(rng.integers(len(CHURCHES)))])
        address_1 = row["text"].split(", ")[0]
    town = str(place.areas["town"][row["area"]])
    location: dict[str, Any] = {
        "id": lid, "location_type": "physical", "name": name,
        "latitude": round(float(row["latitude"]), 6), "longitude": round(float(row["longitude"]), 6),
        "addresses": [{"id": stable_id(builder.seed, "address", lid), "location_id": lid, "address_1": address_1,
                       "city": town, "state_province": PLACE_NAME, "postal_code": row["postcode"],
                       "country": "GB", "address_type": "physical"}],
        "accessibility": [{"id": stable_id(builder.seed, "accessibility", lid, code), "location_id": lid,
                           "description": text, "details": code}
                          for code, text, share in accessibility_list() if rng.random() < share],
    }
    if rng.random() < 0.8:  # UPRN where known; 99… is outside the range issued so far
        location |= {"external_identifier": f"99{int(row['address']):010d}", "external_identifier_type": "UPRN"}
    return location


def _service_area(place: Place, seed: int, level: str, index: int) -> dict[str, Any]:
    if level == "place":
        polygon, name = shapely.coverage_union_all(place.polygons("lad")), PLACE_NAME
    else:
        polygon = place.polygons(level)[index]
        frame = place.districts if level == "lad" else place.neighbourhoods
        name = str(frame["name"][index])
    shape = shapely.set_precision(shapely.simplify(polygon, 0.0003), 0.00001)
    return {"name": name, "description": f"Residents of {name}" + ("" if name == PLACE_NAME else f", {PLACE_NAME}"),
            "extent": shapely.to_geojson(shape), "extent_type": "geojson"}


def _slots(profile: str, rng: np.random.Generator) -> tuple[list[tuple[str, str, str]], tuple[str, str | None]]:
    """Weekly (or monthly) slots of an opening profile, and the dates they are valid between."""
    always = (AS_OF.replace(month=1, day=1).isoformat(), None)
    if profile in PROFILES:
        return PROFILES[profile], always
    days = ["MO", "TU", "WE", "TH", "FR"]
    picked = sorted(rng.choice(5, 3 if profile == "winter" else 2, replace=False).tolist())
    opens, closes = SESSION_TIMES[int(rng.integers(len(SESSION_TIMES)))]
    if profile == "session":
        return [(days[picked[0]], opens, closes)], always
    if profile == "two_sessions":
        return [(",".join(days[i] for i in picked), opens, closes)], always
    if profile == "evening_session":
        return [(days[picked[0]], "19:00", "21:00")], always
    if profile == "youth_evenings":
        return [(",".join(days[i] for i in picked), "18:30", "21:00")], always
    if profile == "monthly":
        return [(f"{int(rng.choice([1, 2, 3, -1]))}{days[picked[0]]}", opens, closes)], always
    if profile == "winter":
        return [(",".join(days[i] for i in picked), "10:00", "16:00")], ("2025-11-01", "2026-03-31")
    raise UserError(f"directory_data/service_kinds.yaml: unknown opening profile '{profile}'",
                    hint=f"Use one of {', '.join(sorted(PROFILES))}, session, two_sessions, evening_session, "
                         "youth_evenings, monthly or winter.")


def _schedule(sid: str, service_id: str, slot: tuple[str, str, str], valid: tuple[str, str | None],
              attending: str) -> dict[str, Any]:
    byday, opens, closes = slot
    monthly = byday[0] in "-123456789"
    schedule = {"id": sid, "service_id": service_id, "freq": "MONTHLY" if monthly else "WEEKLY", "interval": 1,
                "byday": byday, "opens_at": opens, "closes_at": closes, "valid_from": valid[0],
                "dtstart": valid[0], "description": _describe_slot(byday, opens, closes),
                "attending_type": attending}
    return schedule | ({"valid_to": valid[1]} if valid[1] else {})


def _describe_slot(byday: str, opens: str, closes: str) -> str:
    if byday == ALL_DAYS and (opens, closes) == ("00:00", "24:00"):
        return "Open 24 hours, every day"
    when = "Every day" if byday == ALL_DAYS else ", ".join(_day_name(day) for day in byday.split(","))
    return f"{when} {opens} to {closes}"


def _day_name(day: str) -> str:
    names = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday", "SA": "Saturday",
             "SU": "Sunday"}
    ordinal = {"1": "First", "2": "Second", "3": "Third", "-1": "Last"}.get(day[:-2])
    return f"{ordinal} {names[day[-2:]]} of the month" if ordinal else names[day]


def _org_id(seed: int, org: dict[str, Any]) -> str:
    return stable_id(seed, "organization", org["key"])


def _organisation(seed: int, org: dict[str, Any]) -> dict[str, Any]:
    oid = _org_id(seed, org)
    return {"id": oid, "name": org["name"], "description": org["description"], "email": f"info@{org['domain']}",
            "website": f"https://{org['domain']}", "uri": f"https://{org['domain']}",
            "organization_identifiers": [
                {"id": stable_id(seed, "organization_identifier", org["key"], scheme), "organization_id": oid,
                 "identifier_scheme": scheme, "identifier_type": kind, "identifier": str(value)}
                for scheme, kind, value in org.get("identifiers", [])]}


def _cost(sid: str, cost: Any) -> dict[str, Any]:
    base = {"id": str(uuid.uuid5(NAMESPACE, f"cost_option/{sid}")), "service_id": sid, "currency": "GBP"}
    if cost == "free":
        return base | {"option": "Free", "amount": 0, "amount_description": "Free of charge"}
    amount, what = cost
    return base | {"option": "Charge", "amount": float(amount), "amount_description": f"£{amount:.2f} {what}"}


def _attributes(sid: str, kind: dict[str, Any]) -> list[dict[str, Any]]:
    terms = taxonomy_terms()
    links = [("service_type", c) for c in kind["terms"]] + [("eligibility", c) for c in kind.get("for", [])]
    return [{"id": str(uuid.uuid5(NAMESPACE, f"attribute/{sid}/{link}/{code}")), "link_id": sid,
             "link_entity": "service", "link_type": link, "taxonomy_term_id": terms[code]["id"],
             "taxonomy_term": terms[code]} for link, code in links]


def _capacities(sid: str, kind: dict[str, Any], updated: datetime, rng: np.random.Generator) -> list[dict[str, Any]]:
    if "capacity" not in kind:
        return []
    unit, maximum = kind["capacity"]
    return [{"id": str(uuid.uuid5(NAMESPACE, f"capacity/{sid}")), "service_id": sid,
             "unit": {"id": str(uuid.uuid5(NAMESPACE, f"unit/{unit}")), "name": unit},
             "available": int(rng.integers(0, maximum + 1)), "maximum": maximum,
             "updated": updated.isoformat(timespec="seconds").replace("+00:00", "Z")}]


def _eligibility(kind: dict[str, Any]) -> str:
    low, high = kind.get("ages") or [None, None]
    ages = ("Anyone" if low is None and high is None else f"Aged {low} and over" if high is None
            else f"Aged {low or 0} to {high}")
    who = ", ".join(taxonomy_terms()[c]["name"] for c in kind.get("for", []))
    return f"{ages}. For: {who}. Lives in or is in {PLACE_NAME}."


def _application(kind: dict[str, Any]) -> str:
    return {"self": "Refer yourself: drop in, phone or go online.",
            "professional": "By referral from a practitioner (police, health, council or a voluntary organisation).",
            "both": "Refer yourself, or a practitioner can refer with the person's consent."}[kind["referral"]]


def _phone_description(kind: dict[str, Any]) -> str:
    if kind["key"] == "mh-crisis-line":
        return "Call 111 and choose option 2, any time"
    return "Free to call, 24 hours" if kind["hours"] == "always" else "During opening hours"


def _close_temporarily(service: dict[str, Any], venue: dict[str, Any] | None) -> None:
    until = (AS_OF + timedelta(days=42)).isoformat()
    where = f" while {venue['name']} is refurbished" if venue else " because of staff shortages"
    service["status"] = "temporarily closed"
    service["alert"] = f"Temporarily closed until {until}{where}. Please use another service nearby."
    for schedule in service["schedules"]:
        schedule["notes"] = f"Closed until {until}"


def demo_pathways(place: Place, seed: int) -> list[dict[str, Any]]:
    """Every locality (district) × situation × time band of ``pathways.yaml``, its steps linked to
    the ids of the services ``directory_services(place, seed)`` generates."""
    source = yaml.safe_load((DATA / "pathways.yaml").read_text(encoding="utf-8"))
    scopes = {kind["key"]: kind["scope"] for kind in service_kinds()}
    return [_pathway(source, situation, str(code), name, band, scopes, seed)
            for situation in source["situations"]
            for code, name in zip(place.districts["code"], place.districts["name"], strict=True)
            for band in source["time_bands"]]


def _pathway(source: dict[str, Any], situation: dict[str, Any], code: str, locality: str, band: str,
             scopes: dict[str, str], seed: int) -> dict[str, Any]:
    steps = situation.get("localities", {}).get(locality, {}).get(band) or situation[band]
    return {"id": stable_id(seed, "pathway", situation["key"], code, band), "version": source["version"],
            "updated": source["updated"], "situation": situation["key"], "title": situation["title"],
            "locality": locality, "locality_code": code, "time_band": band,
            "time_band_description": source["time_bands"][band], "lead": situation["lead"],
            "threshold_questions": [q["question"] for q in source["threshold_questions"]]
            + situation.get("extra_questions", []), "threshold_rule": source["threshold_rule"],
            "steps": [_step(step, order, situation["key"], code, scopes, seed)
                      for order, step in enumerate(steps, start=1)]}


def _step(step: dict[str, Any], order: int, situation: str, code: str, scopes: dict[str, str],
          seed: int) -> dict[str, Any]:
    scope = scopes.get(step["service"])
    if scope not in ("place", "district"):
        problem = "is not a kind in service_kinds.yaml" if scope is None else "is a neighbourhood service"
        raise UserError(f"directory_data/pathways.yaml: situation '{situation}', step {order}: service "
                        f"'{step['service']}' {problem}",
                        hint="Name a place-wide or district service kind from service_kinds.yaml.")
    key = service_key(step["service"], code if scope == "district" else None)
    return {"order": order, "service_key": key, "service_id": stable_id(seed, "service", key), "how": step["how"],
            "action": step["action"]}

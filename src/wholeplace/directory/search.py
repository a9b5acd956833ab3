"""Practitioner search: the directory as a frontline worker asks of it on a phone, on top of the stored
search rows of ``query``.

A search takes a *need* from the plain-language needs list (each need names taxonomy terms; a service
with any of them matches), words, a place (a postcode, or a latitude and longitude from the browser),
and filters: open now, age, free, how it is delivered (in person, phone, online), language,
accessibility and whether it accepts referrals. Every filter given must hold. With a place, a service
matches by **distance** when one of its venues lies within the distance asked for, else by
**coverage** when its service area (GeoJSON) contains the place; each result says which applied.
Inactive and defunct services are never shown. Open or closed now, and until when, follow ``opening``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from wholeplace.directory.opening import LONDON, OpenState, open_state
from wholeplace.directory.query import metres_between, postcode_centroid
from wholeplace.directory.store import DirectoryServiceRow, DirectoryServiceTermRow, directory_session
from wholeplace.errors import UserError
from wholeplace.store.stores import Stores

NEEDS_FILE = Path(__file__).parents[1] / "synth" / "directory_data" / "needs.csv"
MODES = {"in_person": "In person", "phone": "Phone", "online": "Online"}
DEFAULT_DISTANCE_KM, MAX_DISTANCE_KM = 5.0, 50.0
RESULT_LIMIT = 50
SHOWN_STATUSES = ("active", "temporarily closed")


@dataclass(frozen=True)
class Need:
    id: str
    label: str
    term_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class SearchForm:
    need: str = ""
    words: str = ""
    postcode: str = ""
    latitude: float | None = None
    longitude: float | None = None
    distance_km: float = DEFAULT_DISTANCE_KM
    open_now: bool = False
    age: float | None = None
    free: bool = False
    mode: str = ""
    language: str = ""
    accessibility: str = ""
    accepts_referrals: bool = False

    @property
    def has_place(self) -> bool:
        return bool(self.postcode) or self.latitude is not None


@dataclass(frozen=True)
class Result:
    id: str
    name: str
    organisation: str
    description: str
    distance_m: float | None
    match: str  # "distance", "coverage" or "" (no place given)
    area: str  # the service area's name when matched by coverage
    state: OpenState
    last_checked: date | None
    modes: tuple[str, ...]
    free: bool
    accepts_referrals: bool


@dataclass(frozen=True)
class Results:
    results: list[Result]
    total: int
    where: str  # how the place was applied, in words
    need: Need | None = None
    shown: int = field(default=0)


def load_needs(path: Path = NEEDS_FILE) -> tuple[Need, ...]:
    """The needs list (need_id, need, taxonomy_term_ids separated by ';', explanation)."""
    return _needs(path)


@cache
def _needs(path: Path) -> tuple[Need, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    needs = []
    for line, row in enumerate(rows, start=2):
        missing = [c for c in ("need_id", "need", "taxonomy_term_ids") if not (row.get(c) or "").strip()]
        if missing:
            raise UserError(f"{path}, line {line}: column '{missing[0]}' is empty.",
                            hint="Every need needs an id, a label and at least one taxonomy term id.")
        needs.append(Need(row["need_id"], row["need"], tuple(row["taxonomy_term_ids"].split(";")),
                          row.get("explanation") or ""))
    return tuple(needs)


def parse_form(params: Mapping[str, str], *, needs: tuple[Need, ...] | None = None) -> SearchForm:
    """The search form's values, checked; a bad one is a UserError naming the field."""
    needs = load_needs() if needs is None else needs
    text = {k: (params.get(k) or "").strip() for k in ("need", "words", "postcode", "mode", "language",
                                                       "accessibility")}
    if text["need"] and text["need"] not in {n.id for n in needs}:
        raise UserError(f"'{text['need']}' is not a need in the list.", hint="Choose a need from the list.")
    if text["mode"] and text["mode"] not in MODES:
        raise UserError(f"'{text['mode']}' is not a way services are delivered.",
                        hint=f"Choose one of {', '.join(MODES.values()).lower()}.")
    numbers = {k: _number(k, params.get(k)) for k in ("latitude", "longitude", "distance_km", "age")}
    _check_numbers(numbers)
    flags = {k: (params.get(k) or "").lower() in ("1", "true", "yes", "on")
             for k in ("open_now", "free", "accepts_referrals")}
    distance = numbers.pop("distance_km") or DEFAULT_DISTANCE_KM
    return SearchForm(**text, **flags, **numbers, distance_km=distance)  # type: ignore[arg-type]


def search_services(*, stores: Stores, form: SearchForm, now: datetime | None = None,
                    needs: tuple[Need, ...] | None = None) -> Results:
    """Services matching every part of ``form``, nearest first when a place is given, else by name."""
    now = now or datetime.now(LONDON)
    need = next((n for n in (load_needs() if needs is None else needs) if n.id == form.need), None)
    with directory_session(stores) as session:
        documents = _candidates(session, form, need)
        point = _point(session, form)
    found = []
    for document in documents:
        located = _locate(document, point, form.distance_km * 1000) if point else (None, "", "")
        if located is None or not _passes(document, form, now):
            continue
        found.append(_result(document, located, now))
    found.sort(key=lambda r: (r.match == "coverage", r.distance_m or 0.0, r.name.lower()))
    return Results(found[:RESULT_LIMIT], len(found), _where(form), need, min(len(found), RESULT_LIMIT))


def service_modes(service: dict[str, Any]) -> tuple[str, ...]:
    """How the service is delivered: from its schedules' ``attending_type``, else from its venues,
    phones and web address."""
    said = " ".join(str(s.get("attending_type") or "") for s in service.get("schedules", [])).lower()
    found = [m for m in MODES if m.replace("_", " ") in said]
    if found:
        return tuple(found)
    venues = any(_located(at) for at in service.get("service_at_locations", []))
    phones = any(c.get("phones") for c in service.get("contacts", [])) or bool(service.get("phones"))
    return tuple(m for m, has in (("in_person", venues), ("phone", phones), ("online", bool(service.get("url"))))
                 if has)


def is_free(service: dict[str, Any]) -> bool:
    """Free when it lists costs and none is a charge above nothing."""
    options = service.get("cost_options", [])
    return bool(options) and not any(float(o.get("amount") or 0) > 0 for o in options)


def accepts_referrals(service: dict[str, Any]) -> bool:
    """Takes referrals from practitioners (route ``professional`` or ``both``, or an application process
    that mentions referral), and has room when it states its capacity."""
    route = str(service.get("x_referral_route") or "")
    by_route = route in ("professional", "both") if route else "refer" in str(service.get("application_process")
                                                                               or "").lower()
    return by_route and has_room(service)


def has_room(service: dict[str, Any]) -> bool:
    """Room for someone more: no capacity stated, or some stated capacity not known to be full."""
    capacities = service.get("capacities", [])
    return not capacities or any(c.get("available") is None or float(c["available"]) > 0 for c in capacities)


def no_room(service: dict[str, Any]) -> str | None:
    """What to tell a referrer when every capacity the service states has nothing free, else None."""
    if has_room(service):
        return None
    parts = []
    for c in service["capacities"]:
        unit = (c.get("unit") or {}).get("name") or "places"
        of = f" of {c['maximum']:g}" if isinstance(c.get("maximum"), (int, float)) else ""
        when = f", as of {str(c['updated'])[:10]}" if c.get("updated") else ""
        parts.append(f"0{of} {unit} free{when}")
    return (f"{service.get('name') or 'This service'} says it is full ({'; '.join(parts)}). Check with them before "
            "you refer: they may keep a waiting list, or know somewhere else.")


def languages(service: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(x.get("code") or x.get("name")), str(x.get("name") or x.get("code")))
            for x in service.get("languages", [])]


def accessibility(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, description) of the accessibility of the service's venues."""
    found: dict[str, str] = {}
    for at in service.get("service_at_locations", []):
        for item in (at.get("location") or {}).get("accessibility", []):
            code = str(item.get("details") or item.get("description") or "")
            found.setdefault(code, str(item.get("description") or code))
    return sorted(found.items())


def form_choices(*, stores: Stores) -> dict[str, list[tuple[str, str]]]:
    """The languages and accessibility features found in the directory, for the search form."""
    with directory_session(stores) as session:
        documents = list(session.scalars(select(DirectoryServiceRow.document)))
    spoken: dict[str, str] = {}
    access: dict[str, str] = {}
    for document in documents:
        spoken.update(languages(document))
        access.update(accessibility(document))
    return {"languages": sorted(spoken.items(), key=lambda x: x[1]), "accessibility": sorted(access.items(),
                                                                                           key=lambda x: x[1])}


def _candidates(session: Session, form: SearchForm, need: Need | None) -> list[dict[str, Any]]:
    s = DirectoryServiceRow
    query = select(s.document).where(s.status.in_(SHOWN_STATUSES))
    for word in form.words.lower().split():
        query = query.where(s.search_text.contains(word, autoescape=True))
    if need is not None:
        t = DirectoryServiceTermRow
        query = query.where(s.id.in_(select(t.service_id).where(t.taxonomy_term_id.in_(need.term_ids))))
    if form.age is not None:
        query = query.where((s.minimum_age.is_(None)) | (s.minimum_age <= form.age),
                            (s.maximum_age.is_(None)) | (s.maximum_age >= form.age))
    return list(session.scalars(query.order_by(s.name, s.id)))


def _point(session: Session, form: SearchForm) -> tuple[float, float] | None:
    if form.latitude is not None and form.longitude is not None:
        return (form.latitude, form.longitude)
    return postcode_centroid(session, form.postcode) if form.postcode else None


def _locate(service: dict[str, Any], point: tuple[float, float],
            limit_m: float) -> tuple[float | None, str, str] | None:
    """(distance, "distance", "") when a venue is near enough, (None, "coverage", area name) when
    a service area holds the point, else None."""
    distances = [metres_between(point, (float(loc["latitude"]), float(loc["longitude"])))
                 for at in service.get("service_at_locations", []) if (loc := _located(at))]
    if distances and min(distances) <= limit_m:
        return (min(distances), "distance", "")
    for area in service.get("service_areas", []):
        if _area_holds(area, point):
            return (min(distances) if distances else None, "coverage", str(area.get("name") or ""))
    return None


def _located(at: dict[str, Any]) -> dict[str, Any] | None:
    location = at.get("location") or {}
    if location.get("latitude") in (None, "") or location.get("longitude") in (None, ""):
        return None
    return location if location.get("location_type", "physical") == "physical" else None


def _area_holds(area: dict[str, Any], point: tuple[float, float]) -> bool:
    if str(area.get("extent_type") or "").lower() != "geojson" or not area.get("extent"):
        return False
    return _shape(str(area["extent"])).covers(shapely.Point(point[1], point[0]))


@cache
def _shape(extent: str) -> shapely.Geometry:
    try:
        geometry = json.loads(extent)
        return shapely.from_geojson(json.dumps(geometry.get("geometry", geometry)))
    except (ValueError, AttributeError, shapely.errors.GEOSException):
        return shapely.Polygon()


def _passes(service: dict[str, Any], form: SearchForm, now: datetime) -> bool:
    checks = (
        not form.open_now or open_state(service, now).open is True,
        not form.free or is_free(service),
        not form.mode or form.mode in service_modes(service),
        not form.language or form.language.lower() in {x.lower() for pair in languages(service) for x in pair},
        not form.accessibility or form.accessibility in {code for code, _ in accessibility(service)},
        not form.accepts_referrals or accepts_referrals(service),
    )
    return all(checks)


def _result(service: dict[str, Any], located: tuple[float | None, str, str], now: datetime) -> Result:
    checked = str(service.get("assured_date") or "")[:10]
    return Result(
        id=str(service["id"]), name=str(service.get("name") or ""),
        organisation=str((service.get("organization") or {}).get("name") or ""),
        description=str(service.get("description") or ""), distance_m=located[0], match=located[1],
        area=located[2], state=open_state(service, now), last_checked=_date(checked),
        modes=service_modes(service), free=is_free(service), accepts_referrals=accepts_referrals(service))


def _where(form: SearchForm) -> str:
    if not form.has_place:
        return "No place given, so services anywhere are shown."
    place = form.postcode.upper() if form.postcode else "your current position"
    return (f"Services with a venue within {form.distance_km:g} km of {place}, then services whose area "
            f"covers {place}.")


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _number(name: str, text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{_LABELS[name]} must be a number (got '{text.strip()}').",
                        hint=_HINTS[name]) from None


def _check_numbers(numbers: dict[str, float | None]) -> None:
    lat, lon, distance, age = (numbers[k] for k in ("latitude", "longitude", "distance_km", "age"))
    if (lat is None) != (lon is None):
        raise UserError("Give both latitude and longitude, or neither.", hint=_HINTS["latitude"])
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UserError(f"The position {lat}, {lon} is not on Earth.", hint=_HINTS["latitude"])
    if distance is not None and not 0 < distance <= MAX_DISTANCE_KM:
        raise UserError(f"Distance must be between 0 and {MAX_DISTANCE_KM:g} km (got {distance:g}).",
                        hint=_HINTS["distance_km"])
    if age is not None and not 0 <= age <= 130:
        raise UserError(f"Age must be between 0 and 130 (got {age:g}).", hint=_HINTS["age"])


_LABELS = {"latitude": "Latitude", "longitude": "Longitude", "distance_km": "Distance", "age": "Age"}
_HINTS = {"latitude": "Use your current position again, or search by postcode.",
          "longitude": "Use your current position again, or search by postcode.",
          "distance_km": f"Enter a distance in kilometres, for example 5 (at most {MAX_DISTANCE_KM:g}).",
          "age": "Enter the person's age in years, for example 16."}

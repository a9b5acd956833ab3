"""Searching the directory as the Open Referral UK API asks: services and service-at-locations by
text, taxonomy, organisation, ages, day and time, postcode and proximity, modified date; every filter
given must hold (AND). Pages carry the seven HSDS page fields.

Ages and times follow the UK 3.0 OpenAPI: ``minimum_age`` keeps services whose minimum age is at least
the value and ``maximum_age`` those whose maximum is at most the value; ``start_time``/``end_time``
keep services with a weekly slot (on ``day`` when given) opening at or after ``start_time`` and
closing at or before ``end_time``. Extensions: ``age`` (services that take a person of this age),
``latitude``/``longitude`` (a point instead of a postcode) and ``open_now`` (a slot valid today covers
now, Europe/London). A postcode is placed at its centroid from the postcode table when loaded, else
at the mean of stored locations with that postcode; ``proximity`` is in metres (default 5,000).
"""

from __future__ import annotations

import gc
import json
import math
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import ColumnElement, Engine, Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from wholeplace.directory.index import DAYS, SearchIndex, micros, minutes, normalise_postcode, parse_datetime
from wholeplace.directory.model import Nester
from wholeplace.directory.store import (
    DirectoryPlaceRow,
    DirectoryPostcodeRow,
    DirectoryRecordRow,
    DirectoryScheduleSlotRow,
    DirectoryServiceRow,
    DirectoryServiceTermRow,
    checked_generation,
    directory_session,
    generation_is_recent,
    index_generation,
)
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store.stores import Stores

DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 1000
DEFAULT_PROXIMITY = 5000.0
LONDON = ZoneInfo("Europe/London")
_DAY_NAMES = {name: code for code, name in zip(DAYS, ("monday", "tuesday", "wednesday", "thursday", "friday",
                                                      "saturday", "sunday"), strict=True)}
_INDEXES: weakref.WeakKeyDictionary[Engine, tuple[int, SearchIndex]] = weakref.WeakKeyDictionary()
_INDEX_LOCK = threading.Lock()
_DOCUMENTS: weakref.WeakKeyDictionary[SearchIndex, dict[str, bytes]] = weakref.WeakKeyDictionary()
_TEXT = ("search", "taxonomy_term_id", "taxonomy_id", "organization_id", "postcode")


@dataclass(frozen=True)
class ServiceQuery:
    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    postcode: str | None = None
    minimum_age: float | None = None
    maximum_age: float | None = None
    age: float | None = None
    day: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    proximity: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    open_now: bool = False
    modified_after: datetime | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def parse_query(params: Mapping[str, str]) -> ServiceQuery:
    """The query parameters of a request, checked; a bad one is a UserError naming it."""
    values: dict[str, Any] = {k: params[k].strip() for k in _TEXT if params.get(k, "").strip()}
    for name in ("minimum_age", "maximum_age", "age", "proximity", "latitude", "longitude"):
        if params.get(name):
            values[name] = _number(name, params[name])
    for name in ("page", "per_page"):
        if params.get(name):
            values[name] = int(_number(name, params[name]))
    for name in ("start_time", "end_time"):
        if params.get(name):
            values[name] = _time(name, params[name])
    if params.get("day"):
        values["day"] = _day(params["day"])
    if params.get("modified_after"):
        values["modified_after"] = _moment(params["modified_after"])
    values["open_now"] = params.get("open_now", "").lower() in ("true", "1", "yes")
    query = ServiceQuery(**values)
    _check_paging(query)
    return query


def service_page(*, stores: Stores, query: ServiceQuery, now: datetime | None = None) -> dict[str, Any]:
    with directory_session(stores) as session:
        total, chosen = _service_ids(session, query, now or datetime.now(LONDON))
        documents = _service_documents(session, chosen)
    return page_envelope([documents[i] for i in chosen], total=total, query=query)


def service_page_json(*, stores: Stores, query: ServiceQuery, now: datetime | None = None) -> bytes:
    """``service_page`` as JSON bytes, the stored documents spliced in as stored rather than decoded and
    encoded again (the same JSON value, in a fraction of the time). Each document's JSON is kept in
    memory with the search index it was read under, so a busy search reads each service once."""
    with directory_session(stores) as session:
        index = search_index(session)
        total, chosen = _service_ids(session, query, now or datetime.now(LONDON), index=index)
        texts = _document_json(session, index, chosen)
    return _page_json(total, chosen, texts, query)


def service_page_json_from_memory(*, stores: Stores, query: ServiceQuery,
                                  now: datetime | None = None) -> bytes | None:
    """``service_page_json`` if all it needs is in memory — the search index with its generation read
    within ``RECHECK_SECONDS``, the postcode placed before, every service on the page read before — else
    None. It never touches the database, so a server can answer it without a worker thread; a busy
    search is nearly always answered so."""
    cached = _INDEXES.get(stores.engine)
    if cached is None or not generation_is_recent(stores.engine):
        return None
    index = cached[1]
    point = _point_from_memory(index, query)
    documents = _DOCUMENTS.get(index)
    if point is _UNKNOWN or documents is None:
        return None
    total, chosen = _ids_at(index, query, now or datetime.now(LONDON), point)  # type: ignore[arg-type]
    if not all(service_id in documents for service_id in chosen):
        return None
    return _page_json(total, chosen, documents, query)


_UNKNOWN = (math.nan, math.nan)  # a postcode not placed yet


def _point_from_memory(index: SearchIndex, query: ServiceQuery) -> tuple[float, float] | None:
    if query.postcode and query.latitude is None and query.longitude is None:
        return index.postcodes.get(normalise_postcode(query.postcode), _UNKNOWN)
    return _point(None, query)  # no postcode: needs no session


def _page_json(total: int, chosen: list[str], texts: Mapping[str, bytes], query: ServiceQuery) -> bytes:
    fields = page_envelope([], total=total, query=query) | {"size": len(chosen)}
    envelope = json.dumps({k: v for k, v in fields.items() if k != "contents"})
    return b"".join((envelope[:-1].encode(), b', "contents": [', b",".join(texts[i] for i in chosen), b"]}"))


def _document_json(session: Session, index: SearchIndex, ids: list[str]) -> dict[str, bytes]:
    """The stored JSON of these services as bytes, read once per search index (a load or edit makes a new
    index, so a document is never served from before it changed)."""
    with _INDEX_LOCK:
        cache = _DOCUMENTS.setdefault(index, {})
    missing = [service_id for service_id in ids if service_id not in cache]
    if missing:
        rows = session.execute(select(DirectoryServiceRow.id, cast(DirectoryServiceRow.document, Text))
                               .where(DirectoryServiceRow.id.in_(missing))).all()
        cache.update((service_id, text.encode()) for service_id, text in rows)
    return {service_id: cache[service_id] for service_id in ids}


def _service_ids(session: Session, query: ServiceQuery, now: datetime, *,
                 index: SearchIndex | None = None) -> tuple[int, list[str]]:
    """How many services match, and the ids on the page asked for."""
    index = search_index(session) if index is None else index
    return _ids_at(index, query, now, _point(session, query, index))


def _ids_at(index: SearchIndex, query: ServiceQuery, now: datetime,
            point: tuple[float, float] | None) -> tuple[int, list[str]]:
    if point is not None:
        ids = _matching_at(index, query, now, point)
        return len(ids), [service_id for service_id, _ in _page(ids, query)]
    positions = np.flatnonzero(_mask(index, query, now))
    return len(positions), [index.ids[i] for i in _page(positions.tolist(), query)]


def service_at_location_page(*, stores: Stores, query: ServiceQuery, now: datetime | None = None) -> dict[str, Any]:
    with directory_session(stores) as session:
        ids = _matching(session, query, now or datetime.now(LONDON), by_place=True)
        chosen = [key for key, _ in _page(ids, query)]
        nester = Nester(_records(session, _SAL_KINDS))
        contents = [nester.nest("service_at_location", sal_id, skip=frozenset({"service"})) for _, sal_id in chosen]
    return page_envelope(contents, total=len(ids), query=query)


def service_at_location_page_json(*, stores: Stores, query: ServiceQuery, now: datetime | None = None) -> bytes:
    """``service_at_location_page`` as JSON bytes. Nesting one needs every record it might link to, so
    the first page asked for after a load nests them all once (seconds for a large directory) and keeps
    their JSON with the search index; later pages splice it, as ``service_page_json`` does."""
    with directory_session(stores) as session:
        index = search_index(session)
        ids = _matching(session, query, now or datetime.now(LONDON), by_place=True, index=index)
        chosen = [sal_id for (_, sal_id), _ in _page(ids, query)]
        texts = _service_at_location_json(session, index)
    return _page_json(len(ids), chosen, texts, query)


_SAL_DOCUMENTS: weakref.WeakKeyDictionary[SearchIndex, dict[str, bytes]] = weakref.WeakKeyDictionary()
_SAL_LOCK = threading.Lock()


def _service_at_location_json(session: Session, index: SearchIndex) -> dict[str, bytes]:
    cached = _SAL_DOCUMENTS.get(index)
    if cached is not None:
        return cached
    with _SAL_LOCK:  # one request nests them; the others wait for it rather than each doing it again
        cached = _SAL_DOCUMENTS.get(index)
        if cached is None:
            nester = Nester(_records(session, _SAL_KINDS))
            cached = _SAL_DOCUMENTS[index] = {
                sal_id: json.dumps(nester.nest("service_at_location", sal_id, skip=frozenset({"service"}))).encode()
                for kind, sal_id in nester.by_id if kind == "service_at_location"}
    return cached


def get_service(*, stores: Stores, service_id: str) -> dict[str, Any]:
    with directory_session(stores) as session:
        row = session.get(DirectoryServiceRow, service_id)
    if row is None:
        raise NotFoundError(f"No service has the id {service_id}.", hint="List services at /oruk/services.")
    return row.document


def record_page(*, stores: Stores, kind: str, params: Mapping[str, str]) -> dict[str, Any]:
    """A page of taxonomies, taxonomy terms or organisations (``taxonomy_id``, ``parent_id``, ``top_only``
    and ``search`` filter them)."""
    query = parse_query({k: params[k] for k in ("page", "per_page") if k in params})
    with directory_session(stores) as session:
        documents = [r for r in _records_of(session, kind) if _record_matches(r, params)]
        chosen = documents[(query.page - 1) * query.per_page: query.page * query.per_page]
        nester = Nester(_records(session, (kind, *_ATTRIBUTED, *_NESTED.get(kind, ()))))
        contents = [nester.nest(kind, str(r["id"]), skip=frozenset({"services", "locations"})) for r in chosen]
    return page_envelope(contents, total=len(documents), query=query)


def get_record(*, stores: Stores, kind: str, record_id: str) -> dict[str, Any]:
    with directory_session(stores) as session:
        if session.get(DirectoryRecordRow, (kind, record_id)) is None:
            raise NotFoundError(f"No {kind.replace('_', ' ')} has the id {record_id}.",
                                hint=f"List them at /oruk/{_PATHS[kind]}.")
        kinds = (kind, *_ATTRIBUTED, *_NESTED.get(kind, ()))
        if kind == "organization":
            return _organization_with_services(session, record_id, kinds)
        return Nester(_records(session, kinds)).nest(kind, record_id, skip=frozenset({"service"}))


def page_envelope(contents: list[dict[str, Any]], *, total: int, query: ServiceQuery) -> dict[str, Any]:
    pages = max(1, math.ceil(total / query.per_page))
    return {"total_items": total, "total_pages": pages, "page_number": query.page, "size": len(contents),
            "first_page": query.page == 1, "last_page": query.page >= pages, "empty": total == 0,
            "contents": contents}


_ATTRIBUTED = ("attribute", "taxonomy_term", "taxonomy", "metadata")
_NESTED = {
    "organization": ("organization_identifier", "funding", "contact", "phone", "program"),
    "location": ("address", "accessibility", "language", "phone", "contact", "schedule"),
    "service_at_location": ("location", "address", "accessibility", "language", "phone", "contact", "schedule",
                            "service_area"),
}
_SAL_KINDS = ("service_at_location", "location", *_ATTRIBUTED)  # what a list item of them nests
_PATHS = {"organization": "organizations", "taxonomy": "taxonomies", "taxonomy_term": "taxonomy_terms",
          "service_at_location": "service_at_locations", "service": "services"}


def _matching(session: Session, query: ServiceQuery, now: datetime, *, by_place: bool = False,
              index: SearchIndex | None = None) -> list[tuple[Any, float | None]]:
    """(service id, or (service id, service-at-location id) by place) with distance, in result order."""
    index = search_index(session) if index is None else index
    return _matching_at(index, query, now, _point(session, query, index), by_place=by_place)


def _matching_at(index: SearchIndex, query: ServiceQuery, now: datetime, point: tuple[float, float] | None, *,
                 by_place: bool = False) -> list[tuple[Any, float | None]]:
    chosen = _mask(index, query, now)
    if not by_place and point is None:
        return [(index.ids[i], None) for i in np.flatnonzero(chosen)]
    if not by_place and point is not None:
        return _services_by_distance(index, chosen, point, query)
    return _by_distance(_places_near(index, chosen, point, query), point, query, by_place=by_place)


def _services_by_distance(index: SearchIndex, chosen: np.ndarray, point: tuple[float, float],
                          query: ServiceQuery) -> list[tuple[Any, float | None]]:
    """``_by_distance`` of services in arrays (the same answer; a wide search from a postcode has thousands
    of places): each chosen service at its nearest place within the limit, nearest first, ties in the
    index's order (name, then id)."""
    limit = query.proximity or DEFAULT_PROXIMITY
    positions = np.flatnonzero(chosen[index.place_service])
    # A great-circle distance is at least the Earth's radius times the difference in latitude.
    band = np.abs(index.place_latitude[positions] - point[0]) <= math.degrees(limit / EARTH_RADIUS) * 1.001
    positions = positions[band]
    metres = _metres(point, index.place_latitude[positions], index.place_longitude[positions])
    near = metres <= limit  # NaN (no position) fails
    services, metres = index.place_service[positions[near]], metres[near]
    by_service = np.lexsort((metres, services))  # each service's nearest place first
    services, metres = services[by_service], metres[by_service]
    first = np.ones(len(services), dtype=bool)
    first[1:] = services[1:] != services[:-1]
    services, metres = services[first], metres[first]
    ranked = np.lexsort((services, metres))
    return [(index.ids[s], m) for s, m in zip(services[ranked].tolist(), metres[ranked].tolist(), strict=True)]


def matching_by_sql(session: Session, query: ServiceQuery, now: datetime, *,
                    by_place: bool = False) -> list[tuple[Any, float | None]]:
    """The same answer as the in-memory search, straight from the search tables: the reference it is
    tested against (and what the benchmark calls the search without the in-memory index)."""
    conditions = _conditions(query, now)
    point = _point(session, query)
    if not by_place and point is None:
        rows = session.execute(select(DirectoryServiceRow.id).where(*conditions)
                               .order_by(DirectoryServiceRow.name, DirectoryServiceRow.id)).scalars()
        return [(service_id, None) for service_id in rows]
    places = session.execute(
        select(DirectoryPlaceRow.service_id, DirectoryPlaceRow.service_at_location_id, DirectoryPlaceRow.latitude,
               DirectoryPlaceRow.longitude, DirectoryServiceRow.name)
        .join(DirectoryServiceRow, DirectoryServiceRow.id == DirectoryPlaceRow.service_id).where(*conditions)).all()
    return _by_distance(places, point, query, by_place=by_place)


def search_index(session: Session) -> SearchIndex:
    """The in-memory index of the search rows, rebuilt when a load or edit has rebuilt the rows."""
    engine = session.get_bind().engine
    cached = _INDEXES.get(engine)
    if cached is not None and generation_is_recent(session):
        return cached[1]  # no query at all: see RECHECK_SECONDS
    generation = checked_generation(session)
    if cached is not None and cached[0] == generation:
        return cached[1]
    with _INDEX_LOCK:
        cached = _INDEXES.get(engine)
        if cached is not None and cached[0] == generation:
            return cached[1]
        index = _load_index(session)
        if index_generation(session) == generation:  # not rebuilt while being read
            _INDEXES[engine] = (generation, index)
            if SETTLE_HEAP_AFTER_INDEX:
                _settle_heap()
    return index


# A long-running server (``wholeplace serve`` turns this on) keeps the index for hours: hundreds of thousands of
# objects that Python's cyclic garbage collector would otherwise walk in every full collection, a pause of
# 50-150 ms that under load made the slowest 5 % of searches four times slower than the median.
SETTLE_HEAP_AFTER_INDEX = False


def _settle_heap() -> None:
    """Collect garbage now, then move every object alive (the new index among them) out of the collector's
    sight (``gc.freeze``). They are still freed when nothing refers to them, as an old index is."""
    gc.collect()
    gc.freeze()


def _load_index(session: Session) -> SearchIndex:
    s, t, slot, p = DirectoryServiceRow, DirectoryServiceTermRow, DirectoryScheduleSlotRow, DirectoryPlaceRow
    services = session.execute(select(s.id, s.name, s.organization_id, s.search_text, s.minimum_age, s.maximum_age,
                                      s.last_modified)).all()
    terms = session.execute(select(t.service_id, t.taxonomy_term_id, t.taxonomy_id)).all()
    slots = session.execute(select(slot.service_id, slot.day, slot.opens, slot.closes, slot.valid_from,
                                   slot.valid_to)).all()
    places = session.execute(select(p.service_id, p.service_at_location_id, p.latitude, p.longitude)).all()
    return SearchIndex(list(services), list(terms), list(slots), list(places))


def _mask(index: SearchIndex, query: ServiceQuery, now: datetime) -> np.ndarray:
    chosen = index.everything()
    for word in (query.search or "").lower().split():
        chosen &= index.containing(word)
    if query.organization_id:
        chosen &= index.posting(index.organizations, query.organization_id)
    if query.taxonomy_term_id and query.taxonomy_id:
        chosen &= index.posting(index.term_pairs, f"{query.taxonomy_term_id}\x00{query.taxonomy_id}")
    elif query.taxonomy_term_id or query.taxonomy_id:
        table = index.terms if query.taxonomy_term_id else index.taxonomies
        chosen &= index.posting(table, str(query.taxonomy_term_id or query.taxonomy_id))
    return chosen & _age_mask(index, query) & _slot_mask(index, query, now)


def _age_mask(index: SearchIndex, query: ServiceQuery) -> np.ndarray:
    chosen = index.everything()
    lowest, highest = index.minimum_age, index.maximum_age
    if query.minimum_age is not None:
        chosen &= lowest >= query.minimum_age
    if query.maximum_age is not None:
        chosen &= highest <= query.maximum_age
    if query.age is not None:
        chosen &= (np.isnan(lowest) | (lowest <= query.age)) & (np.isnan(highest) | (highest >= query.age))
    if query.modified_after is not None:
        chosen &= index.modified >= micros(query.modified_after)
    return chosen


def _slot_mask(index: SearchIndex, query: ServiceQuery, now: datetime) -> np.ndarray:
    chosen = index.everything()
    if query.day or query.start_time is not None or query.end_time is not None:
        wanted = np.ones(len(index.slot_service), dtype=bool)
        if query.day:
            wanted &= index.slot_day == DAYS.index(query.day)
        if query.start_time is not None:
            wanted &= index.slot_opens >= query.start_time
        if query.end_time is not None:
            wanted &= index.slot_closes <= query.end_time
        chosen &= index.having(index.slot_service[wanted])
    if query.open_now:
        local = now.astimezone(LONDON)
        today, minute = local.date().isoformat(), local.hour * 60 + local.minute
        wanted = ((index.slot_day == local.weekday()) & (index.slot_opens <= minute)
                  & (index.slot_closes > minute))
        valid = [i for i in np.flatnonzero(wanted) if _valid_on(index.slot_valid[i], today)]
        chosen &= index.having(index.slot_service[np.array(valid, dtype=np.int64)])
    return chosen


def _valid_on(valid: tuple[str | None, str | None], today: str) -> bool:
    start, end = valid
    return (start is None or start <= today) and (end is None or end >= today)


def _places_near(index: SearchIndex, chosen: np.ndarray, point: tuple[float, float] | None,
                 query: ServiceQuery) -> list[tuple[Any, ...]]:
    """The places of the chosen services, within the limit of ``point`` when there is one (``_by_distance``
    measures these few again with the same arithmetic, as it does the SQL reference's places)."""
    wanted = chosen[index.place_service]
    if point is not None:
        wanted &= _metres(point, index.place_latitude, index.place_longitude) <= (query.proximity or DEFAULT_PROXIMITY)
    return [index.place_rows[i] for i in np.flatnonzero(wanted).tolist()]


EARTH_RADIUS = 6_371_008.8  # metres, the mean radius


def _metres(point: tuple[float, float], latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """``metres_between`` of ``point`` and each position, in arrays (NaN where there is no position)."""
    lat1, lon1 = np.radians(point[0]), np.radians(point[1])
    lat2, lon2 = np.radians(latitude), np.radians(longitude)
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(h, 0, 1)))  # type: ignore[no-any-return]


def _by_distance(places: Sequence[Any], point: tuple[float, float] | None, query: ServiceQuery, *,
                 by_place: bool) -> list[tuple[Any, float | None]]:
    limit = query.proximity or DEFAULT_PROXIMITY
    best: dict[Any, tuple[float | None, str]] = {}
    distances: list[float | None] = [None] * len(places)
    if point is not None and places:  # the same arithmetic as _services_by_distance, so the same answer
        latitude = np.array([np.nan if p[2] is None else p[2] for p in places], dtype=float)
        longitude = np.array([np.nan if p[3] is None else p[3] for p in places], dtype=float)
        distances = [None if math.isnan(d) else d for d in _metres(point, latitude, longitude).tolist()]
    for (service_id, sal_id, _lat, _lon, name), distance in zip(places, distances, strict=True):
        if point is not None and (distance is None or distance > limit):
            continue
        key = (service_id, sal_id) if by_place else service_id
        if key not in best or (distance or 0) < (best[key][0] or 0):
            best[key] = (distance, name)
    ordered = sorted(best.items(), key=lambda item: (item[1][0] or 0, item[1][1], str(item[0])))
    return [(key, distance) for key, (distance, _) in ordered]


def _conditions(query: ServiceQuery, now: datetime) -> list[ColumnElement[bool]]:
    s = DirectoryServiceRow
    found: list[ColumnElement[bool]] = []
    for word in (query.search or "").lower().split():
        found.append(s.search_text.contains(word, autoescape=True))
    if query.organization_id:
        found.append(s.organization_id == query.organization_id)
    if query.taxonomy_term_id or query.taxonomy_id:
        t = DirectoryServiceTermRow
        term = [t.taxonomy_term_id == query.taxonomy_term_id] if query.taxonomy_term_id else []
        term += [t.taxonomy_id == query.taxonomy_id] if query.taxonomy_id else []
        found.append(exists().where(t.service_id == s.id, *term))
    if query.minimum_age is not None:
        found.append(s.minimum_age >= query.minimum_age)
    if query.maximum_age is not None:
        found.append(s.maximum_age <= query.maximum_age)
    if query.age is not None:
        found.append(and_(or_(s.minimum_age.is_(None), s.minimum_age <= query.age),
                          or_(s.maximum_age.is_(None), s.maximum_age >= query.age)))
    if query.modified_after is not None:
        found.append(s.last_modified >= query.modified_after)
    return found + _slot_conditions(query, now)


def _slot_conditions(query: ServiceQuery, now: datetime) -> list[ColumnElement[bool]]:
    slot = DirectoryScheduleSlotRow
    found: list[ColumnElement[bool]] = []
    if query.day or query.start_time is not None or query.end_time is not None:
        wanted = [slot.day == query.day] if query.day else []
        wanted += [slot.opens >= query.start_time] if query.start_time is not None else []
        wanted += [slot.closes <= query.end_time] if query.end_time is not None else []
        found.append(exists().where(slot.service_id == DirectoryServiceRow.id, *wanted))
    if query.open_now:
        local = now.astimezone(LONDON)
        today, minute = local.date().isoformat(), local.hour * 60 + local.minute
        found.append(exists().where(
            slot.service_id == DirectoryServiceRow.id, slot.day == DAYS[local.weekday()], slot.opens <= minute,
            slot.closes > minute, or_(slot.valid_from.is_(None), slot.valid_from <= today),
            or_(slot.valid_to.is_(None), slot.valid_to >= today)))
    return found


def _point(session: Session | None, query: ServiceQuery,
           index: SearchIndex | None = None) -> tuple[float, float] | None:
    """Where the search is from: latitude and longitude, else the postcode (needs ``session``), else None."""
    if query.latitude is not None and query.longitude is not None:
        return (query.latitude, query.longitude)
    if (query.latitude is None) != (query.longitude is None):
        raise UserError("Give both latitude and longitude, or neither.",
                        hint="For example latitude=53.8&longitude=-2.7.")
    if not query.postcode:
        return None
    assert session is not None
    return postcode_centroid(session, query.postcode, index)


def postcode_centroid(session: Session, postcode: str, index: SearchIndex | None = None) -> tuple[float, float]:
    """Where a postcode is: its loaded centroid, else the mean of the directory's locations there; kept with
    the search index (a postcode load or directory change makes a new one)."""
    code = normalise_postcode(postcode)
    if index is not None and code in index.postcodes:
        return index.postcodes[code]
    point = _postcode_centroid(session, postcode, code)
    if index is not None and len(index.postcodes) < POSTCODES_KEPT:
        index.postcodes[code] = point
    return point


POSTCODES_KEPT = 100_000  # postcodes remembered per search index (a few MB)


def _postcode_centroid(session: Session, postcode: str, code: str) -> tuple[float, float]:
    known = session.get(DirectoryPostcodeRow, code)
    if known is not None:
        return (known.latitude, known.longitude)
    p = DirectoryPlaceRow
    lat, lon = session.execute(select(func.avg(p.latitude), func.avg(p.longitude))
                               .where(p.postcode == code, p.latitude.is_not(None), p.longitude.is_not(None))).one()
    if lat is None:
        raise UserError(f"The postcode '{postcode}' is not known to this directory.",
                        hint="Check the postcode, or search with latitude and longitude instead.")
    return (float(lat), float(lon))


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, mean Earth radius) in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _page(ids: list[Any], query: ServiceQuery) -> list[Any]:
    return ids[(query.page - 1) * query.per_page: query.page * query.per_page]


def _service_documents(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(DirectoryServiceRow.id, DirectoryServiceRow.document)
                           .where(DirectoryServiceRow.id.in_(ids))).all() if ids else []
    return {service_id: document for service_id, document in rows}


def _records(session: Session, kinds: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(select(DirectoryRecordRow.kind, DirectoryRecordRow.document)
                           .where(DirectoryRecordRow.kind.in_(kinds))).all()
    return [(kind, document) for kind, document in rows]


def _records_of(session: Session, kind: str) -> list[dict[str, Any]]:
    return list(session.scalars(select(DirectoryRecordRow.document).where(DirectoryRecordRow.kind == kind)
                                .order_by(DirectoryRecordRow.id)))


def _organization_with_services(session: Session, org_id: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    document = Nester(_records(session, kinds)).nest("organization", org_id)
    services = session.scalars(select(DirectoryServiceRow.document).where(DirectoryServiceRow.organization_id == org_id)
                               .order_by(DirectoryServiceRow.name)).all()
    return document | {"services": [{k: v for k, v in s.items() if k != "organization"} for s in services]}


def _record_matches(record: dict[str, Any], params: Mapping[str, str]) -> bool:
    if params.get("taxonomy_id") and record.get("taxonomy_id") != params["taxonomy_id"]:
        return False
    if params.get("parent_id") and record.get("parent_id") != params["parent_id"]:
        return False
    if params.get("top_only", "").lower() in ("true", "1") and record.get("parent_id"):
        return False
    words = (params.get("search") or "").lower().split()
    text = f"{record.get('name') or ''} {record.get('description') or ''}".lower()
    return all(word in text for word in words)


def _check_paging(query: ServiceQuery) -> None:
    if query.page < 1:
        raise UserError(f"page must be 1 or more (got {query.page}).", hint="Pages are numbered from 1.")
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        raise UserError(f"per_page must be between 1 and {MAX_PER_PAGE} (got {query.per_page}).",
                        hint=f"Ask for at most {MAX_PER_PAGE} items a page.")
    if query.proximity is not None and query.proximity <= 0:
        raise UserError("proximity must be a distance in metres above 0.", hint="For example proximity=1000.")


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"The parameter {name} must be a number (got '{text}').",
                        hint=f"For example {name}=18.") from None
    if not math.isfinite(value):
        raise UserError(f"The parameter {name} must be a finite number (got '{text}').")
    return value


def _time(name: str, text: str) -> int:
    value = minutes(text)
    if value is None:
        raise UserError(f"The parameter {name} must be a time as HH:MM (got '{text}').",
                        hint=f"For example {name}=09:30.")
    return value


def _day(text: str) -> str:
    code = _DAY_NAMES.get(text.strip().lower(), text.strip().upper())
    if code not in DAYS:
        raise UserError(f"The parameter day must be a day such as MO or Monday (got '{text}').",
                        hint=f"Use one of {', '.join(DAYS)}.")
    return code


def _moment(text: str) -> datetime:
    value = parse_datetime(text)
    if value is None:
        raise UserError(f"The parameter modified_after must be a date-time (got '{text}').",
                        hint="For example modified_after=2025-01-01T00:00:00Z.")
    return value

"""What search needs from one assembled service: its text, ages, taxonomy terms, weekly opening
slots and places (position and postcode). Pure functions over HSDS JSON; ``store`` writes the rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from wholeplace.directory.model import Nester

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})")
_MICROSECOND = timedelta(microseconds=1)


def service_rows(nester: Nester, service_id: str) -> tuple[dict[str, Any], list[dict[str, str]],
                                                             list[dict[str, Any]], list[dict[str, Any]]]:
    document = nester.nest("service", service_id)
    organization = document.get("organization") or {}
    text = " ".join(str(document.get(k) or "") for k in ("name", "alternate_name", "description"))
    service = {
        "id": service_id, "organization_id": document.get("organization_id"),
        "name": str(document.get("name") or ""), "status": str(document.get("status") or ""),
        "search_text": f"{text} {organization.get('name') or ''}".lower(),
        "minimum_age": _number(document.get("minimum_age")), "maximum_age": _number(document.get("maximum_age")),
        "last_modified": parse_datetime(document.get("last_modified")),
        "last_checked": document.get("assured_date"), "document": document,
    }
    return service, service_terms(nester, document), weekly_slots(document), service_places(document)


def service_terms(nester: Nester, service: dict[str, Any]) -> list[dict[str, str]]:
    """The taxonomy terms a service is tagged with (through its attributes), each with its taxonomy."""
    found: dict[str, str] = {}
    for attribute in service.get("attributes", []):
        term_id = attribute.get("taxonomy_term_id")
        if term_id:
            term = nester.by_id.get(("taxonomy_term", str(term_id)), {})
            found[str(term_id)] = str(term.get("taxonomy_id") or "")
    return [{"taxonomy_term_id": t, "taxonomy_id": x} for t, x in sorted(found.items())]


def weekly_slots(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Weekly opening slots (day, opens and closes in minutes) from the service's schedules and those
    of its service-at-locations; schedules that are not weekly by day are not slots."""
    schedules = list(service.get("schedules", []))
    for at in service.get("service_at_locations", []):
        schedules += at.get("schedules", [])
    slots: list[dict[str, Any]] = []
    for schedule in schedules:
        opens, closes = minutes(schedule.get("opens_at")), minutes(schedule.get("closes_at"))
        if opens is None or closes is None or str(schedule.get("freq") or "WEEKLY").upper() != "WEEKLY":
            continue
        for day in str(schedule.get("byday") or "").upper().replace(" ", "").split(","):
            if day in DAYS:
                slots.append({"day": day, "opens": opens, "closes": closes,
                              "valid_from": _date(schedule.get("valid_from")),
                              "valid_to": _date(schedule.get("valid_to"))})
    return slots


def service_places(service: dict[str, Any]) -> list[dict[str, Any]]:
    places = []
    for at in service.get("service_at_locations", []):
        location = at.get("location") or {}
        places.append({"service_at_location_id": str(at["id"]), "location_id": str(location.get("id") or ""),
                       "latitude": _number(location.get("latitude")), "longitude": _number(location.get("longitude")),
                       "postcode": location_postcode(location)})
    return places


def location_postcode(location: dict[str, Any]) -> str | None:
    for address in location.get("addresses", []):
        if address.get("postal_code"):
            return normalise_postcode(str(address["postal_code"]))
    return None


def normalise_postcode(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def minutes(value: Any) -> int | None:
    """'09:30', '09:30:00' or '09:30+01:00' as minutes after midnight; None when not a time."""
    match = _TIME.match(str(value or "").strip())
    if match is None or int(match[1]) > 24 or int(match[2]) > 59:
        return None
    return int(match[1]) * 60 + int(match[2])


def parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> str | None:
    return str(value)[:10] if value else None


class SearchIndex:
    """The search rows of every service held in memory, so that a search filters arrays instead of
    scanning tables: services in result order (name, then id) with their text, ages, organisation and
    modified time; taxonomy terms and organisations as posting lists; weekly slots and places as arrays
    pointing at a service's position. ``query`` builds it from the stored rows; its masks equal the
    SQL conditions over the same rows (a test holds them to it)."""

    def __init__(self, services: list[tuple[Any, ...]], terms: list[tuple[str, str, str]],
                 slots: list[tuple[Any, ...]], places: list[tuple[Any, ...]]) -> None:
        ordered = sorted(services, key=lambda row: (row[1], row[0]))
        self.postcodes: dict[str, tuple[float, float]] = {}  # postcode → centroid, as searches find them
        self.ids: list[str] = [row[0] for row in ordered]
        self.names: list[str] = [row[1] for row in ordered]
        position = {service_id: i for i, service_id in enumerate(self.ids)}
        self.organizations = _postings((row[2], position[row[0]]) for row in ordered)
        tokens = _postings((token, i) for i, row in enumerate(ordered) for token in str(row[3]).split())
        self.token_postings = list(tokens.values())
        self.vocabulary = "\x00".join(token.replace("\x00", " ") for token in tokens)
        self.token_starts = np.cumsum([0] + [len(t) + 1 for t in list(tokens)[:-1]], dtype=np.int64)
        self.minimum_age = np.array([_nan(row[4]) for row in ordered], dtype=float)
        self.maximum_age = np.array([_nan(row[5]) for row in ordered], dtype=float)
        self.modified = np.array([micros(row[6]) for row in ordered], dtype=np.int64)
        terms = [row for row in terms if row[0] in position]
        self.terms = _postings((term, position[service_id]) for service_id, term, _ in terms)
        self.taxonomies = _postings((taxonomy, position[service_id]) for service_id, _, taxonomy in terms)
        self.term_pairs = _postings((f"{term}\x00{taxonomy}", position[service_id])
                                    for service_id, term, taxonomy in terms)
        slots = [row for row in slots if row[0] in position]
        self.slot_service = np.array([position[row[0]] for row in slots], dtype=np.int64)
        self.slot_day = np.array([DAYS.index(row[1]) if row[1] in DAYS else -1 for row in slots], dtype=np.int64)
        self.slot_opens = np.array([row[2] for row in slots], dtype=np.int64)
        self.slot_closes = np.array([row[3] for row in slots], dtype=np.int64)
        self.slot_valid: list[tuple[str | None, str | None]] = [(row[4], row[5]) for row in slots]
        places = [row for row in places if row[0] in position]
        self.place_service = np.array([position[row[0]] for row in places], dtype=np.int64)
        self.place_latitude = np.array([_nan(row[2]) for row in places], dtype=float)
        self.place_longitude = np.array([_nan(row[3]) for row in places], dtype=float)
        self.place_rows = [(row[0], row[1], row[2], row[3], self.names[position[row[0]]]) for row in places]

    def __len__(self) -> int:
        return len(self.ids)

    def everything(self) -> np.ndarray:
        return np.ones(len(self.ids), dtype=bool)

    def containing(self, word: str) -> np.ndarray:
        """The services whose search text contains ``word``. A word has no whitespace, so it lies inside
        one whitespace-separated token: the distinct tokens are searched, then their postings joined."""
        if not word or "\x00" in word:
            return self.having(np.zeros(0, dtype=np.int64))
        starts, at = [], self.vocabulary.find(word)
        while at != -1:
            starts.append(at)
            at = self.vocabulary.find(word, at + 1)
        tokens = set(np.searchsorted(self.token_starts, np.array(starts, dtype=np.int64), side="right") - 1)
        return self.having(np.concatenate([self.token_postings[t] for t in tokens]) if tokens else
                           np.zeros(0, dtype=np.int64))

    def having(self, positions: np.ndarray) -> np.ndarray:
        found = np.zeros(len(self.ids), dtype=bool)
        found[positions] = True
        return found

    def posting(self, table: dict[str, np.ndarray], key: str) -> np.ndarray:
        return self.having(table.get(key, np.zeros(0, dtype=np.int64)))


def micros(moment: datetime | None) -> int:
    """Microseconds since 1970 UTC (a naive time is UTC, as the store keeps it); None sorts first."""
    if moment is None:
        return -(2**62)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND


def _postings(pairs: Any) -> dict[str, np.ndarray]:
    grouped: dict[str, set[int]] = {}
    for key, position in pairs:
        if key is not None:
            grouped.setdefault(str(key), set()).add(position)
    return {key: np.array(sorted(positions), dtype=np.int64) for key, positions in grouped.items()}


def _nan(value: Any) -> float:
    return np.nan if value is None else float(value)

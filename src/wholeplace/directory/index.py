"""What search needs from one assembled service: its text, ages, taxonomy terms, weekly opening
slots and places (position and postcode). Pure functions over HSDS JSON; ``store`` writes the rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from wholeplace.directory.model import Nester

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})")


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

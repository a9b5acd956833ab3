"""The spreadsheet template: one CSV row per service at one place, for partners without an HSDS
feed. Each row becomes HSDS JSON (organisation, service, location, schedule, terms) with stable ids:
a blank id is derived from the names, so loading the same sheet again replaces rather than duplicates.

Columns (``*`` required): service_name*, organization_name*, service_id, service_description,
service_status (active by default), service_url, service_email, organization_id, charity_number,
company_number, minimum_age, maximum_age, eligibility_description, location_name, address_1, city,
postcode, latitude, longitude, uprn, phone, days (e.g. ``MO,TU,WE``), opens_at, closes_at (``HH:MM``),
taxonomy_terms, languages (ISO 639 codes) and accessibility (each a ``;``-separated list), free (yes/no).
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

from wholeplace.directory.index import DAYS, minutes
from wholeplace.directory.model import STATUSES, RecordSet, flatten
from wholeplace.errors import InputError, Problem

COLUMNS = ("service_id", "service_name", "service_description", "service_status", "service_url", "service_email",
           "organization_id", "organization_name", "charity_number", "company_number", "minimum_age", "maximum_age",
           "eligibility_description", "location_name", "address_1", "city", "postcode", "latitude", "longitude",
           "uprn", "phone", "days", "opens_at", "closes_at", "taxonomy_terms", "languages", "accessibility", "free")
REQUIRED = ("service_name", "organization_name")
NAMESPACE = uuid.UUID("5b0f3f52-6c1e-4a53-9d0e-2f7a7f4c9a10")
LOCAL_TAXONOMY = {"id": str(uuid.uuid5(NAMESPACE, "taxonomy:local")), "name": "Local terms",
                  "description": "Terms given in the directory spreadsheet template."}


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(p.strip().lower() for p in parts)))


def read_template(path: Path) -> RecordSet:
    problems: list[Problem] = []
    records = RecordSet()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        unknown = [c for c in reader.fieldnames or [] if c not in COLUMNS]
        problems += [Problem(str(path), f"the column '{c}' is missing", line=1, column=c) for c in missing]
        problems += [Problem(str(path), f"'{c}' is not a template column", line=1, column=c) for c in unknown]
        if not problems:
            for row in reader:
                row_problems = _row_problems(row)
                problems += [Problem(str(path), m, line=reader.line_num, column=c) for c, m in row_problems]
                if not row_problems:
                    flatten(service_from_row(row), "service", records, where=f"line {reader.line_num}")
    if problems:
        raise InputError(problems, hint=f"The template's columns are: {', '.join(COLUMNS)}.")
    return records


def service_from_row(row: dict[str, str]) -> dict[str, Any]:
    """One template row as a nested HSDS service."""
    value = {k: (v or "").strip() for k, v in row.items() if k}
    org_id = value.get("organization_id") or stable_id("organization", value["organization_name"])
    service_id = value.get("service_id") or stable_id("service", value["organization_name"], value["service_name"])
    service: dict[str, Any] = {
        "id": service_id, "name": value["service_name"], "status": value.get("service_status") or "active",
        "organization_id": org_id, "organization": _organization(org_id, value),
        "attributes": [_attribute(service_id, t) for t in _list(value.get("taxonomy_terms"))],
        "languages": [{"id": stable_id("language", service_id, c), "code": c} for c in _list(value.get("languages"))],
    }
    for source, target in (("service_description", "description"), ("service_url", "url"), ("service_email", "email"),
                           ("eligibility_description", "eligibility_description")):
        if value.get(source):
            service[target] = value[source]
    for name in ("minimum_age", "maximum_age"):
        if value.get(name):
            service[name] = int(float(value[name]))
    if value.get("free", "").lower() in ("yes", "y", "true"):
        service["cost_options"] = [{"id": stable_id("cost", service_id), "option": "Free", "amount": 0}]
    if value.get("postcode") or value.get("address_1") or value.get("latitude"):
        service["service_at_locations"] = [_service_at_location(service_id, value)]
    if value.get("days"):
        service["schedules"] = [{"id": stable_id("schedule", service_id), "freq": "WEEKLY", "byday": value["days"],
                                 "opens_at": value["opens_at"], "closes_at": value["closes_at"]}]
    if value.get("phone"):
        service["contacts"] = [{"id": stable_id("contact", service_id), "phones": [
            {"id": stable_id("phone", service_id), "number": value["phone"]}]}]
    return service


def _row_problems(row: dict[str, str]) -> list[tuple[str, str]]:
    found = [(c, f"'{c}' is empty: every row needs it") for c in REQUIRED if not (row.get(c) or "").strip()]
    for name in ("minimum_age", "maximum_age", "latitude", "longitude"):
        text = (row.get(name) or "").strip()
        if text and not _is_number(text):
            found.append((name, f"'{text}' is not a number"))
    status = (row.get("service_status") or "").strip()
    if status and status not in STATUSES:
        found.append(("service_status", f"'{status}' is not one of {', '.join(STATUSES)}"))
    days = [d for d in (row.get("days") or "").upper().replace(" ", "").split(",") if d]
    if [d for d in days if d not in DAYS]:
        found.append(("days", f"days must be two-letter codes such as MO,TU (got '{row.get('days')}')"))
    if days and (minutes(row.get("opens_at")) is None or minutes(row.get("closes_at")) is None):
        found.append(("opens_at", "a row with days needs opens_at and closes_at as HH:MM"))
    return found


def _organization(org_id: str, value: dict[str, str]) -> dict[str, Any]:
    identifiers = [{"id": stable_id("identifier", org_id, scheme), "identifier_scheme": scheme,
                    "identifier_type": label, "identifier": value[column]}
                   for column, scheme, label in (("charity_number", "GB-CHC", "Charity number"),
                                                 ("company_number", "GB-COH", "Company number")) if value.get(column)]
    return {"id": org_id, "name": value["organization_name"], "description": value["organization_name"],
            "organization_identifiers": identifiers}


def _service_at_location(service_id: str, value: dict[str, str]) -> dict[str, Any]:
    location_id = stable_id("location", value.get("location_name", ""), value.get("address_1", ""),
                            value.get("postcode", ""))
    location: dict[str, Any] = {"id": location_id, "location_type": "physical"}
    if value.get("location_name"):
        location["name"] = value["location_name"]
    if value.get("latitude") and value.get("longitude"):
        location |= {"latitude": float(value["latitude"]), "longitude": float(value["longitude"])}
    if value.get("uprn"):
        location |= {"external_identifier": value["uprn"], "external_identifier_type": "UPRN"}
    if value.get("postcode"):
        location["addresses"] = [{"id": stable_id("address", location_id), "address_1": value.get("address_1", ""),
                                  "city": value.get("city", ""), "state_province": "", "country": "GB",
                                  "postal_code": value["postcode"], "address_type": "physical"}]
    location["accessibility"] = [{"id": stable_id("accessibility", location_id, a), "description": a}
                                 for a in _list(value.get("accessibility"))]
    return {"id": stable_id("service_at_location", service_id, location_id), "location": location}


def _attribute(service_id: str, term: str) -> dict[str, Any]:
    term_id = stable_id("term", term)
    return {"id": stable_id("attribute", service_id, term_id), "taxonomy_term_id": term_id,
            "link_type": "service_type", "link_entity": "service",
            "taxonomy_term": {"id": term_id, "name": term, "description": term, "taxonomy_id": LOCAL_TAXONOMY["id"],
                              "taxonomy_detail": LOCAL_TAXONOMY}}


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

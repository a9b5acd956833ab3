"""The HSDS 3.0 object model declared once: which objects exist, how they nest in JSON, which
columns link them in tables, and which fields are numbers.

Every HSDS object is kept as one flat *record* (its own fields plus the keys that link it to its
parents, exactly as the HSDS tabular form has it). ``flatten`` turns nested HSDS JSON into records
and ``nest`` builds nested JSON back from records, both driven by ``CHILDREN`` and ``SINGLES``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PROFILE_VERSION = "HSDS-UK-3.0"
STATUSES = ("active", "inactive", "defunct", "temporarily closed")
TOP_LEVEL = ("organization", "service", "location", "service_at_location", "taxonomy", "taxonomy_term")
_LINKS = {"attributes": "attribute", "metadata": "metadata"}
ALIASES = {("service", "service_capacity"): "capacities"}  # accepted on import, written under the HSDS 3.1 name

# parent kind -> {JSON array key: child kind}; a child row carries ``{parent}_id`` (attributes carry
# link_id/link_entity, metadata resource_id/resource_type).
CHILDREN: dict[str, dict[str, str]] = {
    "organization": {"services": "service", "locations": "location", "programs": "program", "funding": "funding",
                     "contacts": "contact", "phones": "phone", "organization_identifiers": "organization_identifier"},
    "service": {"service_at_locations": "service_at_location", "phones": "phone", "schedules": "schedule",
                "service_areas": "service_area", "languages": "language", "funding": "funding",
                "cost_options": "cost_option", "required_documents": "required_document", "contacts": "contact",
                "capacities": "service_capacity"},
    "location": {"addresses": "address", "accessibility": "accessibility", "languages": "language",
                 "phones": "phone", "contacts": "contact", "schedules": "schedule"},
    "service_at_location": {"contacts": "contact", "phones": "phone", "schedules": "schedule",
                            "service_areas": "service_area"},
    "contact": {"phones": "phone"},
    "phone": {"languages": "language"},
}
# (kind, JSON key) -> (kind of the one nested object, the column holding its id)
SINGLES: dict[tuple[str, str], tuple[str, str]] = {
    ("service", "organization"): ("organization", "organization_id"),
    ("service", "program"): ("program", "program_id"),
    ("service_at_location", "location"): ("location", "location_id"),
    ("service_at_location", "service"): ("service", "service_id"),
    ("attribute", "taxonomy_term"): ("taxonomy_term", "taxonomy_term_id"),
    ("taxonomy_term", "taxonomy_detail"): ("taxonomy", "taxonomy_id"),
}
# What is left out when a nested object is reached through a parent, so nesting never loops back.
NOT_UNDER: dict[tuple[str, str], frozenset[str]] = {
    ("service", "organization"): frozenset({"services"}),
    ("service", "service_at_locations"): frozenset({"service"}),
    ("organization", "services"): frozenset({"organization"}),
}
NUMBERS = frozenset({"minimum_age", "maximum_age", "latitude", "longitude", "amount", "extension", "interval",
                     "count", "year_incorporated", "timezone", "capacity", "maximum", "available"})
# kind -> CSV file of an HSDS data package (the names of the HSDS 3.0 datapackage.json)
TABLE_FILES: dict[str, str] = {
    "organization": "organizations.csv", "program": "programs.csv", "service": "services.csv",
    "attribute": "attributes.csv", "service_at_location": "service_at_location.csv", "location": "locations.csv",
    "phone": "phones.csv", "contact": "contacts.csv", "address": "addresses.csv", "schedule": "schedules.csv",
    "funding": "funding.csv", "service_area": "service_areas.csv", "required_document": "required_documents.csv",
    "language": "languages.csv", "accessibility": "accessibility.csv", "taxonomy_term": "taxonomy_terms.csv",
    "metadata": "metadata.csv", "meta_table_description": "meta_table_descriptions.csv",
    "cost_option": "cost_options.csv", "organization_identifier": "organization_identifiers.csv",
    "taxonomy": "taxonomies.csv", "service_capacity": "service_capacities.csv",
}
KINDS = tuple(TABLE_FILES)


def link_columns(parent_kind: str, child_kind: str) -> dict[str, str]:
    """Column name -> what it holds ('id' or 'kind') linking a child row to its parent."""
    if child_kind == "attribute":
        return {"link_id": "id", "link_entity": "kind"}
    if child_kind == "metadata":
        return {"resource_id": "id", "resource_type": "kind"}
    return {f"{parent_kind}_id": "id"}


def children_of(kind: str) -> dict[str, str]:
    """JSON array key -> child kind for ``kind``: its declared children plus attributes and metadata."""
    return CHILDREN.get(kind, {}) | _LINKS


@dataclass
class RecordSet:
    """Flat HSDS records by (kind, id); a record met twice is merged (a phone under a contact and a service)."""

    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def add(self, kind: str, record: dict[str, Any]) -> None:
        key = (kind, str(record["id"]))
        current = self.records.setdefault(key, {})
        current.update({k: v for k, v in record.items() if v is not None or k not in current})

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for (k, _), r in self.records.items() if k == kind]


def flatten(document: dict[str, Any], kind: str, into: RecordSet, *, where: str,
            parent: tuple[str, str] | None = None) -> list[str]:
    """Add ``document`` and everything nested in it to ``into``; returns the problems found (by JSON path)."""
    if not isinstance(document, dict) or document.get("id") in (None, ""):
        return [f"{where}: every {kind} needs an 'id'"]
    record: dict[str, Any] = {}
    problems: list[str] = []
    arrays, singles = children_of(kind), {key for (k, key) in SINGLES if k == kind}
    for given, value in document.items():
        key = ALIASES.get((kind, given), given)
        if key in arrays and isinstance(value, list):
            for i, child in enumerate(value):
                problems += flatten(child, arrays[key], into, where=f"{where}.{key}[{i}]",
                                    parent=(kind, document["id"]))
        elif key in singles and isinstance(value, dict):
            target, column = SINGLES[(kind, key)]
            problems += flatten(value, target, into, where=f"{where}.{key}")
            record[column] = value.get("id")
        else:
            record[key] = value
    if parent is not None:
        for column, holds in link_columns(parent[0], kind).items():
            record[column] = parent[1] if holds == "id" else parent[0]  # nesting decides the parent
    into.add(kind, record)
    return problems


class Nester:
    """Builds nested HSDS JSON from flat records, indexing the link columns once."""

    def __init__(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self.by_id: dict[tuple[str, str], dict[str, Any]] = {}
        self.by_link: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for kind, record in records:
            self.by_id[(kind, str(record["id"]))] = record
            for column in ("link_id", "resource_id", *(f"{k}_id" for k in CHILDREN)):
                if record.get(column):
                    self.by_link[(kind, column, str(record[column]))].append(record)

    def nest(self, kind: str, record_id: str, *, skip: frozenset[str] = frozenset(), depth: int = 0) -> dict[str, Any]:
        record = self.by_id.get((kind, record_id))
        if record is None:
            return {}
        out = dict(record)
        if depth > 6:
            return out
        for key, child_kind in children_of(kind).items():
            if key in skip:
                continue
            column = next(iter(link_columns(kind, child_kind)))
            rows = [r for r in self.by_link.get((child_kind, column, record_id), [])
                    if _links_kind(r, child_kind, kind)]
            if rows:
                inner = NOT_UNDER.get((kind, key), frozenset())
                out[key] = [self._strip(self.nest(child_kind, str(r["id"]), skip=inner, depth=depth + 1), column)
                            for r in sorted(rows, key=lambda r: str(r["id"]))]
        for (owner, key), (target, column) in SINGLES.items():
            if owner == kind and key not in skip and record.get(column) and (target, str(record[column])) in self.by_id:
                inner = NOT_UNDER.get((kind, key), frozenset())
                out[key] = self.nest(target, str(record[column]), skip=inner, depth=depth + 1)
        return out

    @staticmethod
    def _strip(document: dict[str, Any], column: str) -> dict[str, Any]:
        """The key to the parent is implied by nesting (attributes and metadata keep theirs)."""
        if column in ("link_id", "resource_id"):
            return document
        return {k: v for k, v in document.items() if k != column}


def _links_kind(record: dict[str, Any], child_kind: str, parent_kind: str) -> bool:
    column = {"attribute": "link_entity", "metadata": "resource_type"}.get(child_kind)
    return column is None or not record.get(column) or record[column] == parent_kind

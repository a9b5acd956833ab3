"""Likely duplicate organisations across imported directories, and the merge an editor makes.

Two organisations are likely the same when they share an organisation identifier (a charity or
company number in the same scheme), or when their names are similar (Jaro-Winkler at least
``NAME_SIMILARITY``) and they have a location with the same postcode. Merging keeps one record,
points the other's services and locations at it, removes it, and records who merged what.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import jellyfish
from sqlalchemy import select
from sqlalchemy.orm import Session

from wholeplace.directory.index import location_postcode
from wholeplace.directory.model import Nester
from wholeplace.directory.store import (
    DirectoryMergeRow,
    DirectoryRecordRow,
    all_records,
    directory_session,
    rebuild_index,
)
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store.operational import utcnow
from wholeplace.store.stores import Stores

NAME_SIMILARITY = 0.9


@dataclass(frozen=True)
class LikelyDuplicate:
    first_id: str
    first_name: str
    second_id: str
    second_name: str
    reasons: tuple[str, ...]


def find_duplicates(*, stores: Stores) -> list[LikelyDuplicate]:
    with directory_session(stores) as session:
        nester = Nester(all_records(session))
    organizations = {i: nester.nest("organization", i) for (k, i) in nester.by_id if k == "organization"}
    postcodes = _postcodes(nester)
    found = []
    for a, b in itertools.combinations(sorted(organizations), 2):
        reasons = _reasons(organizations[a], organizations[b], postcodes[a] & postcodes[b])
        if reasons:
            found.append(LikelyDuplicate(a, str(organizations[a].get("name")), b, str(organizations[b].get("name")),
                                         tuple(reasons)))
    return found


def merge_organizations(*, stores: Stores, keep_id: str, drop_id: str, by: str) -> int:
    """Keep ``keep_id``; its duplicate's services and locations now belong to it. Returns records repointed."""
    if keep_id == drop_id:
        raise UserError("An organisation cannot be merged with itself.", hint="Give two different organisation ids.")
    if "@" not in by:
        raise UserError(f"'{by}' is not an email address.", hint="Say who merged the records with --by EMAIL.")
    with directory_session(stores) as session:
        _organization_row(session, keep_id)
        dropped = _organization_row(session, drop_id)
        moved = _repoint(session, keep_id, drop_id)
        session.add(DirectoryMergeRow(kind="organization", kept_id=keep_id, dropped_id=drop_id, merged_by=by,
                                      merged_at=utcnow(), dropped_document=dropped.document))
        session.delete(dropped)
        session.flush()
        rebuild_index(session)
    return moved


def merges(*, stores: Stores) -> list[dict[str, Any]]:
    with directory_session(stores) as session:
        rows = session.scalars(select(DirectoryMergeRow).order_by(DirectoryMergeRow.number)).all()
        return [{"kind": r.kind, "kept_id": r.kept_id, "dropped_id": r.dropped_id, "merged_by": r.merged_by,
                 "merged_at": r.merged_at} for r in rows]


def _reasons(a: dict[str, Any], b: dict[str, Any], shared_postcodes: set[str]) -> list[str]:
    reasons = [f"both have {scheme} {value}" for scheme, value in sorted(_identifiers(a) & _identifiers(b))]
    similarity = jellyfish.jaro_winkler_similarity(_name(a), _name(b))
    if similarity >= NAME_SIMILARITY and shared_postcodes:
        reasons.append(f"similar names ({similarity:.2f}) at {', '.join(sorted(shared_postcodes))}")
    return reasons


def _identifiers(organization: dict[str, Any]) -> set[tuple[str, str]]:
    return {(str(i.get("identifier_scheme") or i.get("identifier_type") or ""),
             str(i["identifier"]).strip().upper().lstrip("0"))
            for i in organization.get("organization_identifiers", []) if i.get("identifier")}


def _name(organization: dict[str, Any]) -> str:
    return " ".join(str(organization.get("name") or "").lower().replace("&", "and").split())


def _postcodes(nester: Nester) -> dict[str, set[str]]:
    """Each organisation's postcodes: its own locations and those its services are delivered at."""
    found: dict[str, set[str]] = defaultdict(set)
    for (kind, record_id), record in nester.by_id.items():
        if kind == "location" and record.get("organization_id"):
            found[str(record["organization_id"])].add(location_postcode(nester.nest("location", record_id)) or "")
        if kind == "service" and record.get("organization_id"):
            for place in nester.nest("service", record_id).get("service_at_locations", []):
                found[str(record["organization_id"])].add(location_postcode(place.get("location") or {}) or "")
    return defaultdict(set, {k: v - {""} for k, v in found.items()})


def _organization_row(session: Session, organization_id: str) -> DirectoryRecordRow:
    row = session.get(DirectoryRecordRow, ("organization", organization_id))
    if row is None:
        raise NotFoundError(f"No organisation has the id {organization_id}.",
                            hint="`wholeplace directory duplicates` lists likely duplicates with their ids.")
    return row


def _repoint(session: Session, keep_id: str, drop_id: str) -> int:
    moved = 0
    for row in session.scalars(select(DirectoryRecordRow).where(DirectoryRecordRow.kind != "organization")):
        if row.document.get("organization_id") == drop_id:
            row.document = row.document | {"organization_id": keep_id}
            moved += 1
    return moved

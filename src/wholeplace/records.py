"""Person-level reads: a dataset's event records, its rows refused at load, and its area disagreements.

Each is one page of rows of one dataset (or of every dataset the user may read at record level),
and each read is permitted by ``governance.scope.authorise_records``: pseudonymised access
granted for the declared purpose, a justification, and a consultation entry in the audit log
naming the agreement and version. Only the fields the grant lists are returned (a partner's own
data: every field). Direct identifiers are never here: the store holds tokens.
"""

from __future__ import annotations

from typing import Any

from wholeplace import overview, provenance
from wholeplace.governance.access import ALL_FIELDS, AccessLevel, Grant, refuse, role_cap
from wholeplace.governance.scope import ReadScope, authorise_records
from wholeplace.model.events import EVENT_FIELDS
from wholeplace.store.stores import Stores

# Bookkeeping columns a reader of records has no use for; ``event_id`` always comes first.
HIDDEN = frozenset({"dataset", "partner", "kind", "load_id", "partition_key", "attributes"})
ALWAYS = ("event_id", "occurred_month")


def record_fields(grant: Grant) -> list[str]:
    """The event fields a grant lets its holder see: the identity of each record, then the schema's order."""
    allowed = set(grant.fields)
    return [*ALWAYS, *(f.name for f in EVENT_FIELDS if f.name not in HIDDEN and f.name not in ALWAYS
                       and (ALL_FIELDS in allowed or f.name in allowed))]


def event_records(*, stores: Stores, scope: ReadScope, dataset: str, justification: str | None,
                  limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int, list[str]]:
    """One page of a dataset's events (newest first) with the granted fields; rows, total and field names."""
    overview.dataset(stores=stores, code=dataset)
    grant = authorise_records(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=dataset,
                              justification=justification,
                              what={"view": "event records", "limit": limit, "offset": offset})
    fields = record_fields(grant)
    columns = ", ".join(f'"{name}"' for name in fields)  # names from the event schema, never from the request
    con = stores.connect()
    total = con.execute("SELECT count(*) FROM events_stored WHERE dataset = ?", [dataset]).fetchone()
    cursor = con.execute(f"SELECT {columns} FROM events_stored WHERE dataset = ? "
                         "ORDER BY occurred_at DESC NULLS LAST, event_id LIMIT ? OFFSET ?", [dataset, limit, offset])
    rows = [dict(zip(fields, row, strict=True)) for row in cursor.fetchall()]
    return rows, int(total[0]) if total else 0, fields


def quarantined_rows(*, stores: Stores, scope: ReadScope, dataset: str | None, justification: str | None,
                     limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Rows refused at load (identifiers withheld), of one dataset or every one readable at record level."""
    chosen = _authorised(stores, scope, dataset, justification, "rows refused at load", limit, offset)
    return provenance.list_quarantine(stores=stores, datasets=chosen, limit=limit, offset=offset)


def area_disagreements(*, stores: Stores, scope: ReadScope, dataset: str | None, justification: str | None,
                       limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    chosen = _authorised(stores, scope, dataset, justification, "area disagreements", limit, offset)
    return provenance.list_area_disagreements(stores=stores, datasets=chosen, limit=limit, offset=offset)


def loads(*, stores: Stores, scope: ReadScope, include_inactive: bool = False) -> list[dict[str, Any]]:
    """Loads of the datasets readable at record level: a load's file and row counts describe the records."""
    readable = set(scope.record_datasets())
    return [row for row in provenance.list_loads(stores=stores, include_inactive=include_inactive)
            if row["dataset"] in readable]


def _authorised(stores: Stores, scope: ReadScope, dataset: str | None, justification: str | None, view: str,
                limit: int, offset: int) -> list[str]:
    """The datasets to read, each authorised and recorded; one named dataset is refused loudly if not allowed."""
    if dataset is not None:
        overview.dataset(stores=stores, code=dataset)
        chosen = [dataset]
    else:
        chosen = scope.record_datasets()
    if not chosen:  # nothing readable at record level: refused, logged, and said why
        refuse(stores, scope.principal, scope.purpose, None, AccessLevel.PSEUDONYMISED, None,
               [f"no agreement in force lets {scope.principal.partner} see records of any dataset for "
                f"'{scope.purpose}', and the role {scope.principal.role} may read at most "
                f"{role_cap(scope.principal.role, scope.purpose)} data of its own partner"])
    for code in chosen:
        authorise_records(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=code,
                          justification=justification, what={"view": view, "limit": limit, "offset": offset})
    return chosen

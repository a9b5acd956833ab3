"""What is loaded, where it came from, and what was refused: the service behind
``wholeplace status``, the data page and the provenance API."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from wholeplace.geography.placement import DISAGREEMENT_SQL
from wholeplace.store.operational import ContextLoadRow, DatasetRow, LevelRow, LoadRow, PartnerRow
from wholeplace.store.stores import Stores

LOAD_FIELDS = (
    "id",
    "dataset",
    "adapter",
    "file_name",
    "file_sha256",
    "file_bytes",
    "mapping_version",
    "status",
    "started_at",
    "finished_at",
    "rows_read",
    "rows_stored",
    "rows_quarantined",
    "rows_unlocated",
    "partitions",
    "area_check",
    "message",
)


def load_dict(row: LoadRow) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in LOAD_FIELDS}
    data["file"] = row.file_name
    data["load_id"] = row.id
    return data


def list_loads(*, stores: Stores, include_inactive: bool = False) -> list[dict[str, Any]]:
    query = select(LoadRow).order_by(LoadRow.finished_at, LoadRow.file_name)
    if not include_inactive:
        query = query.where(LoadRow.status == "active")
    with stores.sessions() as session:
        return [load_dict(row) for row in session.scalars(query).all()]


def list_datasets(*, stores: Stores, con: Any | None = None) -> list[dict[str, Any]]:
    con = con or stores.connect()
    counts = dict(con.execute("SELECT dataset, count(*) FROM events_stored GROUP BY dataset").fetchall())
    quarantined = dict(con.execute("SELECT dataset, count(*) FROM quarantine GROUP BY dataset").fetchall())
    spans = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT dataset, min(occurred_month), max(occurred_month) FROM events_stored GROUP BY dataset"
        ).fetchall()
    }
    with stores.sessions() as session:
        rows = session.execute(
            select(DatasetRow, PartnerRow)
            .join(PartnerRow, DatasetRow.partner_code == PartnerRow.code)
            .order_by(DatasetRow.code)
        ).all()
    return [
        {
            "dataset": d.code,
            "title": d.title,
            "kind": d.kind,
            "partner": p.code,
            "partner_name": p.name,
            "partner_kind": p.kind,
            "rows_in_store": int(counts.get(d.code, 0)),
            "rows_quarantined": int(quarantined.get(d.code, 0)),
            "first_month": spans.get(d.code, (None, None))[0],
            "last_month": spans.get(d.code, (None, None))[1],
        }
        for d, p in rows
    ]


def list_levels(*, stores: Stores) -> list[dict[str, Any]]:
    with stores.sessions() as session:
        rows = session.scalars(select(LevelRow).order_by(LevelRow.median_area_m2)).all()
    return [
        {
            "level": r.name,
            "hierarchy": r.hierarchy,
            "title": r.title,
            "features": r.features,
            "parent_level": r.parent_level,
            "source_file": r.source_file,
            "loaded_at": r.loaded_at,
        }
        for r in rows
    ]


def list_context_loads(*, stores: Stores) -> list[dict[str, Any]]:
    with stores.sessions() as session:
        rows = session.scalars(select(ContextLoadRow).order_by(ContextLoadRow.loaded_at)).all()
    return [
        {
            "table": r.table,
            "file": r.file_name,
            "rows_read": r.rows_read,
            "rows_stored": r.rows_stored,
            "loaded_at": r.loaded_at,
        }
        for r in rows
    ]


def status_report(*, stores: Stores, include_inactive: bool = False) -> dict[str, Any]:
    con = stores.connect()
    return {
        "loads": list_loads(stores=stores, include_inactive=include_inactive),
        "datasets": list_datasets(stores=stores, con=con),
        "levels": list_levels(stores=stores),
        "context": list_context_loads(stores=stores),
    }


def list_quarantine(
    *, stores: Stores, datasets: list[str] | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Quarantined rows with file, line, column and reason; one page and the total (of ``datasets``, or all)."""
    query = 'SELECT dataset, load_id, file, line, "column", reason, record FROM quarantine'
    return _page(stores, query, "dataset, file, line", datasets, limit, offset)


def list_area_disagreements(
    *, stores: Stores, datasets: list[str] | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Events whose supplied area code differs from the area computed from their point."""
    query = DISAGREEMENT_SQL.format(events="events_stored")
    return _page(stores, query, "dataset, event_id", datasets, limit, offset)


def _page(
    stores: Stores, query: str, order: str, datasets: list[str] | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of a query's rows (optionally of some datasets, bound as a parameter) and the total."""
    con = stores.connect()
    where, params = ("WHERE list_contains(?, dataset)", [datasets]) if datasets is not None else ("", [])
    total = con.execute(f"SELECT count(*) FROM ({query}) {where}", params).fetchone()
    cursor = con.execute(f"SELECT * FROM ({query}) {where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return rows, int(total[0]) if total else 0


def print_status(report: dict[str, Any], console: Console) -> None:
    loads = Table(title="Loads", show_lines=False)
    for column in ("dataset", "file", "read", "stored", "quarantined", "unlocated", "mapping", "loaded"):
        loads.add_column(
            column, justify="right" if column in {"read", "stored", "quarantined", "unlocated"} else "left"
        )
    for load in report["loads"]:
        loads.add_row(
            load["dataset"],
            load["file"],
            f"{load['rows_read']:,}",
            f"{load['rows_stored']:,}",
            f"{load['rows_quarantined']:,}",
            f"{load['rows_unlocated']:,}",
            load["mapping_version"],
            f"{load['finished_at']:%Y-%m-%d %H:%M}",
        )
    console.print(loads)
    datasets = Table(title="Datasets")
    for column in ("dataset", "partner", "rows in store", "quarantined", "months"):
        datasets.add_column(column)
    for d in report["datasets"]:
        months = f"{d['first_month']} to {d['last_month']}" if d["first_month"] else "—"
        datasets.add_row(
            d["dataset"], d["partner_name"], f"{d['rows_in_store']:,}", f"{d['rows_quarantined']:,}", months
        )
    console.print(datasets)
    if report["levels"]:
        levels = Table(title="Geography levels")
        for column in ("level", "hierarchy", "areas", "nests in"):
            levels.add_column(column)
        for level in report["levels"]:
            levels.add_row(level["level"], level["hierarchy"], f"{level['features']:,}", level["parent_level"] or "—")
        console.print(levels)

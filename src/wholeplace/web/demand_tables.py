"""The shape every demand output takes on its way out: published tables, charts and words, one ``Section`` per page.

A ``Table`` holds rows of published values: counts go through disclosure control (``published.protect_rows``,
or ``publish_one`` for a figure that stands alone) with the reader's rule, and a figure worked out from a count
(hours, a share, a median) is hidden whenever that count is. The same table is shown on the page, returned by
the JSON API, written to CSV, Excel or Parquet and put in the report section, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wholeplace import published
from wholeplace.governance.disclosure import DisclosureRule

KINDS = ("text", "count", "hours", "minutes", "percent", "number", "estimate")


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    kind: str = "text"  # one of KINDS: a count is published with its display text beside it

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass
class Table:
    """One table of a section: its rows hold published values (None where hidden) and ``<field>_display`` text."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    marker: str = ""

    def cells(self) -> list[list[str]]:
        """Every row as the text shown on the page."""
        return [[display(row, column, self.marker) for column in self.columns] for row in self.rows]

    def export_rows(self) -> list[list[Any]]:
        """Rows for downloads: numbers as numbers, a hidden figure as the rule's marker (blank where not given)."""
        return [[_export(row, column, self.marker) for column in self.columns] for row in self.rows]

    def data(self) -> list[dict[str, Any]]:
        """Rows for the JSON API: every published value of the row (its codes too), with display texts."""
        return [{k: _json(v) for k, v in row.items()} for row in self.rows]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    spec: dict[str, Any]
    summary: str
    table: str  # key of the table holding the chart's figures


@dataclass
class Section:
    """A demand page's content: words first, then charts with their tables, then notes and caveats."""

    section: str
    title: str
    statement: str  # the disclosure rule applied
    summary: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_available: dict[str, str] = field(default_factory=dict)  # dataset (or figure) → why it is left out
    extra: dict[str, Any] = field(default_factory=dict)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def display(row: dict[str, Any], column: Column, marker: str) -> str:
    shown = row.get(f"{column.field}_display")
    if shown is not None:
        return str(shown)
    return format_value(row.get(column.field), column.kind, marker)


def format_value(value: Any, kind: str, marker: str = "") -> str:
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value:.1%}"
    if kind in ("hours", "minutes"):
        return f"{value:,.1f}"
    if kind == "estimate":
        return f"{value:,.0f}"
    if kind in ("count", "number"):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def _export(row: dict[str, Any], column: Column, marker: str) -> Any:
    value = row.get(column.field)
    if column.kind == "text":
        return "" if value is None else str(value)
    if value is None:
        return row.get(f"{column.field}_display") or ""
    return round(value, 4) if isinstance(value, float) else value


def _json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


# -- disclosure control ------------------------------------------------------------------------------------

def publish_counts(rows: list[dict[str, Any]], *, rule: DisclosureRule, keys: list[str],
                   value: str) -> list[dict[str, Any]]:
    """``rows`` with ``value`` published as one table (one key) or a two-way table (two keys), in place of
    the true count, and ``<value>_display`` beside it. Keys are joined into one when there are more than two."""
    if not rows:
        return []
    joined = len(keys) > 2
    work = [dict(r, **{value: round(r[value] or 0)}) | ({"cell_key": "\x1f".join(str(r[k]) for k in keys)}
                                                            if joined else {}) for r in rows]
    table = published.protect_rows(work, rule=rule, keys=["cell_key"] if joined else keys, value=value)
    return [{k: v for k, v in r.items() if k not in ("display", "cell_key")} | {f"{value}_display": r["display"]}
            for r in table.rows]


def publish_each(row: dict[str, Any], *, rule: DisclosureRule, values: list[str]) -> dict[str, Any]:
    """A row whose counts each stand alone (they overlap, so they are not one table)."""
    out = dict(row)
    for name in values:
        if row.get(name) is None:
            continue
        out[name], out[f"{name}_display"] = published.publish_one(round(row[name]), rule)
    return out


def hide_with(row: dict[str, Any], count: str, derived: list[str]) -> dict[str, Any]:
    """Hide figures worked out from ``count`` where disclosure control hid it (shown as its marker)."""
    marker = row.get(f"{count}_display")
    if row.get(count) is None and marker is not None:
        return row | dict.fromkeys(derived) | {f"{name}_display": marker for name in derived}
    return row


def share(part: int | None, whole: int | None) -> float | None:
    """A share from published counts; None when either is hidden or the whole is zero."""
    return part / whole if part is not None and whole else None


def total_of(rows: list[dict[str, Any]], value: str) -> int:
    return sum(r[value] for r in rows if r.get(value) is not None)

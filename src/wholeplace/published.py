"""Figures as they may leave the platform: counts read within a user's scope, then through disclosure control.

Pages, the API and exports show these, never the raw counts of ``wholeplace.overview``. Each
function reads only the datasets of the ``ReadScope`` (what the user's grants allow for the declared
purpose), runs the counts through ``governance.disclosure.protect_counts`` with the scope's rule, and
returns rows whose ``events`` is the published value (None where hidden) and ``display`` the text
to show, with the totals made from the same table and the statement of the rule applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from wholeplace import overview, provenance
from wholeplace.errors import UserError
from wholeplace.governance.access import AccessRefused
from wholeplace.governance.disclosure import DisclosureRule, ProtectedTable, protect_counts
from wholeplace.governance.scope import ReadScope
from wholeplace.store.stores import Stores

VALUE = "events"


@dataclass(frozen=True)
class Published:
    """One table as published: rows with ``events`` (None when hidden) and ``display``, its total and rule."""

    rows: list[dict[str, Any]]
    total: int | None
    total_display: str
    rule: DisclosureRule
    line_totals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # two-way: "rows" and "columns"

    @property
    def statement(self) -> str:
        return self.rule.statement()

    @property
    def preset(self) -> str:
        return self.rule.preset.value


def protect_rows(rows: list[dict[str, Any]], *, rule: DisclosureRule, keys: list[str],
                 value: str = VALUE) -> Published:
    """Publish ``rows`` (one per cell; ``keys`` identify it: one key for a one-way table, two for two-way)."""
    if not rows:
        return Published([], 0, "0", rule)
    frame = pl.DataFrame({k: [str(r[k]) for r in rows] for k in keys} | {value: [int(r[value]) for r in rows]})
    table = protect_counts(frame, preset=rule.preset, value=value, rows=keys[0],
                           columns=keys[1] if len(keys) > 1 else None)
    published = _by_key(table.cells, keys, value)
    out = [r | dict(zip((value, "display"), published[tuple(str(r[k]) for k in keys)], strict=True)) for r in rows]
    lines = {} if len(keys) == 1 else {"rows": _lines(table, "rows", value), "columns": _lines(table, "columns", value)}
    return Published(out, table.grand_total, table.grand_display, rule, lines)


def _by_key(cells: pl.DataFrame, keys: list[str], value: str) -> dict[tuple[str, ...], tuple[int | None, str]]:
    return {tuple(row[:-2]): (row[-2], row[-1]) for row in cells.select(*keys, value, "display").iter_rows()}


def _lines(table: ProtectedTable, which: str, value: str) -> list[dict[str, Any]]:
    frame = table.row_totals if which == "rows" else table.column_totals
    key = table.rows if which == "rows" else table.columns
    assert frame is not None and key is not None
    return [{"key": k, value: v, "display": d} for k, v, d in frame.select(key, value, "display").iter_rows()]


def publish_one(count: int, rule: DisclosureRule) -> tuple[int | None, str]:
    """A single count as published (hidden when 1 to the threshold, else rounded)."""
    if 0 < count <= rule.threshold:
        return None, rule.marker
    shown = rule.publish(count)
    return shown, f"{shown:,}"


# -- the overview --------------------------------------------------------------------------------

def summary(*, stores: Stores, scope: ReadScope) -> dict[str, Any]:
    """Headline figures: events from the per-partner table's published total, placed events published alone."""
    raw = overview.summary(stores=stores, datasets=scope.datasets)
    by_partner = partners(stores=stores, scope=scope)
    placed, placed_display = publish_one(int(raw["events_placed"]), scope.rule)
    return raw | {"events": by_partner.total, "events_display": by_partner.total_display,
                  "events_placed": placed, "events_placed_display": placed_display,
                  "statement": scope.rule.statement(), "preset": scope.rule.preset.value,
                  "levels": len(scope.levels), "finest_level": scope.levels[0] if scope.levels else None,
                  "areas": _areas_at(stores, scope.levels[0]) if scope.levels else 0}


def _areas_at(stores: Stores, level: str) -> int:
    return next((row["features"] for row in overview.levels(stores=stores) if row["level"] == level), 0)


def levels(*, stores: Stores, scope: ReadScope) -> list[dict[str, Any]]:
    """The loaded levels this scope's outputs may use, finest first."""
    return [row for row in overview.levels(stores=stores) if scope.level_allowed(row["level"])]


def check_level(*, stores: Stores, scope: ReadScope, level: str) -> None:
    """A known level finer than the agreements allow is refused, naming the finest allowed."""
    overview.check_level(stores=stores, level=level)
    if not scope.level_allowed(level):
        finest = scope.levels[0] if scope.levels else "none"
        raise AccessRefused(
            f"Figures for '{level}' areas are finer than the data sharing agreements allow for '{scope.purpose}'; "
            f"the finest level allowed is '{finest}'.",
            principal=scope.principal, purpose=scope.purpose, dataset=None, level=None,
            reasons=[f"smallest geography is {finest}"])


def partners(*, stores: Stores, scope: ReadScope) -> Published:
    """Partners whose data the scope reads, with their published event counts."""
    sharing = _partners(stores, scope)
    rows = [r for r in overview.partners(stores=stores, datasets=scope.datasets) if r["partner"] in sharing]
    return protect_rows(rows, rule=scope.rule, keys=["partner"])


def _partners(stores: Stores, scope: ReadScope) -> set[str]:
    readable = set(scope.datasets)
    return {row["partner"] for row in provenance.list_datasets(stores=stores) if row["dataset"] in readable}


def check_partner(*, stores: Stores, scope: ReadScope, partner: str | None) -> None:
    overview.check_partner(stores=stores, partner=partner)
    if partner is not None and partner not in _partners(stores, scope):
        raise overview.UnknownChoiceError(field="partner", value=partner, choices=sorted(_partners(stores, scope)),
                                          where=f"whose data is shared with you for '{scope.purpose}'")


def areas(*, stores: Stores, scope: ReadScope, level: str, partner: str | None = None) -> Published:
    check_level(stores=stores, scope=scope, level=level)
    check_partner(stores=stores, scope=scope, partner=partner)
    rows = overview.events_by_area(stores=stores, level=level, partner=partner, datasets=scope.datasets)
    return protect_rows(rows, rule=scope.rule, keys=["area_code"])


def months(*, stores: Stores, scope: ReadScope, partner: str | None = None) -> Published:
    """Events per month and partner as a two-way table, so month and partner totals are published too."""
    check_partner(stores=stores, scope=scope, partner=partner)
    rows = overview.events_by_month(stores=stores, partner=partner, datasets=scope.datasets)
    return protect_rows(rows, rule=scope.rule, keys=["month", "partner"])


# -- datasets --------------------------------------------------------------------------------------

def datasets(*, stores: Stores, scope: ReadScope) -> list[dict[str, Any]]:
    """The datasets the scope reads, with published row counts (each count published on its own)."""
    found = []
    for row in provenance.list_datasets(stores=stores):
        if scope.can_read(row["dataset"]):
            stored, stored_display = publish_one(row["rows_in_store"], scope.rule)
            refused, refused_display = publish_one(row["rows_quarantined"], scope.rule)
            found.append(row | {"rows_in_store": stored, "rows_in_store_display": stored_display,
                                "rows_quarantined": refused, "rows_quarantined_display": refused_display,
                                "record_level": scope.record_level(row["dataset"])})
    return found


def dataset(*, stores: Stores, scope: ReadScope, code: str) -> dict[str, Any]:
    """One dataset the scope may read; unknown is 404, known but not readable is refused and logged."""
    overview.dataset(stores=stores, code=code)
    if not scope.can_read(code):
        from wholeplace.governance.access import AccessLevel, authorise

        authorise(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=code,
                  level=AccessLevel.AGGREGATE)  # refuses, logs, and names what is missing
    return next(row for row in datasets(stores=stores, scope=scope) if row["dataset"] == code)


def dataset_categories(*, stores: Stores, scope: ReadScope, code: str) -> Published:
    dataset(stores=stores, scope=scope, code=code)
    rows = overview.dataset_categories(stores=stores, code=code)
    for row in rows:
        row["cell"] = f"{row['category']}\x1f{row['source_category']}"
    published = protect_rows(rows, rule=scope.rule, keys=["cell"])
    return Published([{k: v for k, v in r.items() if k != "cell"} for r in published.rows], published.total,
                     published.total_display, published.rule)


def dataset_fields(*, stores: Stores, scope: ReadScope, code: str) -> list[dict[str, Any]]:
    """How fully each field is filled, from published counts: a share is hidden when its count is."""
    dataset(stores=stores, scope=scope, code=code)
    rows = overview.dataset_fields(stores=stores, code=code)
    total, _ = publish_one(_rows_of(stores, code), scope.rule)
    out = []
    for row in rows:
        filled, display = publish_one(row["filled"], scope.rule)
        share = (filled / total) if (filled is not None and total) else (0.0 if row["filled"] == 0 else None)
        out.append(row | {"filled": filled, "filled_display": display, "share": min(share, 1.0) if share else share})
    return out


def _rows_of(stores: Stores, code: str) -> int:
    found = stores.connect().execute("SELECT count(*) FROM events_stored WHERE dataset = ?", [code]).fetchone()
    return int(found[0]) if found else 0


def require_datasets(scope: ReadScope) -> None:
    """Refuse (and say why) when nothing at all is readable for this purpose."""
    if not scope.datasets:
        raise NothingReadable(scope)


class NothingReadable(UserError):
    status = 403

    def __init__(self, scope: ReadScope) -> None:
        super().__init__(f"No data is shared with {scope.principal.partner} for the purpose '{scope.purpose}'.",
                         hint="Choose another purpose, or ask your information governance officer which "
                              "agreement would cover this work.")


__all__ = ["Published", "areas", "check_level", "check_partner", "dataset", "dataset_categories",
           "dataset_fields", "datasets", "levels", "months", "partners", "protect_rows", "publish_one", "summary"]

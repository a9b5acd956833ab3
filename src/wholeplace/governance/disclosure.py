"""Statistical disclosure control: the one engine every aggregate passes through before it leaves the platform.

A data sharing agreement names a preset; ``protect_counts`` turns a table of true counts into the table that
may be published (small counts hidden, the rest rounded, totals made safe) and every output shows the rule's
``statement()``. Secondary suppression lives in ``secondary_suppression``. docs/disclosure-control.md gives the
sources and the reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl

from wholeplace.errors import UserError
from wholeplace.governance.secondary_suppression import augment, suppression_masks


class Preset(StrEnum):
    OPENSAFELY = "opensafely"
    NHS_SUBNATIONAL = "nhs_subnational"
    THRESHOLD10 = "threshold10"


class Totals(StrEnum):
    """Where published totals come from."""

    ROUNDED_CELLS = "rounded_cells"  # sum of the published (rounded, redacted-as-0) cells
    ROUNDED_TRUE = "rounded_true"  # true total, then rounded
    TRUE = "true"  # true total, shown as is


@dataclass(frozen=True)
class DisclosureRule:
    """One preset's parameters. ``threshold`` is the largest count that is hidden."""

    preset: Preset
    threshold: int
    rounding_base: int | None
    marker: str
    totals: Totals
    suppress_zero: bool = False

    @property
    def secondary_suppression(self) -> bool:
        """Totals from true values can give a hidden cell away, so those presets hide more cells."""
        return self.totals is not Totals.ROUNDED_CELLS

    def publish(self, count: int) -> int:
        """A visible count as published: rounded to the nearest multiple of the base (integers never tie)."""
        base = self.rounding_base
        return count if base is None else base * ((count + base // 2) // base)

    def statement(self) -> str:
        rounding = f"other counts are rounded to the nearest {self.rounding_base}; " if self.rounding_base else ""
        totals = {
            Totals.ROUNDED_CELLS: "totals are sums of the rounded counts, with hidden counts left out",
            Totals.ROUNDED_TRUE: "totals are calculated from the unrounded counts and then rounded",
            Totals.TRUE: "totals are calculated from the true counts",
        }[self.totals]
        secondary = (
            ", and further counts or totals are hidden where a hidden count could otherwise be worked out"
            if self.secondary_suppression else ""
        )
        return (
            f"Counts from 1 to {self.threshold} are hidden and shown as {self.marker} (zeros are shown as 0); "
            f"{rounding}{totals}{secondary} ({self.preset} rule)."
        )


RULES = {
    Preset.OPENSAFELY: DisclosureRule(Preset.OPENSAFELY, 7, 5, "[REDACTED]", Totals.ROUNDED_CELLS),
    Preset.NHS_SUBNATIONAL: DisclosureRule(Preset.NHS_SUBNATIONAL, 7, 5, "*", Totals.ROUNDED_TRUE),
    Preset.THRESHOLD10: DisclosureRule(Preset.THRESHOLD10, 9, None, "[SUPPRESSED]", Totals.TRUE),
}


def rule_for(preset: Preset | str) -> DisclosureRule:
    """The rule for a preset name; an unknown name is a user error listing the valid ones."""
    try:
        return RULES[Preset(preset)]
    except ValueError:
        valid = ", ".join(p.value for p in Preset)
        raise UserError(
            f"Unknown disclosure control preset {preset!r}.",
            hint=f"Use one of: {valid} (set it in the data sharing agreement's output rules).",
        ) from None


@dataclass
class ProtectedTable:
    """A count table as it may be published.

    Each frame holds its keys, ``value`` (Int64, null where hidden), ``display`` (the text to show) and
    ``suppressed`` (null, "primary" or "secondary"). ``suppressed`` is for audit and tests only: publishing
    it would tell readers which hidden cells are large, so outputs show ``display`` (or ``value``) only."""

    cells: pl.DataFrame
    row_totals: pl.DataFrame | None
    column_totals: pl.DataFrame | None
    grand_total: int | None
    grand_display: str
    rule: DisclosureRule
    rows: str | None = None
    columns: str | None = None
    value: str = "events"

    @property
    def keys(self) -> list[str]:
        return [k for k in (self.rows, self.columns) if k is not None]

    def statement(self) -> str:
        return self.rule.statement()


def protect_counts(
    frame: pl.DataFrame, *, preset: Preset | str, value: str = "events", rows: str | None = None,
    columns: str | None = None,
) -> ProtectedTable:
    """Apply the preset to a table with one row per cell: ``rows`` and/or ``columns`` keys and a count.

    With one key the table is one-way (the only total is the grand total); with both it is two-way and has
    row, column and grand totals. Several rows for one cell are added together; cells absent from ``frame``
    count as 0. A one-way table's key is reported as ``rows`` whichever argument named it."""
    rule = rule_for(preset)
    if rows is None:  # a one-way table is always held as rows
        rows, columns = columns, None
    keys = _check_frame(frame, value=value, rows=rows, columns=columns)
    cells = frame.group_by(keys).agg(pl.col(value).sum()).sort(keys, nulls_last=True)
    row_index, col_index, matrix = _to_matrix(cells, value=value, rows=rows, columns=columns)
    two_way = rows is not None and columns is not None
    table = augment(matrix, two_way=two_way)
    primary, secondary = suppression_masks(
        table, threshold=rule.threshold, totals_from_true_values=rule.secondary_suppression, two_way=two_way
    )
    published = _published_matrix(table, primary | secondary, rule, two_way=two_way)
    kinds = np.where(primary, "primary", np.where(secondary, "secondary", ""))
    at = (row_index, col_index)
    out = cells.select(keys).with_columns(_columns(published[at], kinds[at], rule, value=value))
    return ProtectedTable(
        cells=out,
        row_totals=_line_totals(cells, rows, published[:-1, -1], kinds[:-1, -1], rule, value) if two_way else None,
        column_totals=(
            _line_totals(cells, columns, published[-1, :-1], kinds[-1, :-1], rule, value) if two_way else None
        ),
        grand_total=None if np.isnan(published[-1, -1]) else int(published[-1, -1]),
        grand_display=_display([published[-1, -1]], rule)[0],
        rule=rule, rows=rows, columns=columns, value=value,
    )


def _check_frame(frame: pl.DataFrame, *, value: str, rows: str | None, columns: str | None) -> list[str]:
    keys = [k for k in (rows, columns) if k is not None]
    if not keys:
        raise UserError("A count table needs a rows key, a columns key or both.")
    if rows == columns:
        raise UserError(f"The rows and columns keys must differ; both are {rows!r}.")
    missing = [c for c in (*keys, value) if c not in frame.columns]
    if missing:
        raise UserError(f"The count table has no column {', '.join(map(repr, missing))}.",
                        hint=f"Its columns are: {', '.join(frame.columns)}.")
    counts = frame.get_column(value)
    if not counts.dtype.is_integer() or counts.null_count() or (counts.len() and counts.min() < 0):  # type: ignore[operator]
        raise UserError(f"Column {value!r} must hold non-negative whole counts with no gaps.")
    return keys


def _to_matrix(
    cells: pl.DataFrame, *, value: str, rows: str | None, columns: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense matrix of counts (one column for a one-way table) and each cell's position in it."""
    row_index = _positions(cells, rows)
    col_index = _positions(cells, columns)
    matrix = np.zeros((int(row_index.max(initial=-1)) + 1, int(col_index.max(initial=0)) + 1), dtype=np.int64)
    matrix[row_index, col_index] = cells.get_column(value).to_numpy()
    return row_index, col_index, matrix


def _positions(cells: pl.DataFrame, key: str | None) -> np.ndarray:
    """Each cell's position along ``key`` in sorted key order (all 0 when the table has no such key)."""
    if key is None:
        return np.zeros(cells.height, dtype=np.int64)
    levels = cells.select(key).unique().sort(key, nulls_last=True).with_row_index("_position")
    joined = cells.select(key).with_row_index("_cell").join(levels, on=key, nulls_equal=True).sort("_cell")
    return joined.get_column("_position").to_numpy().astype(np.int64)


def _published_matrix(table: np.ndarray, hidden: np.ndarray, rule: DisclosureRule, *, two_way: bool) -> np.ndarray:
    """Published values of the augmented table as floats, NaN where hidden."""
    base = rule.rounding_base
    published = table if base is None else base * ((table + base // 2) // base)
    published = np.where(hidden, np.nan, published.astype(np.float64))
    if rule.totals is Totals.ROUNDED_CELLS:  # totals recomputed from what is shown, hidden cells as 0
        interior = published[:-1, :-1] if two_way else published[:-1, :]
        totals = augment(np.nan_to_num(interior), two_way=two_way)
        totals[: interior.shape[0], : interior.shape[1]] = interior
        published = totals
    return published


def _columns(published: np.ndarray, kinds: np.ndarray, rule: DisclosureRule, *, value: str) -> list[pl.Series]:
    values = pl.Series(value, published, dtype=pl.Float64, nan_to_null=True).cast(pl.Int64)
    suppressed = pl.Series("suppressed", kinds, dtype=pl.String).replace("", None)
    return [values, pl.Series("display", _display(published, rule), dtype=pl.String), suppressed]


def _line_totals(
    cells: pl.DataFrame, key: str | None, published: np.ndarray, kinds: np.ndarray, rule: DisclosureRule, value: str
) -> pl.DataFrame:
    levels = cells.select(key).unique().sort(key, nulls_last=True)
    return levels.with_columns(_columns(published, kinds, rule, value=value))


def _display(published: np.ndarray | list[float], rule: DisclosureRule) -> list[str]:
    return [rule.marker if np.isnan(v) else f"{int(v):,}" for v in published]


def protect_rate(
    numerator: ProtectedTable, *, denominator: ProtectedTable | pl.DataFrame | None = None,
    denominator_value: str = "population", per: int = 100, decimals: int = 1,
) -> pl.DataFrame:
    """Rates per ``per`` (100 gives percentages) computed only from published counts.

    A rate is hidden, shown as the numerator's marker, whenever its numerator or denominator is hidden.
    ``denominator`` is one of: None, the line total (row total of a two-way table, grand total of a one-way
    table); another ProtectedTable, matched cell by cell on the numerator's keys; or a frame of public figures
    not drawn from partner data (such as ONS population), column ``denominator_value``, matched on the
    numerator keys it has. A missing or zero denominator gives a null rate shown as an en dash. Returns the
    keys, ``rate`` (Float64), ``display`` and ``suppressed`` (null, "numerator" or "denominator")."""
    keys = numerator.keys
    counts = numerator.cells.select(*keys, pl.col(numerator.value).alias("_numerator"))
    shared, below = _denominator(numerator, denominator, denominator_value)
    joined = counts.join(below, on=shared, how="left", nulls_equal=True) if shared else counts.join(below, how="cross")
    marker = numerator.rule.marker
    return joined.select(
        *keys,
        pl.when(pl.col("_denominator") > 0)
        .then((pl.col("_numerator") / pl.col("_denominator") * per).round(decimals))
        .alias("rate"),
        pl.when(pl.col("_numerator").is_null()).then(pl.lit("numerator"))
        .when(pl.col("_hidden_denominator")).then(pl.lit("denominator"))
        .alias("suppressed"),
    ).with_columns(
        pl.when(pl.col("suppressed").is_not_null()).then(pl.lit(marker))
        .otherwise(pl.col("rate").map_elements(lambda r: f"{r:,.{decimals}f}", return_dtype=pl.String))
        .fill_null("–")
        .alias("display")
    ).select(*keys, "rate", "display", "suppressed")


def _denominator(
    numerator: ProtectedTable, denominator: ProtectedTable | pl.DataFrame | None, column: str
) -> tuple[list[str], pl.DataFrame]:
    """The join keys and a frame of ``_denominator`` (null where hidden) and ``_hidden_denominator``."""
    if denominator is None:
        if numerator.row_totals is None:
            total = pl.DataFrame({"_denominator": [numerator.grand_total]}, schema={"_denominator": pl.Int64})
            return [], total.with_columns(_hidden_denominator=pl.lit(numerator.grand_total is None))
        return _published_as_denominator(numerator.row_totals, numerator.value, [numerator.rows])  # type: ignore[list-item]
    if isinstance(denominator, ProtectedTable):
        return _published_as_denominator(denominator.cells, denominator.value, numerator.keys)
    if column not in denominator.columns:
        raise UserError(f"The denominator has no column {column!r}.", hint="Name it with denominator_value=.")
    shared = [k for k in numerator.keys if k in denominator.columns]
    figures = denominator.select(*shared, pl.col(column).cast(pl.Float64).alias("_denominator"))
    return shared, figures.with_columns(_hidden_denominator=pl.lit(False))


def _published_as_denominator(frame: pl.DataFrame, value: str, keys: list[str]) -> tuple[list[str], pl.DataFrame]:
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise UserError(f"The denominator table has no key column {', '.join(map(repr, missing))}.")
    return keys, frame.select(
        *keys, pl.col(value).alias("_denominator"), pl.col("suppressed").is_not_null().alias("_hidden_denominator")
    )

"""Indicator values as they may leave the platform: the reader's datasets and levels, then disclosure control.

Pages, the board pack, exports and the API show these figures, never the raw ones of ``values``. An
``Audience`` says who reads: a signed-in reader's scope (the datasets and levels their agreements allow for the
declared purpose, and the strictest preset among their grants) or residents (every dataset, the strictest
preset among the framework's indicators, never the finest level). Each indicator is published under the
stricter of the audience's preset and its own ``disclosure`` preset:

* every count (numerator, and an event denominator) goes through the preset: counts from 1 to the threshold
  are hidden, the rest rounded; with presets whose totals come from true values, each table of areas (one
  indicator, level and period) also gets secondary suppression from ``governance.disclosure.protect_counts``;
  fractional counts (areas split by weighted lookups) are rounded to whole counts first, a fraction above 0
  counting as 1;
* values and intervals are recomputed from the published counts, so a rate never gives a hidden or rounded
  count away, and a value from a hidden count is hidden;
* the peer value is the ratio of the peers' published counts, hidden when any peer's count is hidden;
  comparisons use the published interval.

SPC charts are drawn from the published monthly values (months with hidden counts are left out and counted),
so the limits, too, derive from published figures only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from wholeplace import provenance
from wholeplace.errors import NotFoundError, UserError
from wholeplace.governance.agreements import DisclosurePreset
from wholeplace.governance.disclosure import DisclosureRule, protect_counts, rule_for
from wholeplace.governance.scope import ReadScope
from wholeplace.outcomes import signals
from wholeplace.outcomes.framework import Framework, Indicator, Outcome, StoredFramework, current_framework
from wholeplace.outcomes.values import PLACE_LEVEL, indicator_values, value_interval
from wholeplace.store.stores import Stores

PUBLIC_FLOOR = DisclosurePreset.NHS_SUBNATIONAL  # residents: at least this strict, whatever the indicators say
TABLE = ["indicator", "level", "period_type", "period"]  # one table of areas, protected together


@dataclass(frozen=True)
class Audience:
    """Who reads the figures: the datasets they may see (None: all), the least strict preset that applies, the
    levels they may see (finest first; the whole place is always allowed) and whether they are the public."""

    datasets: list[str] | None
    preset: DisclosurePreset
    levels: tuple[str, ...]
    public: bool = False
    purpose: str | None = None

    def rule(self, indicator: Indicator) -> DisclosureRule:
        """The stricter of the audience's preset and the indicator's own."""
        own = DisclosurePreset(indicator.disclosure.value)
        return rule_for(max(self.preset, own, key=lambda p: p.strictness).value)

    def allows(self, level: str) -> bool:
        return level == PLACE_LEVEL or level in self.levels


def reader_audience(scope: ReadScope) -> Audience:
    """A signed-in reader: what their grants allow for the declared purpose."""
    return Audience(scope.datasets, scope.preset, scope.levels, purpose=scope.purpose)


def public_audience(*, stores: Stores, framework: Framework) -> Audience:
    """Residents: every dataset, the strictest preset among the indicators (at least nhs_subnational), and only
    levels coarser than the finest loaded one (never small areas), narrowed to the levels the outcomes are scoped
    to when every outcome names its levels."""
    presets = [DisclosurePreset(i.disclosure.value) for i in framework.indicators()] + [PUBLIC_FLOOR]
    loaded = [row["level"] for row in provenance.list_levels(stores=stores)]  # finest first
    scoped = {level for o in framework.outcomes for level in o.scope}
    every_outcome_scoped = all(o.scope for o in framework.outcomes)
    allowed = [lv for lv in loaded[1:] if not every_outcome_scoped or lv in scoped]
    return Audience(None, max(presets, key=lambda p: p.strictness), tuple(allowed), public=True)


# -- the figures -------------------------------------------------------------------------------------------


@dataclass
class OutcomeFigures:
    """Published values of a framework's indicators at one level (and the whole place), for one audience."""

    framework: StoredFramework
    audience: Audience
    values: pl.DataFrame  # values.VALUE_COLUMNS as published, plus numerator_display, denominator_display, hidden
    unavailable: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, dict[str, Any]] = field(default_factory=dict)

    def indicator(self, code: str) -> Indicator:
        return self.framework.framework.indicator(code)

    def rule(self, code: str) -> DisclosureRule:
        return self.audience.rule(self.indicator(code))

    def outcomes(self, level: str) -> list[Outcome]:
        """The outcomes reported at ``level`` (an outcome without a scope is reported at every level)."""
        return [o for o in self.framework.framework.outcomes
                if level == PLACE_LEVEL or not o.scope or level in o.scope]


def outcome_figures(*, stores: Stores, framework: str | StoredFramework, audience: Audience, level: str,
                    indicators: list[str] | None = None,
                    periods: tuple[str, ...] = ("month", "rolling_12")) -> OutcomeFigures:
    """The framework's indicator values at ``level`` and for the whole place, as ``audience`` may see them."""
    stored = current_framework(stores=stores, code=framework) if isinstance(framework, str) else framework
    check_level(audience, level)
    levels = list(dict.fromkeys([level, PLACE_LEVEL]))
    raw = indicator_values(stores=stores, framework=stored, datasets=audience.datasets, indicators=indicators,
                           levels=levels, periods=periods)
    values = protect_values(raw.values, framework=stored.framework, audience=audience)
    return OutcomeFigures(stored, audience, values, raw.unavailable, raw.lineage)


def check_level(audience: Audience, level: str) -> None:
    """A level the audience may not see is refused, naming the levels it may."""
    if audience.allows(level):
        return
    allowed = ", ".join([*audience.levels, PLACE_LEVEL])
    if audience.public:
        raise NotFoundError(f"Outcomes are not published for residents at the level '{level}'.",
                            hint=f"Choose one of: {allowed}.")
    raise LevelNotAllowed(f"Figures for '{level}' areas are not open to you for '{audience.purpose}': the level is "
                          "unknown or finer than the data sharing agreements allow.", hint=f"Choose one of: {allowed}.")


class LevelNotAllowed(UserError):
    status = 403


def find_area(figures: OutcomeFigures, level: str, area: str) -> str:
    """The name of ``area`` at ``level``, or a 404 naming a few areas that exist."""
    found = figures.values.filter((pl.col("level") == level) & (pl.col("area_code") == area))
    if found.is_empty():
        codes = figures.values.filter(pl.col("level") == level).get_column("area_code").unique().sort().head(5)
        raise NotFoundError(f"There is no area '{area}' at the level '{level}' with outcome figures.",
                            hint=f"Areas of that level include: {', '.join(codes) or 'none'}.")
    return str(found.item(0, "area_name"))


# -- disclosure control ------------------------------------------------------------------------------------


def protect_values(values: pl.DataFrame, *, framework: Framework, audience: Audience) -> pl.DataFrame:
    """``values`` (one row per indicator × level × area × period) with every count published and the values,
    intervals and comparisons recomputed from the published counts."""
    parts = []
    for code in values.get_column("indicator").unique(maintain_order=True).to_list():
        indicator = framework.indicator(code)
        part = values.filter(pl.col("indicator") == code)
        parts.append(_protect_indicator(part, indicator, audience.rule(indicator)))
    if not parts:
        return values.with_columns(pl.lit(None, pl.String).alias("numerator_display"),
                                   pl.lit(None, pl.String).alias("denominator_display"),
                                   pl.lit(False).alias("hidden"))
    return _compare(pl.concat(parts, how="vertical_relaxed"))


def _protect_indicator(part: pl.DataFrame, indicator: Indicator, rule: DisclosureRule) -> pl.DataFrame:
    numerator, numerator_display = _published_counts(part, "numerator", rule)
    if indicator.denominator.events is not None:
        denominator, denominator_display = _published_counts(part, "denominator", rule)
    else:  # residents: public population estimates, shown as they are
        denominator = part.get_column("denominator").to_numpy().astype(float)
        denominator_display = [f"{d:,.0f}" for d in denominator]
    hidden = np.isnan(numerator) | np.isnan(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        value, lower, upper = value_interval(indicator, np.nan_to_num(numerator), np.nan_to_num(denominator))
    value, lower, upper = (np.where(hidden, np.nan, a) for a in (value, lower, upper))
    return part.with_columns(
        pl.Series("numerator", numerator), pl.Series("denominator", denominator),
        pl.Series("numerator_display", numerator_display, pl.String),
        pl.Series("denominator_display", denominator_display, pl.String),
        pl.Series("value", value), pl.Series("lower", lower), pl.Series("upper", upper),
        pl.Series("hidden", hidden), pl.lit(indicator.multiplier).alias("_multiplier"),
    ).fill_nan(None)


def _published_counts(part: pl.DataFrame, column: str, rule: DisclosureRule) -> tuple[np.ndarray, list[str]]:
    """Published whole counts (nan where hidden) and their text, in the order of ``part``'s rows."""
    raw = part.get_column(column).fill_null(0.0).to_numpy().astype(float)
    whole = np.where((raw > 0) & (np.round(raw) == 0), 1, np.round(raw)).astype(np.int64)
    if not rule.secondary_suppression:
        hidden = (whole > 0) & (whole <= rule.threshold)
        base = rule.rounding_base
        shown = whole if base is None else base * ((whole + base // 2) // base)
        published = np.where(hidden, np.nan, shown.astype(float))
    else:
        published = _secondary(part.select([*TABLE, "area_code"]).with_columns(pl.Series("n", whole)), rule)
    display = [rule.marker if np.isnan(v) else f"{int(v):,}" for v in published]
    return published, display


def _secondary(frame: pl.DataFrame, rule: DisclosureRule) -> np.ndarray:
    """Each table of areas (indicator, level, period) through protect_counts, for primary and secondary suppression."""
    frame = frame.with_row_index("_row")
    out = np.full(frame.height, np.nan)
    for _, table in frame.group_by(TABLE, maintain_order=True):
        protected = protect_counts(table.select("area_code", "n"), preset=rule.preset, value="n", rows="area_code")
        shown = table.select("_row", "area_code").join(protected.cells.select("area_code", "n"), on="area_code")
        rows = shown.get_column("_row").to_numpy()
        out[rows] = shown.get_column("n").cast(pl.Float64).fill_null(np.nan).to_numpy()
    return out


def _compare(frame: pl.DataFrame) -> pl.DataFrame:
    """The place's published value; peers from published counts (hidden when any peer's count is); comparisons."""
    place = frame.filter(pl.col("level") == PLACE_LEVEL).select(
        "indicator", "period_type", "period", pl.col("value").alias("place_value"))
    frame = frame.drop("place_value").join(place, on=["indicator", "period_type", "period"], how="left")
    over = [*TABLE, "peer_group"]
    peers = pl.col("peer_group").is_not_null()
    others_hidden = pl.col("hidden").cast(pl.Int64).sum().over(over) - pl.col("hidden").cast(pl.Int64)
    sums = [(pl.col(c).fill_null(0).sum().over(over) - pl.col(c).fill_null(0)).alias(f"_peer_{c}")
            for c in ("numerator", "denominator")]
    ratio = pl.col("_peer_numerator") / pl.col("_peer_denominator") * pl.col("_multiplier")
    frame = frame.with_columns(*sums, others_hidden.alias("_others_hidden")).with_columns(
        pl.when(peers & (pl.col("_others_hidden") == 0) & (pl.col("_peer_denominator") > 0)).then(ratio)
        .alias("peer_value"))
    return frame.with_columns(
        pl.when(pl.col("level") != PLACE_LEVEL).then(_compared("place_value")).alias("vs_place"),
        _compared("peer_value").alias("vs_peers"),
    ).drop("_peer_numerator", "_peer_denominator", "_others_hidden", "_multiplier")


def _compared(comparator: str) -> pl.Expr:
    return (pl.when(pl.col("lower").is_null() | pl.col("upper").is_null() | pl.col(comparator).is_null()).then(None)
            .when(pl.col("lower") > pl.col(comparator)).then(pl.lit("higher"))
            .when(pl.col("upper") < pl.col(comparator)).then(pl.lit("lower"))
            .otherwise(pl.lit("similar")))


# -- SPC from published values -----------------------------------------------------------------------------


@dataclass
class PublishedChart:
    """One place's SPC chart of one indicator, from published monthly values."""

    points: pl.DataFrame  # spc columns, with x (month) and y (value)
    summary: pl.DataFrame  # the SPC summary rows of the series (latest limit group last) with turning_the_curve
    hidden_months: int  # months left out because disclosure control hid their count


def published_chart(figures: OutcomeFigures, *, indicator: str, level: str, area: str) -> PublishedChart | None:
    """The SPC chart of ``indicator`` in one place from its published months; None with fewer than two."""
    monthly = figures.values.filter((pl.col("indicator") == indicator) & (pl.col("period_type") == "month")
                                    & (pl.col("level") == level) & (pl.col("area_code") == area))
    hidden = int(monthly.get_column("hidden").sum())
    series = monthly.filter(~pl.col("hidden"))
    definition = figures.indicator(indicator)
    try:
        result = signals.spc_result(series, definition)
        turning = signals.chart(series, definition)[1].get_column("turning_the_curve").item(0)
    except UserError:
        return None
    summary = result.summary.with_columns(pl.lit(turning).alias("turning_the_curve"))
    return PublishedChart(result.points, summary, hidden)

"""Signals: SPC on every indicator's monthly series in every place, and whether the curve has turned.

For each indicator one call of the SPC engine charts every place at once (grouped by level and area):
an XmR chart of the monthly values, or Laney's p′/u′ chart of numerator over denominator, as the
indicator's settings say (profile, moving-range screening, baseline, rebase events, target). Each place
gets the variation and assurance icons of its last point, and a "turning the curve" reading in the
Results-Based Accountability sense done the SPC way: the limits are frozen on the baseline (the first N
months, or the months up to a given one) and extended forward as the forecast, and the months after the
baseline are judged only by special causes against those frozen limits. There is no two-point
comparison and no red/amber/green against a target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from wholeplace.errors import UserError
from wholeplace.outcomes import spc
from wholeplace.outcomes.framework import Indicator, StoredFramework, month_start
from wholeplace.outcomes.values import IndicatorValues, indicator_values
from wholeplace.store.stores import Stores

SEPARATOR = "\x1f"  # joins level and area code into one SPC group name
IMPROVING, WORSENING, MIXED, NO_SIGNAL = "improving", "worsening", "mixed", "no_signal"
HIGHER, LOWER, NO_BASELINE = "changed_higher", "changed_lower", "no_baseline"
SERIES = ["indicator", "level", "area_code"]


@dataclass
class IndicatorSignals:
    values: IndicatorValues
    points: pl.DataFrame  # one row per indicator × level × area × month, with the SPC columns
    summary: pl.DataFrame  # one row per indicator × level × area: icons of the last point, turning the curve
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # indicator -> SPC settings used
    unavailable: dict[str, str] = field(default_factory=dict)  # indicator -> why it has no chart


def indicator_signals(*, stores: Stores, framework: str | StoredFramework, datasets: list[str] | None = None,
                      indicators: list[str] | None = None, levels: list[str] | None = None,
                      values: IndicatorValues | None = None) -> IndicatorSignals:
    """SPC of each indicator (all, or ``indicators``) in every place of every level (or ``levels``).

    ``values`` may be passed when already computed (monthly values are all that is used)."""
    values = values or indicator_values(stores=stores, framework=framework, datasets=datasets,
                                        indicators=indicators, levels=levels, periods=("month",))
    monthly = values.values.filter(pl.col("period_type") == "month")
    unavailable = dict(values.unavailable)
    points, summaries, settings = [], [], {}
    for indicator in values.framework.framework.indicators():
        if (indicators is not None and indicator.code not in indicators) or indicator.code in unavailable:
            continue
        series = monthly.filter(pl.col("indicator") == indicator.code)
        try:
            result = chart(series, indicator)
        except UserError as exc:
            unavailable[indicator.code] = f"no SPC chart: {exc.message}"
            continue
        points.append(result[0])
        summaries.append(result[1])
        settings[indicator.code] = result[2]
    return IndicatorSignals(values, _concat(points), _concat(summaries), settings, unavailable)


def chart(series: pl.DataFrame, indicator: Indicator) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """SPC of one indicator's monthly values (all places in one call): points, summary per place, settings."""
    frame = _series(series)
    if frame.is_empty():
        raise UserError("no place has at least two months with a value")
    result = _run(frame, indicator)
    points = _split(result.points).rename({"x": "month", "y": "value"})
    extra = [c for c in ("area_name", "numerator", "denominator") if c not in points.columns]
    points = points.join(frame.select("level", "area_code", pl.col("period").alias("month"), *extra),
                         on=["level", "area_code", "month"], how="left")
    summary = _summary(points, _split(result.summary), indicator)
    return (points.with_columns(pl.lit(indicator.code).alias("indicator")).select("indicator", pl.exclude("indicator")),
            summary, result.settings.as_dict())


def spc_result(series: pl.DataFrame, indicator: Indicator) -> spc.SpcResult:
    """The SPC engine's own result for monthly values (places as ``group``: level and area code joined by
    ``SEPARATOR``), with the summary columns a chart and its text need (``latest``, icons, limits)."""
    frame = _series(series)
    if frame.is_empty():
        raise UserError("no place has at least two months with a value")
    return _run(frame, indicator)


def _series(monthly: pl.DataFrame) -> pl.DataFrame:
    """Months with a value (a denominator above zero), places with at least two such months."""
    frame = monthly.filter(pl.col("value").is_not_null() & (pl.col("denominator") > 0)).with_columns(
        (pl.col("level") + SEPARATOR + pl.col("area_code")).alias("group"))
    return frame.filter(pl.len().over("group") >= 2).sort("group", "period")


def _run(frame: pl.DataFrame, indicator: Indicator) -> spc.SpcResult:
    settings = indicator.spc
    direction = indicator.polarity.value
    rebase = [spc.Rebase(month_start(r.month), r.reason, r.approver) for r in settings.rebase]
    common: dict[str, Any] = {"x": "period", "group": "group", "direction": direction, "rebase": rebase,
                              "screen_outliers": settings.screen_outliers, "profile": settings.profile}
    if settings.chart == "xmr":
        return spc.xmr(frame, y="value", target=indicator.target, fix_after=_fix_after(frame, indicator), **common)
    laney = spc.laney_p if settings.chart == "laney_p" else spc.laney_u
    return laney(frame, numerator="numerator", denominator="denominator", **common)


def _fix_after(frame: pl.DataFrame, indicator: Indicator) -> int | None:
    """The baseline as a number of points: ``fix_after``, or the months up to and including ``until``."""
    baseline = indicator.spc.baseline
    if baseline is None or baseline.fix_after is not None:
        return baseline.fix_after if baseline else None
    until = month_start(baseline.until)  # type: ignore[arg-type]
    months = frame.get_column("period").unique()
    count = int((months <= until).sum())
    if count < 2:
        first = months.min()
        raise UserError(f"the baseline ends {baseline.until}, before the data have two months (they start "
                        f"{first:%Y-%m})" if isinstance(first, date) else "the baseline holds no months")
    return count


def _split(frame: pl.DataFrame) -> pl.DataFrame:
    parts = pl.col("group").str.split_exact(SEPARATOR, 1).struct.rename_fields(["level", "area_code"])
    return frame.with_columns(parts.alias("_key")).unnest("_key").drop("group").select(
        "level", "area_code", pl.exclude("level", "area_code"))


def _summary(points: pl.DataFrame, summary: pl.DataFrame, indicator: Indicator) -> pl.DataFrame:
    """Per place: the icons of the last limit group, the baseline and the verdict on the months after it."""
    keys = ["level", "area_code"]
    last = summary.filter(pl.col("rebase_group") == pl.col("rebase_group").max().over(keys))
    after = points.filter(~pl.col("baseline"))
    counts = after.group_by(keys).agg(
        pl.len().alias("months_after_baseline"),
        *((pl.col("point_type") == kind.value).sum().alias(name) for name, kind in (
            ("improvement_after_baseline", spc.PointType.IMPROVEMENT),
            ("concern_after_baseline", spc.PointType.CONCERN),
            ("higher_after_baseline", spc.PointType.NEUTRAL_HIGH),
            ("lower_after_baseline", spc.PointType.NEUTRAL_LOW))))
    base = points.filter(pl.col("baseline") & (pl.col("rebase_group") == 0)).group_by(keys).agg(
        pl.col("month").min().alias("baseline_start"), pl.col("month").max().alias("baseline_end"),
        pl.col("mean").first().alias("baseline_mean"), pl.col("lpl").first().alias("baseline_lpl"),
        pl.col("upl").first().alias("baseline_upl"))
    tail = points.group_by(keys).agg(pl.col("month").last().alias("last_month"), pl.col("value").last().alias(
        "last_value"), pl.col("area_name").first())
    frame = (tail.join(last.select(*keys, "variation_type", "assurance_type", "trial_limits", "no_variation"), on=keys)
             .join(base, on=keys, how="left").join(counts, on=keys, how="left"))
    frozen = indicator.spc.baseline is not None
    return frame.with_columns(_verdict(frozen).alias("turning_the_curve"), pl.lit(indicator.code).alias("indicator")
                              ).select("indicator", *keys, pl.exclude("indicator", *keys)).sort(keys)


def _verdict(frozen: bool) -> pl.Expr:
    """Special causes after the baseline, against its frozen limits: the only evidence the curve has turned."""
    if not frozen:
        return pl.lit(NO_BASELINE)
    better, worse = pl.col("improvement_after_baseline").fill_null(0), pl.col("concern_after_baseline").fill_null(0)
    high, low = pl.col("higher_after_baseline").fill_null(0), pl.col("lower_after_baseline").fill_null(0)
    return (pl.when(pl.col("months_after_baseline").fill_null(0) == 0).then(pl.lit(NO_BASELINE))
            .when((better > 0) & (worse > 0)).then(pl.lit(MIXED))
            .when(better > 0).then(pl.lit(IMPROVING))
            .when(worse > 0).then(pl.lit(WORSENING))
            .when((high > 0) & (low > 0)).then(pl.lit(MIXED))
            .when(high > 0).then(pl.lit(HIGHER))
            .when(low > 0).then(pl.lit(LOWER))
            .otherwise(pl.lit(NO_SIGNAL)))


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

"""How an SPC chart is shown: the Vega-Lite spec, its text summary, the table behind it and the icons.

Input is one series from ``wholeplace.outcomes.spc`` (``SpcResult.points`` and a row of ``SpcResult.summary``).
Points are coloured *and* shaped by point type in the Making Data Count colours (common cause grey, improvement
blue, concern orange, neither purple), darkened to at least 3:1 contrast on white (WCAG 1.4.11) so that colour is
never the only cue (WCAG 1.4.1). Limits are drawn per limit group, so a rebase breaks them. The spec is built with
Altair and sent as JSON to vega-embed from our own static files, as ``wholeplace.web.charts`` does; the same spec
renders offline for reports (``wholeplace.reports.render``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import altair as alt
import polars as pl

from wholeplace.errors import UserError
from wholeplace.outcomes.spc import Assurance, Direction, PointType

FONT = "Liberation Sans, Arial, sans-serif"  # Arial metrics; Liberation Sans is what offline rendering finds
GREY, BLUE, ORANGE, PURPLE = "#6f777b", "#1d70b8", "#b45309", "#6f3996"  # 4.8, 5.2, 5.0, 7.8 : 1 on white
LINE_GREY, LIGHT_GREY = "#505a5f", "#b1b4b6"


@dataclass(frozen=True)
class PointStyle:
    label: str
    colour: str
    shape: str


POINT_STYLES = {
    PointType.COMMON_CAUSE.value: PointStyle("Common cause", GREY, "circle"),
    PointType.IMPROVEMENT.value: PointStyle("Special cause improvement", BLUE, "square"),
    PointType.CONCERN.value: PointStyle("Special cause concern", ORANGE, "diamond"),
    PointType.NEUTRAL_HIGH.value: PointStyle("Special cause neither (high)", PURPLE, "triangle-up"),
    PointType.NEUTRAL_LOW.value: PointStyle("Special cause neither (low)", PURPLE, "triangle-down"),
    PointType.NO_VARIATION.value: PointStyle("No variation", GREY, "cross"),
}
REQUIRED = ("x", "y", "rebase_group", "mean", "lpl", "upl", "special_cause_type", "point_type")


@dataclass(frozen=True)
class Icon:
    """A variation or assurance icon: ``code`` from the SPC summary, a plain ``label`` (the accessible name),
    the ``colour`` of its circle, the ``letter`` drawn in it (empty: a flat line) and what it ``means``."""

    code: str
    label: str
    colour: str
    letter: str
    means: str = ""


VARIATION_ICONS = {
    "improvement_high": Icon("improvement_high", "Special cause improvement (high)", BLUE, "H",
                             "the latest values are higher than expected from common cause variation, which is better"),
    "improvement_low": Icon("improvement_low", "Special cause improvement (low)", BLUE, "L",
                            "the latest values are lower than expected from common cause variation, which is better"),
    "concern_high": Icon("concern_high", "Special cause concern (high)", ORANGE, "H",
                         "the latest values are higher than expected from common cause variation, which is worse"),
    "concern_low": Icon("concern_low", "Special cause concern (low)", ORANGE, "L",
                        "the latest values are lower than expected from common cause variation, which is worse"),
    "neither_high": Icon("neither_high", "Special cause neither improvement nor concern (high)", PURPLE, "H",
                         "the latest values are higher than expected; neither direction is better"),
    "neither_low": Icon("neither_low", "Special cause neither improvement nor concern (low)", PURPLE, "L",
                        "the latest values are lower than expected; neither direction is better"),
    "common_cause": Icon("common_cause", "Common cause", GREY, "",
                         "the latest value varies only as much as expected: there is no sign of real change"),
    "no_variation": Icon("no_variation", "No variation", GREY, "",
                         "every value is the same, so there are no limits and nothing can be said about change"),
}
ASSURANCE_ICONS = {
    Assurance.PASS.value: Icon("pass", "Passing: the target is met consistently", BLUE, "P",
                               "the process limits are on the right side of the target, so it will be met "
                               "consistently unless the process changes"),
    Assurance.HIT_OR_MISS.value: Icon("hit_or_miss", "Hit or miss: the target is within the limits", GREY, "?",
                                      "the target lies within the process limits, so it will be met only some of "
                                      "the time; the process must change to meet it reliably"),
    Assurance.FAIL.value: Icon("fail", "Failing: the target will not be met", ORANGE, "F",
                               "the process limits are on the wrong side of the target, so it will not be met "
                               "unless the process changes"),
}


def variation_icon(summary_row: Mapping[str, Any]) -> Icon:
    """The variation icon of a series' latest limit group (a row of ``SpcResult.summary`` with ``latest``)."""
    if not summary_row.get("latest", True):
        raise UserError("Only a series' latest limit group has a variation icon; this row is an earlier one.",
                        hint="Pass the row of the summary where latest is true: summary.filter(pl.col('latest')).")
    code = summary_row.get("variation_icon") or ("no_variation" if summary_row.get("no_variation") else None)
    if code not in VARIATION_ICONS:
        raise UserError(f"Unknown variation icon {code!r} in the SPC summary.",
                        hint=f"Expected one of: {', '.join(VARIATION_ICONS)}.")
    return VARIATION_ICONS[code]


def assurance_icon(summary_row: Mapping[str, Any]) -> Icon | None:
    """The assurance icon of a series' latest limit group; None when it has no target (or no limits)."""
    code = summary_row.get("assurance_type")
    return None if code is None else ASSURANCE_ICONS[code]


# --- the chart ------------------------------------------------------------------------------------------------


def spc_chart_spec(points: pl.DataFrame, *, title: str, y_title: str, direction: Direction | str,
                   target: float | None = None, value_format: str = ",.1f", width: int | str = "container",
                   small: bool = False, sigma_lines: bool = True, description: str | None = None) -> dict[str, Any]:
    """A Vega-Lite spec of one series' SPC chart: values, mean, process limits (dashed) and 2σ lines (light) per
    limit group, an optional target, and points coloured and shaped by point type with tooltips.

    ``value_format`` is a d3 format for the values (",.1f", ".0%"); ``small`` gives the compact small-multiple
    version (no axis titles, legend or 2σ lines); ``description`` (the text summary) becomes the chart's ARIA label."""
    rows, temporal = _chart_rows(points)
    types = [t for t in POINT_STYLES if t in {row["point_type"] for row in rows}]
    x = _x_encoding(temporal, small)
    layers = [
        _limit_line("mean", LINE_GREY, x, dash=None, width=1.5),
        _limit_line("upl", LINE_GREY, x, dash=[6, 4], width=1),
        _limit_line("lpl", LINE_GREY, x, dash=[6, 4], width=1),
        *([_limit_line("upper_2sigma", LIGHT_GREY, x, [2, 3], 1), _limit_line("lower_2sigma", LIGHT_GREY, x,
           [2, 3], 1)] if sigma_lines and not small else []),
        alt.Chart().mark_line(color=LINE_GREY, strokeWidth=1.5).encode(x=x, y=_y(y_title, value_format, small)),
        _points(types, x, temporal, value_format, small),
    ]
    if target is not None:
        layers.append(_target(float(target), value_format))
    chart = alt.layer(*layers, data=alt.Data(values=rows)).properties(
        width=width, height=120 if small else 320,
        title=alt.Title(title, subtitle=_direction_words(direction), fontSize=13 if small else 16,
                        subtitleFontSize=12 if small else 14, anchor="start"),
        **({"description": description} if description else {}),
    )
    return _configured(chart, small).to_dict()  # type: ignore[no-any-return]


def _chart_rows(points: pl.DataFrame) -> tuple[list[dict[str, Any]], bool]:
    """The columns the chart draws, with x as ISO text when it is a date, and a label per point type."""
    _check_points(points)
    temporal = points.schema["x"].is_temporal()
    frame = points.with_columns(
        pl.col("x").cast(pl.String) if temporal else pl.col("x"),
        pl.col("point_type").replace_strict({k: s.label for k, s in POINT_STYLES.items()}).alias("type_label"),
        (pl.col("rebase_group") != pl.col("rebase_group").shift(1)).fill_null(False).alias("rebased"),
    )
    columns = ["x", "y", "rebase_group", "mean", "lpl", "upl", "lower_2sigma", "upper_2sigma", "special_cause_type",
               "point_type", "type_label", "rebased"]
    return frame.select(c for c in columns if c in frame.columns).to_dicts(), temporal


def _check_points(points: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in points.columns]
    if missing:
        raise UserError(f"The SPC points lack the column(s) {', '.join(missing)}.",
                        hint="Pass SpcResult.points from wholeplace.outcomes.spc (xmr, laney_p or laney_u).")
    if "group" in points.columns and points.get_column("group").n_unique() > 1:
        raise UserError("An SPC chart draws one series, but the points hold several groups.",
                        hint="Filter the points to one group first: points.filter(pl.col('group') == ...).")
    if points.is_empty():
        raise UserError("There are no points to chart.", hint="Chart a series with at least two values.")


def _x_encoding(temporal: bool, small: bool) -> alt.X:
    title = None if small else ("Month" if temporal else "Period")
    if temporal:
        axis = alt.Axis(format="%b %Y", labelAngle=0, tickCount=4 if small else 6, grid=False)
        return alt.X("x:T", title=title, axis=axis, scale=alt.Scale(type="utc"))
    return alt.X("x:Q", title=title, axis=alt.Axis(labelAngle=0, grid=False, tickMinStep=1))


def _y(y_title: str, value_format: str, small: bool) -> alt.Y:
    return alt.Y("y:Q", title=None if small else y_title, axis=alt.Axis(format=value_format, tickCount=4 if small
                                                                        else 6), scale=alt.Scale(zero=False))


def _limit_line(field: str, colour: str, x: alt.X, dash: list[int] | None, width: float) -> alt.Chart:
    """One line per limit group (``detail``), so limits stop at a rebase and start again."""
    style: dict[str, Any] = {"color": colour, "strokeWidth": width} | ({"strokeDash": dash} if dash else {})
    return alt.Chart().mark_line(**style).encode(x=x, y=alt.Y(f"{field}:Q"), detail="rebase_group:N")


def _points(types: list[str], x: alt.X, temporal: bool, value_format: str, small: bool) -> alt.Chart:
    labels = [POINT_STYLES[t].label for t in types]
    legend = None if small else alt.Legend(title="Point", orient="bottom", direction="horizontal", labelLimit=0)
    month = alt.Tooltip("x:T", title="Month", format="%B %Y") if temporal else alt.Tooltip("x:Q", title="Period")
    return alt.Chart().mark_point(filled=True, size=30 if small else 70, opacity=1).encode(
        x=x, y="y:Q",
        color=alt.Color("type_label:N", scale=alt.Scale(domain=labels, range=[POINT_STYLES[t].colour for t in types]),
                        legend=legend),
        shape=alt.Shape("type_label:N", scale=alt.Scale(domain=labels, range=[POINT_STYLES[t].shape for t in types]),
                        legend=legend),
        tooltip=[month, alt.Tooltip("y:Q", title="Value", format=value_format),
                 alt.Tooltip("type_label:N", title="Point"), alt.Tooltip("special_cause_type:N", title="Rule"),
                 alt.Tooltip("mean:Q", title="Mean", format=value_format),
                 alt.Tooltip("lpl:Q", title="Lower limit", format=value_format),
                 alt.Tooltip("upl:Q", title="Upper limit", format=value_format)],
    )


def _target(target: float, value_format: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=[{"target": target, "label": "Target"}])).mark_rule(
        color="#0b0c0c", strokeWidth=1.5, strokeDash=[1, 3]).encode(
        y="target:Q", tooltip=[alt.Tooltip("label:N", title="Line"),
                               alt.Tooltip("target:Q", title="Target", format=value_format)])


def _direction_words(direction: Direction | str) -> str:
    return {Direction.INCREASE: "Higher is better", Direction.DECREASE: "Lower is better",
            Direction.NEUTRAL: "Neither higher nor lower is better"}[Direction(direction)]


def _configured(chart: alt.LayerChart | alt.FacetChart, small: bool) -> alt.LayerChart | alt.FacetChart:
    size = 11 if small else 14
    return (chart.configure(font=FONT)
            .configure_axis(labelFontSize=size, titleFontSize=size, labelFont=FONT, titleFont=FONT)
            .configure_legend(labelFontSize=size, titleFontSize=size, labelFont=FONT, titleFont=FONT)
            .configure_view(stroke=None))


# --- the table and the text summary ---------------------------------------------------------------------------


RULE_WORDS = [
    (re.compile(r"Above UCL"), "above the upper process limit"),
    (re.compile(r"Below LCL"), "below the lower process limit"),
    (re.compile(r"(\d+) Point Trend \(Increasing\)"), r"one of \1 or more rising points (a trend)"),
    (re.compile(r"(\d+) Point Trend \(Decreasing\)"), r"one of \1 or more falling points (a trend)"),
    (re.compile(r"2 in 3 Above CL"), "two of three points close to the upper limit"),
    (re.compile(r"2 in 3 Below CL"), "two of three points close to the lower limit"),
    (re.compile(r"(\d+) Points Above CL"), r"one of \1 or more points above the mean (a shift)"),
    (re.compile(r"(\d+) Points Below CL"), r"one of \1 or more points below the mean (a shift)"),
]


def signal_words(point_type: str, special_cause_type: str) -> str:
    """A point's signal in plain words, e.g. "Special cause improvement: above the upper process limit"."""
    label = POINT_STYLES[point_type].label
    for pattern, words in RULE_WORDS:
        if pattern.fullmatch(special_cause_type):
            return f"{label}: {pattern.sub(words, special_cause_type)}"
    return label


def spc_table_rows(points: pl.DataFrame, *, digits: int | None = None) -> list[dict[str, str]]:
    """The table behind the chart, as text: month, value, mean, lower limit, upper limit and the signal in words."""
    _check_points(points)
    digits = _digits(points) if digits is None else digits
    monthly = _monthly(points)
    return [
        {"month": _when(row["x"], monthly), "value": _number(row["y"], digits), "mean": _number(row["mean"], digits),
         "lower_limit": _number(row["lpl"], digits), "upper_limit": _number(row["upl"], digits),
         "signal": signal_words(row["point_type"], row["special_cause_type"])}
        for row in points.iter_rows(named=True)
    ]


def describe_spc(points: pl.DataFrame, summary: pl.DataFrame, *, measure: str, unit: str = "",
                 direction: Direction | str, digits: int | None = None) -> str:
    """A one-paragraph text summary of one series' SPC chart (its text alternative, WCAG 1.1.1).

    E.g. "Emergency admissions was 61.0 per 1,000 in December 2022 (the latest month). Since January 2022 …"."""
    _check_points(points)
    digits = _digits(points) if digits is None else digits
    monthly = _monthly(points)
    latest = _latest_row(summary)
    last = points.row(-1, named=True)

    def value(v: float | None) -> str:
        return _number(v, digits) + _unit(unit) if v is not None else "not defined"

    sentences = [f"{measure} was {value(last['y'])} in {_when(last['x'], monthly)}, the latest point. "
                 f"{_direction_words(direction)}."]
    sentences.append(_limits_sentence(latest, value, digits, monthly))
    icon = variation_icon(latest)
    sentences.append(f"Variation: {icon.label.lower()}; {icon.means}.")
    sentences.append(_recent_signals(points, monthly))
    assurance = assurance_icon(latest)
    if assurance is not None:
        sentences.append(f"Against the target of {value(latest['target'])}: {assurance.label.split(':')[0].lower()}; "
                         f"{assurance.means}.")
    return " ".join(s for s in sentences if s)


def _latest_row(summary: pl.DataFrame) -> dict[str, Any]:
    if "group" in summary.columns and summary.get_column("group").n_unique() > 1:
        raise UserError("The SPC summary holds several groups; the text describes one series.",
                        hint="Filter the summary to one group first.")
    latest = summary.filter(pl.col("latest")) if "latest" in summary.columns else summary.tail(1)
    if latest.is_empty():
        raise UserError("The SPC summary has no latest limit group.", hint="Pass SpcResult.summary unchanged.")
    return latest.row(-1, named=True)


def _limits_sentence(latest: Mapping[str, Any], value: Any, digits: int, monthly: bool) -> str:
    if latest.get("no_variation"):
        return "Every value is the same, so there are no process limits."
    text = f"{_since(latest, monthly)}, the mean is {value(latest['mean'])}"
    if latest.get("lpl") is not None:
        text += (f" and the process limits are {_number(latest['lpl'], digits)} to {value(latest['upl'])}: values "
                 "between them are expected from common cause variation")
    trial = " These are trial limits, from fewer than 13 points." if latest.get("trial_limits") else ""
    return text + "." + trial


def _since(latest: Mapping[str, Any], monthly: bool) -> str:
    """When the latest limit group starts and, after a rebase, why and who agreed it."""
    start = _when(latest["start"], monthly)
    if not latest["rebase_group"]:
        return f"From {start}"
    reason, approver = latest.get("rebase_reason"), latest.get("rebase_approver")
    why = f" ({reason}{f', agreed by {approver}' if approver else ''})" if reason else ""
    return f"Since the limits were recalculated in {start}{why}"


RULE_PHRASES = {
    "outside_limits": "outside the process limits",
    "trend": "in a run of rising or falling points (a trend)",
    "two_in_three": "close to a process limit, two of three in a row",
    "shift": "in a run of points on one side of the mean (a shift)",
}


def _recent_signals(points: pl.DataFrame, monthly: bool, window: int = 12) -> str:
    """Special causes among the last ``window`` points, by rule, and what they signal."""
    recent = points.tail(window)
    present = [rule for rule in RULE_PHRASES if rule in recent.columns and recent.get_column(rule).any()]
    span = f"the last {recent.height} points" if recent.height == window else f"all {recent.height} points"
    if not present:
        return f"There are no special causes in {span}."
    parts = []
    for rule in present:
        flagged = recent.filter(pl.col(rule)).get_column("x").to_list()
        parts.append(f"{_points_word(len(flagged))} {RULE_PHRASES[rule]} ({_span(flagged, monthly)})")
    counts = recent.get_column("point_type").value_counts()
    kinds = [f"{n} {POINT_STYLES[t].label.lower()}" for t, n in counts.sort("point_type").iter_rows()
             if t != PointType.COMMON_CAUSE.value]
    return f"Special causes in {span}: " + "; ".join(parts) + ". Points by type: " + ", ".join(kinds) + "."


def _points_word(n: int) -> str:
    return "1 point" if n == 1 else f"{n} points"


def _span(values: list[Any], monthly: bool) -> str:
    if len(values) <= 2:
        return " and ".join(_when(v, monthly) for v in values)
    return f"{_when(values[0], monthly)} to {_when(values[-1], monthly)}"


def _monthly(points: pl.DataFrame) -> bool:
    """Dates that are all firsts of the month are months: written "March 2022", not "1 March 2022"."""
    x = points.get_column("x")
    return x.dtype == pl.Date and bool((x.dt.day() == 1).all())


def _when(value: Any, monthly: bool) -> str:
    if isinstance(value, datetime):
        return f"{value:%-d %B %Y %H:%M}" if (value.hour or value.minute) else f"{value:%-d %B %Y}"
    if isinstance(value, date):
        return f"{value:%B %Y}" if monthly else f"{value:%-d %B %Y}"
    return f"point {value}"


def _digits(points: pl.DataFrame) -> int:
    """Decimals enough to tell the mean from the limits: 0 for values in the hundreds, up to 3 for small ones."""
    spread = points.select((pl.col("y").max() - pl.col("y").min()).abs()).item() or 0.0
    largest = points.select(pl.col("y").abs().max()).item() or 0.0
    scale = spread if spread > 0 else largest
    return 0 if scale >= 100 else 1 if scale >= 10 else 2 if scale >= 1 else 3


def _number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _unit(unit: str) -> str:
    return unit if not unit or unit.startswith("%") else f" {unit}"

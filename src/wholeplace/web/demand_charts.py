"""Vega-Lite specs (built with Altair) of the demand pages' charts: a line over time, bars by category, the hour
of day by day of week heat map, the Lorenz curve and a forecast with its prediction intervals.

Every spec carries its data inline and its text summary as ``description``, so the pages draw it with
vega-embed from our own static files and reports render the same spec offline (``reports.render.chart_svg``).
Only published values are charted: a hidden count is left out, never drawn as zero.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from wholeplace.web.charts import LINE_PALETTE, LINE_SHAPES, MAP_PALETTE

FONT = "arial"
BLUE, RED = LINE_PALETTE[0], LINE_PALETTE[1]


def _finish(chart: alt.Chart | alt.LayerChart, height: int = 280) -> dict[str, Any]:
    return (chart.properties(width="container", height=height)
            .configure_axis(labelFontSize=14, titleFontSize=14, labelFont=FONT, titleFont=FONT)
            .configure_legend(labelFontSize=14, titleFontSize=14, labelFont=FONT, titleFont=FONT, orient="bottom",
                              direction="vertical", labelLimit=0)
            .to_dict())


def line_chart(rows: list[dict[str, Any]], *, x: str, y: str, series: str | None, x_title: str, y_title: str,
               description: str, temporal: bool = True) -> dict[str, Any]:
    """One line per ``series`` (or one line) of ``y`` over ``x``; rows whose ``y`` is None are left out."""
    shown = [r for r in rows if r.get(y) is not None]
    x_field = alt.X(f"{x}:T" if temporal else f"{x}:O", title=x_title,
                    axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6) if temporal else alt.Axis(labelAngle=0))
    encoding: dict[str, Any] = {"x": x_field, "y": alt.Y(f"{y}:Q", title=y_title),
                                "tooltip": [alt.Tooltip(f"{x}:{'T' if temporal else 'O'}", title=x_title),
                                            alt.Tooltip(f"{y}:Q", title=y_title, format=",.0f")]}
    if series:
        names = sorted({str(r[series]) for r in shown})
        encoding["color"] = alt.Color(f"{series}:N", title=None, scale=alt.Scale(domain=names, range=_cycle(
            LINE_PALETTE, names)))
        encoding["shape"] = alt.Shape(f"{series}:N", title=None, scale=alt.Scale(domain=names, range=_cycle(
            LINE_SHAPES, names)))
    chart = alt.Chart(alt.Data(values=shown), description=description).mark_line(
        point={"size": 50, "filled": True}, strokeWidth=2, color=BLUE).encode(**encoding)
    return _finish(chart)


def bar_chart(rows: list[dict[str, Any]], *, category: str, value: str, category_title: str, value_title: str,
              description: str) -> dict[str, Any]:
    """Horizontal bars, largest first; a hidden value is left out."""
    shown = [r for r in rows if r.get(value) is not None]
    chart = alt.Chart(alt.Data(values=shown), description=description).mark_bar(color=BLUE).encode(
        y=alt.Y(f"{category}:N", title=category_title, sort="-x", axis=alt.Axis(labelLimit=180)),
        x=alt.X(f"{value}:Q", title=value_title),
        tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=",.0f")])
    return _finish(chart, height=max(120, 24 * len(shown)))


def heat_map(rows: list[dict[str, Any]], *, description: str, value_title: str) -> dict[str, Any]:
    """Hour of day (across) by day of week (down); a hidden cell is grey and labelled in the table."""
    chart = alt.Chart(alt.Data(values=rows), description=description).mark_rect().encode(
        x=alt.X("hour:O", title="Hour of day", axis=alt.Axis(labelAngle=0, values=list(range(0, 24, 3)))),
        y=alt.Y("weekday_name:N", title="Day", sort=WEEKDAYS),
        color=alt.Color("value:Q", title=value_title, scale=alt.Scale(range=[MAP_PALETTE[0], MAP_PALETTE[-1]])),
        tooltip=[alt.Tooltip("weekday_name:N", title="Day"), alt.Tooltip("hour:O", title="Hour"),
                 alt.Tooltip("value:Q", title=value_title, format=",.0f")])
    return _finish(chart, height=220)


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def lorenz_chart(rows: list[dict[str, Any]], *, description: str, units: str) -> dict[str, Any]:
    """The Lorenz curve (share of demand held by the busiest share of entities) against the line of equality."""
    curve = [{"units_share": r["units_share"], "events_share": r["events_share"], "line": "Lorenz curve"}
             for r in rows]
    equal = [{"units_share": v, "events_share": v, "line": "Equal shares"} for v in (0.0, 1.0)]
    names = ["Lorenz curve", "Equal shares"]
    chart = alt.Chart(alt.Data(values=curve + equal), description=description).mark_line(strokeWidth=2).encode(
        x=alt.X("units_share:Q", title=f"Share of {units}, busiest first", axis=alt.Axis(format="%")),
        y=alt.Y("events_share:Q", title="Share of contacts", axis=alt.Axis(format="%")),
        color=alt.Color("line:N", title=None, scale=alt.Scale(domain=names, range=[BLUE, LINE_PALETTE[4]])),
        strokeDash=alt.StrokeDash("line:N", title=None, scale=alt.Scale(domain=names, range=[[1, 0], [6, 4]])))
    return _finish(chart)


def forecast_chart(history: list[dict[str, Any]], predicted: list[dict[str, Any]], *, description: str,
                   y_title: str) -> dict[str, Any]:
    """Published monthly history, then the point forecast with its 80 % and 95 % prediction intervals."""
    past = [{"month": r["month"], "value": r["value"], "line": "Recorded"} for r in history
            if r["value"] is not None]
    ahead = [{"month": r["month"], "value": r["forecast"], "line": "Forecast"} for r in predicted]
    names = ["Recorded", "Forecast"]
    x = alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6))
    band95 = alt.Chart(alt.Data(values=predicted)).mark_area(opacity=0.25, color=MAP_PALETTE[1]).encode(
        x=x, y=alt.Y("lower_95:Q", title=y_title), y2="upper_95:Q")
    band80 = alt.Chart(alt.Data(values=predicted)).mark_area(opacity=0.45, color=MAP_PALETTE[2]).encode(
        x=x, y="lower_80:Q", y2="upper_80:Q")
    lines = alt.Chart(alt.Data(values=past + ahead)).mark_line(strokeWidth=2).encode(
        x=x, y=alt.Y("value:Q", title=y_title),
        color=alt.Color("line:N", title=None, scale=alt.Scale(domain=names, range=[BLUE, RED])),
        strokeDash=alt.StrokeDash("line:N", title=None, scale=alt.Scale(domain=names, range=[[1, 0], [6, 3]])))
    return _finish(alt.layer(band95, band80, lines).properties(description=description))


def grouped_bars(rows: list[dict[str, Any]], *, category: str, group: str, value: str, category_title: str,
                 value_title: str, description: str) -> dict[str, Any]:
    """Bars of ``value`` per ``category``, one bar per ``group`` side by side (e.g. median and 90th percentile)."""
    shown = [r for r in rows if r.get(value) is not None]
    names = sorted({str(r[group]) for r in shown})
    chart = alt.Chart(alt.Data(values=shown), description=description).mark_bar().encode(
        y=alt.Y(f"{category}:N", title=category_title, axis=alt.Axis(labelLimit=180)),
        yOffset=alt.YOffset(f"{group}:N"),
        x=alt.X(f"{value}:Q", title=value_title),
        color=alt.Color(f"{group}:N", title=None, scale=alt.Scale(domain=names, range=_cycle(LINE_PALETTE, names))),
        tooltip=[alt.Tooltip(f"{category}:N", title=category_title), alt.Tooltip(f"{group}:N"),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=",.1f")])
    return _finish(chart, height=max(160, 22 * len(shown)))


def _cycle(values: tuple[str, ...], keys: list[str]) -> list[str]:
    return [values[i % len(values)] for i in range(len(keys))]

"""What the maps and charts draw, decided on the server so the legend, the table and the
picture always agree: choropleth classes and the Vega-Lite spec of the monthly chart.

The chart spec is built with Altair and sent as JSON to vega-embed, served from our own static
files; Altair's HTML output is never used because it loads Vega from a CDN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import altair as alt

ZERO_COLOUR = "#ffffff"
HIDDEN_COLOUR = "#6f777b"  # areas whose small count disclosure control hides (4.8:1 against white)
# Sequential blues (ColorBrewer "Blues", lightest step dropped so every class differs from zero).
MAP_PALETTE = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
# Line colours with at least 3:1 contrast against white (WCAG 1.4.11); shapes differ too, so
# partners are told apart without relying on colour alone (WCAG 1.4.1).
LINE_PALETTE = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#505a5f", "#912b88", "#0b0c0c", "#6f4f00")
LINE_SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "stroke", "wedge")


@dataclass(frozen=True)
class MapClass:
    """One class of the choropleth: areas with ``low`` to ``high`` events drawn in ``colour``."""

    low: int
    high: int
    colour: str

    @property
    def label(self) -> str:
        return f"{self.low:,}" if self.low == self.high else f"{self.low:,} to {self.high:,}"


def map_classes(counts: list[int], classes: int = len(MAP_PALETTE)) -> list[MapClass]:
    """Zero in its own class, then up to ``classes`` quantile classes of the non-zero counts.

    Quantiles suit skewed counts (a few very busy areas) better than equal intervals, which
    would put almost every area in the lightest class.
    """
    values = sorted(v for v in counts if v > 0)
    result = [MapClass(0, 0, ZERO_COLOUR)]
    if not values:
        return result
    uppers = sorted({values[max(0, math.ceil(len(values) * k / classes) - 1)] for k in range(1, classes + 1)})
    low = 1
    for upper, colour in zip(uppers, _spread(MAP_PALETTE, len(uppers)), strict=True):
        result.append(MapClass(low, upper, colour))
        low = upper + 1
    return result


def _spread(palette: tuple[str, ...], n: int) -> list[str]:
    """``n`` colours spread across the palette, so two classes are light and dark, not two lights."""
    if n == 1:
        return [palette[-1]]
    return [palette[round(i * (len(palette) - 1) / (n - 1))] for i in range(n)]


def classes_json(classes: list[MapClass]) -> list[dict[str, Any]]:
    return [asdict(c) | {"label": c.label} for c in classes]


def monthly_chart(rows: list[dict[str, Any]], *, description: str) -> dict[str, Any]:
    """A Vega-Lite line chart of events per month, one line per partner."""
    partners = sorted({row["partner_name"] for row in rows})
    legend = alt.Legend(orient="bottom", direction="vertical", title="Partner", labelLimit=0)
    chart = (
        alt.Chart(alt.Data(values=rows), description=description)
        .mark_line(point={"size": 60, "filled": True}, strokeWidth=2)
        .encode(
            x=alt.X("utcyearmonth(month):T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6)),
            y=alt.Y("events:Q", title="Events"),
            color=alt.Color("partner_name:N", scale=alt.Scale(domain=partners, range=_cycle(LINE_PALETTE, partners)),
                            legend=legend),
            shape=alt.Shape("partner_name:N", scale=alt.Scale(domain=partners, range=_cycle(LINE_SHAPES, partners)),
                            legend=legend),
            tooltip=[
                alt.Tooltip("utcyearmonth(month):T", title="Month", format="%B %Y"),
                alt.Tooltip("partner_name:N", title="Partner"),
                alt.Tooltip("events:Q", title="Events", format=","),
            ],
        )
        .properties(width="container", height=300)
        .configure_axis(labelFontSize=14, titleFontSize=14, labelFont="arial", titleFont="arial")
        .configure_legend(labelFontSize=14, titleFontSize=14, labelFont="arial", titleFont="arial")
    )
    return chart.to_dict()


def _cycle(values: tuple[str, ...], keys: list[str]) -> list[str]:
    return [values[i % len(values)] for i in range(len(keys))]

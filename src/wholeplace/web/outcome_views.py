"""What the outcome pages and the board pack show, built from published figures (``outcomes.published``).

Each function returns plain dictionaries for a template: an indicator's latest rolling-year value with its
interval and comparisons, its SPC chart (Vega-Lite spec, text summary, table and icons), "turning the curve"
in words, the map classes across places, and the lineage. Nothing here reads a count that disclosure control
has not already passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from wholeplace import provenance
from wholeplace.errors import NotFoundError
from wholeplace.outcomes import signals
from wholeplace.outcomes.framework import Indicator, Outcome, StoredFramework, list_frameworks
from wholeplace.outcomes.published import (
    Audience,
    OutcomeFigures,
    PublishedChart,
    find_area,
    outcome_figures,
    published_chart,
)
from wholeplace.outcomes.values import PLACE_LEVEL
from wholeplace.store.stores import Stores
from wholeplace.web import charts, spc_charts

RBA = {"population_indicator": "Population indicator", "how_much": "Performance measure: how much did we do?",
       "how_well": "Performance measure: how well did we do it?",
       "better_off": "Performance measure: is anyone better off?"}
POLARITY = {"increase": "Higher is better", "decrease": "Lower is better",
            "neutral": "Neither higher nor lower is better"}
COMPARED = {"higher": "significantly higher", "lower": "significantly lower", "similar": "similar",
            None: "not compared"}
TURNING = {
    signals.IMPROVING: "Turning the curve: special cause improvement after the baseline",
    signals.WORSENING: "Not turning: special cause concern after the baseline",
    signals.MIXED: "Mixed: both improvement and concern after the baseline",
    signals.HIGHER: "Changed: higher than the baseline limits (neither direction is better)",
    signals.LOWER: "Changed: lower than the baseline limits (neither direction is better)",
    signals.NO_SIGNAL: "No signal yet: every month after the baseline is within what the baseline predicts",
    signals.NO_BASELINE: "No baseline is set, so the curve is not judged",
}


@dataclass(frozen=True)
class Place:
    level: str
    code: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.level}/{self.code}"


def framework_code(*, stores: Stores, code: str | None = None) -> StoredFramework:
    """The framework asked for, or the first stored one; a 404 saying how to add one when there is none."""
    stored = list_frameworks(stores=stores)
    if not stored:
        raise NotFoundError("No outcomes framework is stored yet, so there are no shared outcomes to show.",
                            hint="Import one with `wholeplace outcomes import FILE` (`wholeplace demo` installs one).")
    if code is None:
        return stored[0]
    found = [s for s in stored if s.framework.code == code]
    if not found:
        raise NotFoundError(f"There is no outcomes framework '{code}'.",
                            hint=f"Stored frameworks: {', '.join(s.framework.code for s in stored)}.")
    return found[0]


def place_of(figures: OutcomeFigures, level: str | None, area: str | None) -> Place:
    place = figures.framework.framework.place
    if level in (None, PLACE_LEVEL):
        return Place(PLACE_LEVEL, place.code, place.name)
    assert level is not None
    return Place(level, str(area), find_area(figures, level, str(area)))


def level_choices(*, stores: Stores, audience: Audience) -> list[dict[str, Any]]:
    """The levels the audience may see, finest first, with their titles."""
    return [{"level": r["level"], "title": r["title"], "features": r["features"]}
            for r in provenance.list_levels(stores=stores) if audience.allows(r["level"])]


def area_lists(*, stores: Stores, audience: Audience) -> dict[str, list[dict[str, str]]]:
    """The areas of every level the audience may see, by name: the places a dashboard can show."""
    rows = stores.connect().execute("SELECT level, code, name FROM areas ORDER BY level, name").fetchall()
    lists: dict[str, list[dict[str, str]]] = {}
    for level, code, name in rows:
        if audience.allows(level):
            lists.setdefault(level, []).append({"area_code": code, "area_name": name})
    return lists


# -- one indicator in one place -----------------------------------------------------------------------------


def latest(figures: OutcomeFigures, code: str, place: Place) -> dict[str, Any] | None:
    """The latest rolling-year value (else the latest month) of an indicator in a place, as published."""
    rows = figures.values.filter((pl.col("indicator") == code) & (pl.col("level") == place.level)
                                 & (pl.col("area_code") == place.code))
    rolling = rows.filter(pl.col("period_type") == "rolling_12")
    rows = (rolling if not rolling.is_empty() else rows).sort("period")
    if rows.is_empty():
        return None
    row = rows.row(-1, named=True)
    digits = _digits(rows.get_column("value").drop_nulls())
    return row | {
        "value_display": _number(row["value"], digits, figures.rule(code).marker),
        "lower_display": _number(row["lower"], digits, "—"), "upper_display": _number(row["upper"], digits, "—"),
        "place_display": _number(row["place_value"], digits, "—"), "peer_display": _number(row["peer_value"], digits,
                                                                                          "—"),
        "period_words": _period_words(row), "vs_place_words": COMPARED.get(row["vs_place"], "not compared"),
        "vs_peers_words": COMPARED.get(row["vs_peers"], "not compared"), "digits": digits,
    }


def indicator_card(figures: OutcomeFigures, indicator: Indicator, place: Place, *, small: bool,
                   chart_id: str) -> dict[str, Any]:
    """Everything shown for one indicator in one place: the latest value and its SPC chart with its words."""
    chart = published_chart(figures, indicator=indicator.code, level=place.level, area=place.code)
    card: dict[str, Any] = {
        "indicator": indicator, "code": indicator.code, "title": indicator.title, "unit": indicator.unit,
        "polarity": POLARITY[indicator.polarity.value], "rba": RBA[indicator.rba.value],
        "latest": latest(figures, indicator.code, place), "chart_id": chart_id, "chart": None,
        "hidden_months": 0, "rule": figures.rule(indicator.code),
    }
    if chart is None:
        card["no_chart"] = ("There are too few published months to chart: disclosure control hides small counts, and "
                            "a chart needs at least two months.")
        return card
    card.update(chart_parts(chart, indicator, place, small=small))
    return card


def chart_parts(chart: PublishedChart, indicator: Indicator, place: Place, *, small: bool) -> dict[str, Any]:
    points = chart.points
    text = spc_charts.describe_spc(points, chart.summary, measure=f"{indicator.title} in {place.name}",
                                   unit=indicator.unit, direction=indicator.polarity.value)
    if chart.hidden_months:
        text += (f" {chart.hidden_months} month{'s' if chart.hidden_months != 1 else ''} with a small count "
                 "hidden by disclosure control are left out.")
    latest_row = chart.summary.filter(pl.col("latest")).row(-1, named=True)
    spec = spc_charts.spc_chart_spec(points, title=indicator.title, y_title=indicator.unit,
                                     direction=indicator.polarity.value, target=indicator.target, small=small,
                                     description=text)
    return {"chart": spec, "summary": text, "rows": spc_charts.spc_table_rows(points),
            "variation": spc_charts.variation_icon(latest_row), "assurance": spc_charts.assurance_icon(latest_row),
            "hidden_months": chart.hidden_months, "turning": turning(chart, indicator)}


def turning(chart: PublishedChart, indicator: Indicator) -> dict[str, Any]:
    """"Turning the curve": the baseline frozen, the months after it judged only by special causes."""
    reading = chart.summary.get_column("turning_the_curve").item(0)
    points = chart.points
    base = points.filter(pl.col("baseline") & (pl.col("rebase_group") == 0))
    after = points.filter(~pl.col("baseline"))
    digits = _digits(points.get_column("y"))
    words: dict[str, Any] = {"reading": reading, "words": TURNING.get(reading, reading)}
    if indicator.spc.baseline is None or base.is_empty():
        return words
    first, last = base.get_column("x").min(), base.get_column("x").max()
    counts = after.get_column("point_type").value_counts()
    kinds = {k: n for k, n in counts.iter_rows()}
    words |= {
        "baseline": f"{_month(first)} to {_month(last)}", "baseline_mean": _number(base.item(0, "mean"), digits, "—"),
        "baseline_limits": f"{_number(base.item(0, 'lpl'), digits, '—')} to "
                           f"{_number(base.item(0, 'upl'), digits, '—')}",
        "months_after": after.height, "improvement": kinds.get("special_cause_improvement", 0),
        "concern": kinds.get("special_cause_concern", 0),
        "neutral": kinds.get("special_cause_neutral_high", 0) + kinds.get("special_cause_neutral_low", 0),
    }
    return words


# -- pages -----------------------------------------------------------------------------------------------


def dashboard(*, stores: Stores, audience: Audience, framework: str | None, level: str | None,
              area: str | None, small: bool = True) -> dict[str, Any]:
    """Every shared outcome of the framework for one place: a card per indicator, grouped by outcome."""
    stored = framework_code(stores=stores, code=framework)
    figures = outcome_figures(stores=stores, framework=stored, audience=audience, level=level or PLACE_LEVEL)
    place = place_of(figures, level, area)
    outcomes = [outcome_section(figures, outcome, place, small=small) for outcome in figures.outcomes(place.level)]
    return {"framework": stored, "figures": figures, "place": place, "outcomes": outcomes,
            "unavailable": figures.unavailable, "indicator_titles": _titles(stored),
            "statement": _statements(figures), "levels": level_choices(stores=stores, audience=audience),
            "area_lists": area_lists(stores=stores, audience=audience)}


def outcome_section(figures: OutcomeFigures, outcome: Outcome, place: Place, *, small: bool) -> dict[str, Any]:
    cards = [indicator_card(figures, i, place, small=small, chart_id=f"chart-{i.code}") for i in outcome.indicators
             if i.code not in figures.unavailable]
    return {"outcome": outcome, "cards": cards,
            "unavailable": [(i.title, figures.unavailable[i.code]) for i in outcome.indicators
                            if i.code in figures.unavailable]}


def indicator_page(*, stores: Stores, audience: Audience, framework: str | None, code: str, level: str | None,
                   area: str | None) -> dict[str, Any]:
    """One indicator: its chart in a place, the interval, comparisons, a map across the places of a level,
    the lineage and the Fingertips-style metadata."""
    stored = framework_code(stores=stores, code=framework)
    indicator = stored.framework.indicator(code)
    map_level = level if level not in (None, PLACE_LEVEL) else (audience.levels[0] if audience.levels else None)
    figures = outcome_figures(stores=stores, framework=stored, audience=audience, level=map_level or PLACE_LEVEL,
                              indicators=[code])
    if code in figures.unavailable:
        raise NotFoundError(f"The indicator '{code}' has no figures for you: {figures.unavailable[code]}.",
                            hint="Choose another purpose, or ask which agreement would cover the data it needs.")
    place = place_of(figures, level, area)
    card = indicator_card(figures, indicator, place, small=False, chart_id="indicator-chart")
    context = {"framework": stored, "figures": figures, "indicator": indicator, "place": place, "card": card,
               "outcome": stored.framework.outcome_of(code), "statement": figures.rule(code).statement(),
               "lineage": figures.lineage.get(code, {}), "levels": level_choices(stores=stores, audience=audience)}
    if map_level is not None:
        context |= across_places(figures, indicator, map_level, card)
    return context


def across_places(figures: OutcomeFigures, indicator: Indicator, level: str, card: dict[str, Any]) -> dict[str, Any]:
    """The latest rolling-year value of every area of ``level``: map classes, map data and a table."""
    rows = figures.values.filter((pl.col("indicator") == indicator.code) & (pl.col("level") == level))
    rolling = rows.filter(pl.col("period_type") == "rolling_12")
    rows = rolling if not rolling.is_empty() else rows
    last = rows.get_column("period").max()
    rows = rows.filter(pl.col("period") == last).sort("area_name")
    digits = card["latest"]["digits"] if card.get("latest") else 1
    marker = figures.rule(indicator.code).marker
    table = [r | {"value_display": _number(r["value"], digits, marker), "lower_display": _number(r["lower"], digits,
             "—"), "upper_display": _number(r["upper"], digits, "—"),
             "vs_place_words": COMPARED.get(r["vs_place"], "not compared")} for r in rows.iter_rows(named=True)]
    values = [r["value"] for r in table if r["value"] is not None]
    classes = value_classes(values, digits)
    return {"map_level": level, "map_rows": table, "map_classes": classes,
            "map_period": _period_words(rows.row(0, named=True)) if rows.height else "",
            "map_hidden": sum(1 for r in table if r["value"] is None), "hidden_colour": charts.HIDDEN_COLOUR,
            "map_data": {"classes": classes, "counts": {r["area_code"]: r["value"] for r in table}, "hidden": marker,
                         "hidden_colour": charts.HIDDEN_COLOUR, "level": level, "unit": indicator.unit}}


def value_classes(values: list[float], digits: int, classes: int = len(charts.MAP_PALETTE)) -> list[dict[str, Any]]:
    """Quantile classes of the values, each with its colour and label (the key of the map)."""
    ordered = sorted(values)
    if not ordered:
        return []
    uppers = sorted({ordered[max(0, -(-len(ordered) * k // classes) - 1)] for k in range(1, classes + 1)})
    colours = [charts.MAP_PALETTE[round(i * (len(charts.MAP_PALETTE) - 1) / max(1, len(uppers) - 1))]
               for i in range(len(uppers))] if len(uppers) > 1 else [charts.MAP_PALETTE[-1]]
    out, low = [], ordered[0]
    for upper, colour in zip(uppers, colours, strict=True):
        label = _number(low, digits, "")
        if low != upper:
            label += f" to {_number(upper, digits, '')}"
        out.append({"low": low, "high": upper, "colour": colour, "label": label})
        low = next((v for v in ordered if v > upper), upper)
    return out


def scorecard(*, stores: Stores, audience: Audience, framework: str | None, outcome: str, level: str | None,
              area: str | None) -> dict[str, Any]:
    """One outcome in the Results-Based Accountability form, each indicator judged against its frozen baseline."""
    stored = framework_code(stores=stores, code=framework)
    found = [o for o in stored.framework.outcomes if o.code == outcome]
    if not found:
        raise NotFoundError(f"Framework '{stored.framework.code}' has no outcome '{outcome}'.",
                            hint=f"Its outcomes are: {', '.join(o.code for o in stored.framework.outcomes)}.")
    codes = [i.code for i in found[0].indicators]
    figures = outcome_figures(stores=stores, framework=stored, audience=audience, level=level or PLACE_LEVEL,
                              indicators=codes)
    place = place_of(figures, level, area)
    return {"framework": stored, "figures": figures, "place": place, "partners": partner_names(stores, found[0]),
            "section": outcome_section(figures, found[0], place, small=False), "statement": _statements(figures),
            "levels": level_choices(stores=stores, audience=audience)}


def partner_names(stores: Stores, outcome: Outcome) -> list[str]:
    names = {r["partner"]: r["partner_name"] for r in provenance.list_datasets(stores=stores)}
    return [names.get(code, code) for code in outcome.partners]


# -- words and numbers -----------------------------------------------------------------------------------


def _statements(figures: OutcomeFigures) -> str:
    statements = sorted({figures.rule(i.code).statement() for i in figures.framework.framework.indicators()})
    return " ".join(statements)


def _titles(stored: StoredFramework) -> dict[str, str]:
    return {i.code: i.title for i in stored.framework.indicators()}


def _period_words(row: dict[str, Any]) -> str:
    if row["period_type"] == "rolling_12":
        return f"the 12 months to {_month(row['period'])}"
    if row["period_type"] == "whole":
        return f"the {row['months']} months to {_month(row['period'])}"
    return _month(row["period"])


def _month(value: date | None) -> str:
    return "—" if value is None else f"{value:%B %Y}"


def _digits(values: pl.Series) -> int:
    largest = float(values.abs().max() or 0.0) if values.len() else 0.0  # type: ignore[arg-type]
    return 0 if largest >= 100 else 1 if largest >= 10 else 2 if largest >= 1 else 3


def _number(value: float | None, digits: int, missing: str) -> str:
    return missing if value is None else f"{value:,.{digits}f}"

"""SPC charts, their text summaries, tables and icons (wholeplace.web.spc_charts, templates/_spc.html)."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import polars as pl
import pytest

from tests.conftest import require_shared
from wholeplace.errors import UserError
from wholeplace.outcomes.spc import Rebase, SpcResult, xmr
from wholeplace.web.spc_charts import (
    ASSURANCE_ICONS,
    POINT_STYLES,
    VARIATION_ICONS,
    assurance_icon,
    describe_spc,
    spc_chart_spec,
    spc_table_rows,
    variation_icon,
)
from wholeplace.web.templating import make_templates

MONTHS = [date(2021 + i // 12, i % 12 + 1, 1) for i in range(36)]


def _step(direction: str = "increase", *, rebase: list[Rebase] | None = None, target: float | None = None,
          months: int = 36) -> SpcResult:
    """Planted truth: 24 months of noise around 50, then a lasting step up to 65 (noise sd 2)."""
    noise = np.random.default_rng(20240501).normal(0, 2, months)
    values = np.where(np.arange(months) < 24, 50.0, 65.0) + noise
    frame = pl.DataFrame({"month": MONTHS[:months], "rate": values})
    return xmr(frame, x="month", y="rate", direction=direction, rebase=rebase or [], target=target)


def _latest(result: SpcResult) -> dict:
    return result.summary.filter(pl.col("latest")).row(0, named=True)


def _layer(spec: dict, field: str) -> dict:
    found = [layer for layer in spec["layer"] if layer["encoding"]["y"]["field"] == field]
    assert len(found) == 1, field
    return found[0]


def _contrast(colour: str) -> float:
    """WCAG 2 contrast ratio of a colour against white."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_point_styles_pass_contrast_and_differ_in_shape():
    assert all(_contrast(style.colour) >= 3 for style in POINT_STYLES.values())
    assert all(_contrast(icon.colour) >= 3 for icon in [*VARIATION_ICONS.values(), *ASSURANCE_ICONS.values()])
    assert len({style.shape for style in POINT_STYLES.values()}) == len(POINT_STYLES)
    assert len({style.label for style in POINT_STYLES.values()}) == len(POINT_STYLES)


def test_spec_draws_values_limits_and_points_coloured_and_shaped_by_type():
    result = _step(target=60)
    spec = spc_chart_spec(result.points, title="Rate", y_title="Per 1,000", direction="increase", target=60,
                          value_format=",.1f", description="The text summary.")
    assert "vega-lite/v6" in spec["$schema"] and spec["description"] == "The text summary."
    assert spec["title"]["subtitle"] == "Higher is better"
    for field in ("mean", "upl", "lpl", "upper_2sigma", "lower_2sigma"):
        assert _layer(spec, field)["encoding"]["detail"]["field"] == "rebase_group"
    assert "strokeDash" in _layer(spec, "upl")["mark"] and "strokeDash" not in _layer(spec, "mean")["mark"]
    points = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    colour, shape = points["encoding"]["color"], points["encoding"]["shape"]
    assert colour["field"] == shape["field"] == "type_label"
    assert colour["scale"]["domain"] == shape["scale"]["domain"]
    assert {"Special cause improvement", "Special cause concern"} <= set(colour["scale"]["domain"])
    styles = {s.label: s for s in POINT_STYLES.values()}
    assert colour["scale"]["range"] == [styles[label].colour for label in colour["scale"]["domain"]]
    assert shape["scale"]["range"] == [styles[label].shape for label in shape["scale"]["domain"]]
    assert {t["field"] for t in points["encoding"]["tooltip"]} >= {"x", "y", "special_cause_type", "type_label"}
    assert _layer(spec, "target")["data"]["values"] == [{"target": 60.0, "label": "Target"}]
    rows = spec["data"]["values"]
    assert len(rows) == 36 and rows[0]["x"] == "2021-01-01"
    assert {r["type_label"] for r in rows[24:]} == {"Special cause improvement"}  # the planted step


def test_rebased_series_has_separate_limits_per_rebase_group():
    result = _step(rebase=[Rebase(MONTHS[24], reason="new service", approver="Board")])
    spec = spc_chart_spec(result.points, title="Rate", y_title="Rate", direction="increase")
    rows = spec["data"]["values"]
    by_group = {g: {r["mean"] for r in rows if r["rebase_group"] == g} for g in (0, 1)}
    assert all(len(means) == 1 for means in by_group.values())  # one mean per limit group …
    assert by_group[0] != by_group[1]  # … and the groups' limits are not joined
    assert [r["rebased"] for r in rows].count(True) == 1 and rows[24]["rebased"]
    assert not any(layer["encoding"]["y"]["field"] == "target" for layer in spec["layer"])


def test_small_multiple_is_compact_without_titles_legend_or_sigma_lines():
    spec = spc_chart_spec(_step().points, title="Rate", y_title="Rate", direction="increase", small=True,
                          width=240)
    assert spec["height"] == 120 and spec["width"] == 240
    fields = [layer["encoding"]["y"]["field"] for layer in spec["layer"]]
    assert "upper_2sigma" not in fields and "upl" in fields
    points = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert points["encoding"]["color"]["legend"] is None
    assert all(layer["encoding"]["x"]["title"] is None for layer in spec["layer"])


def test_chart_refuses_points_of_several_series_or_not_from_the_engine():
    frame = pl.DataFrame({"g": ["a"] * 12 + ["b"] * 12, "month": MONTHS[:12] * 2, "v": list(range(24))})
    points = xmr(frame, x="month", y="v", group="g").points
    with pytest.raises(UserError, match="several groups"):
        spc_chart_spec(points, title="t", y_title="v", direction="neutral")
    with pytest.raises(UserError, match="lack the column"):
        spc_chart_spec(pl.DataFrame({"x": [1], "y": [2.0]}), title="t", y_title="v", direction="neutral")


def test_text_summary_describes_a_planted_step_up_as_improvement():
    result = _step(target=60)
    text = describe_spc(result.points, result.summary, measure="The admission rate", unit="per 1,000",
                        direction="increase")
    assert text.startswith(f"The admission rate was {result.points.item(-1, 'y'):,.1f} per 1,000 in December 2023")
    assert "Higher is better." in text
    assert "special cause improvement (high)" in text
    assert "in a run of points on one side of the mean (a shift)" in text and "the last 12 points" in text
    latest = _latest(result)
    assert f"the mean is {latest['mean']:,.1f} per 1,000" in text
    assert f"process limits are {latest['lpl']:,.1f} to {latest['upl']:,.1f} per 1,000" in text
    assert "Against the target of 60.0 per 1,000: " in text


def test_text_summary_describes_the_same_step_as_concern_when_lower_is_better():
    result = _step("decrease")
    text = describe_spc(result.points, result.summary, measure="Waiting time", unit="days", direction="decrease")
    assert "special cause concern (high)" in text and "Lower is better." in text
    assert "target" not in text


def test_text_summary_of_a_rebased_series_gives_the_reason_and_the_new_limits():
    result = _step(rebase=[Rebase(MONTHS[24], reason="a new triage service", approver="the performance board")])
    text = describe_spc(result.points, result.summary, measure="The rate", unit="%", direction="increase")
    assert ("Since the limits were recalculated in January 2023 (a new triage service, agreed by the performance "
            "board)") in text
    assert "trial limits" in text and "Variation: common cause" in text
    assert f"the mean is {_latest(result)['mean']:,.1f}%" in text


def test_table_rows_give_every_point_with_its_signal_in_words():
    result = _step()
    rows = spc_table_rows(result.points)
    assert len(rows) == 36 and rows[0]["month"] == "January 2021"
    assert set(rows[0]) == {"month", "value", "mean", "lower_limit", "upper_limit", "signal"}
    assert rows[30]["value"] == f"{result.points.item(30, 'y'):,.1f}"
    assert rows[30]["signal"].startswith("Special cause improvement: ")
    assert all(re.fullmatch(r"[\d,.]+", r["mean"]) for r in rows)
    assert {r["signal"] for r in rows} - {"Common cause"}  # some points are special causes, in words
    assert not any("CL" in r["signal"] for r in rows)  # no engine labels such as "7 Points Above CL"


def test_icons_have_plain_labels_and_no_target_means_no_assurance_icon():
    result = _step(target=80)
    assert variation_icon(_latest(result)).label == "Special cause improvement (high)"
    assert assurance_icon(_latest(result)).code == "fail"
    assert assurance_icon(_latest(_step())) is None
    assert ASSURANCE_ICONS["hit_or_miss"].label == "Hit or miss: the target is within the limits"
    assert variation_icon(_latest(_step(months=12))).label == "Common cause"
    rebased = _step(rebase=[MONTHS[24]])
    with pytest.raises(UserError, match="latest limit group"):
        variation_icon(rebased.summary.row(0, named=True))


def test_macros_render_named_icons_and_the_chart_with_its_summary_and_table():
    result = _step(target=60)
    spec = spc_chart_spec(result.points, title="Rate", y_title="Rate", direction="increase", target=60)
    rows = spc_table_rows(result.points)
    macros = make_templates().env.get_template("_spc.html").make_module({})
    html = str(macros.spc_chart("rate-chart", spec, "The summary text.", rows))
    assert 'data-wp-chart="rate-chart-spec"' in html and 'id="rate-chart-summary">The summary text.' in html
    embedded = re.search(r'<script type="application/json" id="rate-chart-spec">(.*?)</script>', html, re.S)
    assert embedded and json.loads(embedded.group(1)) == spec
    assert html.count('<tr class="govuk-table__row">') == 37 and "<details" in html  # long: in a details
    assert "<details" not in str(macros.spc_chart("short", spec, "s", rows[:6]))
    icon = str(macros.variation_icon(variation_icon(_latest(result))))
    assert 'role="img" aria-label="Variation: Special cause improvement (high)"' in icon
    assert re.search(r">\s*Special cause improvement \(high\)\s*</span>", icon)  # visible words too
    assert ">H</text>" in icon
    assurance = str(macros.assurance_icon(assurance_icon(_latest(result))))
    assert 'aria-label="Assurance: Hit or miss: the target is within the limits"' in assurance
    assert "No target" in str(macros.assurance_icon(None))


@pytest.mark.shared
def test_table_and_summary_reproduce_the_reference_limits_of_a_rebased_series():
    """NHSRplotthedots' S10: RRK breaches, lower is better, rebased at July 2018."""
    golden = require_shared("reference/spc/nhsrplotthedots_golden")
    inputs = pl.read_csv(golden / "spc_inputs.csv", infer_schema=False).filter(
        pl.col("scenario") == "S10_ae_RRK_breaches_rebase").select(pl.col("x").str.to_date(),
                                                                   pl.col("y").cast(pl.Float64))
    expected = pl.read_csv(golden / "spc_expected_summary.csv").filter(
        pl.col("scenario") == "S10_ae_RRK_breaches_rebase").sort("rebase_group")
    result = xmr(inputs, x="x", y="y", direction="decrease", rebase=[date(2018, 7, 1)], profile="nhsr")
    rows = spc_table_rows(result.points, digits=6)
    for row in expected.iter_rows(named=True):
        first = result.points.with_row_index().filter(pl.col("rebase_group") == row["rebase_group"]).item(0, "index")
        for key, column in (("mean", "mean"), ("lower_limit", "lpl"), ("upper_limit", "upl")):
            assert float(rows[first][key].replace(",", "")) == pytest.approx(row[column], abs=1e-6)
    text = describe_spc(result.points, result.summary, measure="Breaches", direction="decrease", digits=1)
    last = expected.row(-1, named=True)
    assert f"the mean is {last['mean']:,.1f}" in text and "recalculated in July 2018" in text
    spec = spc_chart_spec(result.points, title="Breaches", y_title="Breaches", direction="decrease")
    assert len({r["upl"] for r in spec["data"]["values"]}) == expected.height

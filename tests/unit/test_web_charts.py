"""Choropleth classes and the monthly chart spec (wholeplace.web.charts)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from wholeplace.web.charts import MAP_PALETTE, ZERO_COLOUR, map_classes, monthly_chart


def test_nothing_but_zeros_is_one_class():
    assert [(c.low, c.high, c.colour) for c in map_classes([0, 0, 0])] == [(0, 0, ZERO_COLOUR)]


def test_two_values_use_the_lightest_and_darkest_colours():
    classes = map_classes([0, 1, 9])
    assert [(c.low, c.high) for c in classes] == [(0, 0), (1, 1), (2, 9)]
    assert [c.colour for c in classes[1:]] == [MAP_PALETTE[0], MAP_PALETTE[-1]]
    assert classes[2].label == "2 to 9" and classes[1].label == "1"


@given(st.lists(st.integers(min_value=0, max_value=100_000), max_size=300))
def test_every_count_falls_in_exactly_one_class(counts):
    classes = map_classes(counts)
    assert len(classes) <= len(MAP_PALETTE) + 1
    for count in counts:
        assert sum(c.low <= count <= c.high for c in classes) == 1
    assert all(a.high < b.low for a, b in pairwise(classes))


def test_monthly_chart_is_a_vega_lite_6_line_chart_with_its_data_and_description():
    rows = [{"month": "2021-01", "partner": "p", "partner_name": "Police", "events": 3},
            {"month": "2021-02", "partner": "p", "partner_name": "Police", "events": 5}]
    spec = monthly_chart(rows, description="The busiest month was February 2021.")
    assert "vega-lite/v6" in spec["$schema"]
    assert spec["mark"]["type"] == "line"
    assert spec["data"]["values"] == rows
    assert spec["description"] == "The busiest month was February 2021."
    assert spec["encoding"]["shape"]["field"] == "partner_name"  # not colour alone

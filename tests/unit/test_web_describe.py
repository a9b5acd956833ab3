"""Text summaries and the chart's table (wholeplace.web.describe)."""

from __future__ import annotations

from wholeplace.web.describe import describe_areas, describe_months, month_table

AREAS = [
    {"area_code": "A", "area_name": "Alpha", "events": 6},
    {"area_code": "B", "area_name": "Beta", "events": 3},
    {"area_code": "C", "area_name": "Gamma", "events": 1},
    {"area_code": "D", "area_name": "Delta", "events": 0},
]
MONTHS = [
    {"month": "2021-01", "partner": "a", "partner_name": "Police", "events": 4},
    {"month": "2021-01", "partner": "b", "partner_name": "Council", "events": 1},
    {"month": "2021-02", "partner": "a", "partner_name": "Police", "events": 0},
    {"month": "2021-02", "partner": "b", "partner_name": "Council", "events": 2},
]


def test_areas_summary_names_the_busiest_area_its_share_and_the_quiet_ones():
    text = describe_areas(AREAS, level_title="LSOA")
    assert text.startswith("Most events were in Alpha (6 of the 10 in LSOA areas, 60.0%).")
    assert "The next busiest were Beta (3) and Gamma (1)." in text
    assert text.endswith("1 of the 4 areas had none.")


def test_areas_summary_for_one_partner_and_for_no_events():
    assert describe_areas(AREAS, level_title="ward", partner_name="Police").startswith("Most Police's events were in")
    quiet = [dict(row, events=0) for row in AREAS]
    assert describe_areas(quiet, level_title="ward") == "None of the events are in any of the 4 ward areas."
    assert describe_areas([], level_title="ward") == "There are no ward areas loaded."


def test_months_summary_names_the_busiest_and_quietest_months_and_each_partner():
    text = describe_months(MONTHS)
    assert text.startswith("The busiest month was January 2021, with 5 events; the quietest was February 2021, with 2.")
    assert "From January 2021 to February 2021 there were 7 events in 2 months, 4 a month on average." in text
    assert text.endswith("Police supplied 4; Council supplied 3.")
    assert describe_months([]).startswith("There are no events yet")


def test_month_table_has_a_column_per_partner_and_a_total():
    names, rows = month_table(MONTHS)
    assert names == ["Council", "Police"]
    assert rows == [{"month": "2021-01", "counts": ["1", "4"], "total": "5"},
                    {"month": "2021-02", "counts": ["2", "0"], "total": "2"}]


def test_summaries_use_only_published_figures_and_say_what_is_hidden():
    rows = [{"area_code": "A", "area_name": "Alpha", "events": 20},
            {"area_code": "B", "area_name": "Beta", "events": None},
            {"area_code": "C", "area_name": "Gamma", "events": 0}]
    text = describe_areas(rows, level_title="LSOA", marker="[REDACTED]")
    assert text.startswith("Most events were in Alpha (20 of the 20 shown in LSOA areas, 100.0%).")
    assert "1 of the 3 areas had a small number, hidden as [REDACTED]." in text
    months = [{"month": "2021-01", "partner_name": "P", "events": None, "display": "*"},
              {"month": "2021-02", "partner_name": "P", "events": 15, "display": "15"}]
    totals = {"2021-01": {"events": None, "display": "*"}, "2021-02": {"events": 15, "display": "15"}}
    assert "hidden as *" in describe_months(months, totals=totals, marker="*")
    _, table = month_table(months, totals=totals)
    assert [(r["counts"], r["total"]) for r in table] == [(["*"], "*"), (["15"], "15")]

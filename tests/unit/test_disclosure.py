"""Disclosure control: known answers per preset, totals, markers, statements, rates and errors."""

from __future__ import annotations

import polars as pl
import pytest

from wholeplace.errors import UserError
from wholeplace.governance.disclosure import Preset, ProtectedTable, Totals, protect_counts, protect_rate, rule_for

VALUES = [0, 1, 5, 7, 8, 12, 13, 1234]
ONE_WAY = pl.DataFrame({"area": list("abcdefgh"), "events": VALUES})


def _shown(table: ProtectedTable) -> list[object]:
    return table.cells.get_column("display").to_list()


def test_opensafely_redacts_up_to_7_rounds_to_5_and_totals_the_rounded_cells() -> None:
    table = protect_counts(ONE_WAY, preset="opensafely", rows="area")
    assert _shown(table) == ["0", *["[REDACTED]"] * 3, "10", "10", "15", "1,235"]
    assert table.cells.get_column("events").to_list() == [0, None, None, None, 10, 10, 15, 1235]
    assert (table.grand_total, table.grand_display) == (1270, "1,270")
    assert table.cells.get_column("suppressed").to_list() == [None, *["primary"] * 3, *[None] * 4]


def test_nhs_subnational_stars_1_to_7_and_rounds_the_true_total() -> None:
    table = protect_counts(ONE_WAY, preset=Preset.NHS_SUBNATIONAL, rows="area")
    assert _shown(table) == ["0", "*", "*", "*", "10", "10", "15", "1,235"]
    assert (table.grand_total, table.grand_display) == (1280, "1,280")


def test_threshold10_hides_1_to_9_and_shows_the_true_total() -> None:
    table = protect_counts(ONE_WAY, preset="threshold10", rows="area")
    assert _shown(table) == ["0", *["[SUPPRESSED]"] * 4, "12", "13", "1,234"]
    assert table.grand_total == 1280


@pytest.mark.parametrize(("preset", "shown", "total"), [
    ("threshold10", ["[SUPPRESSED]", "20", "[SUPPRESSED]", "50"], 85),
    ("nhs_subnational", ["*", "20", "*", "50"], 85),
    ("opensafely", ["[REDACTED]", "20", "10", "50"], 80),
])
def test_a_lone_hidden_cell_gets_a_partner_when_the_total_comes_from_true_values(
    preset: str, shown: list[str], total: int
) -> None:
    frame = pl.DataFrame({"month": ["01", "02", "03", "04"], "events": [3, 20, 12, 50]})
    table = protect_counts(frame, preset=preset, rows="month")
    assert (_shown(table), table.grand_total) == (shown, total)
    expected = ["primary", None, "secondary", None] if preset != "opensafely" else ["primary", None, None, None]
    assert table.cells.get_column("suppressed").to_list() == expected


def test_a_small_true_total_is_hidden() -> None:
    frame = pl.DataFrame({"area": ["a", "b", "c"], "events": [0, 3, 2]})
    table = protect_counts(frame, preset="threshold10", rows="area")
    assert (table.grand_total, table.grand_display) == (None, "[SUPPRESSED]")


def test_two_way_secondary_suppression_closes_rows_and_columns() -> None:
    frame = pl.DataFrame({
        "area": ["a", "a", "b", "b", "c", "c"], "partner": ["x", "y"] * 3, "events": [3, 20, 15, 30, 40, 50],
    })
    table = protect_counts(frame, preset="threshold10", rows="area", columns="partner")
    assert table.cells.get_column("suppressed").to_list() == ["primary", "secondary", "secondary", "secondary",
                                                               None, None]
    assert table.row_totals is not None and table.column_totals is not None
    assert table.row_totals.to_dicts() == [
        {"area": "a", "events": 23, "display": "23", "suppressed": None},
        {"area": "b", "events": 45, "display": "45", "suppressed": None},
        {"area": "c", "events": 90, "display": "90", "suppressed": None},
    ]
    assert table.column_totals.get_column("events").to_list() == [58, 100]
    assert table.grand_total == 158


def test_opensafely_two_way_totals_are_sums_of_what_is_shown() -> None:
    frame = pl.DataFrame({"area": ["a", "a", "b", "b"], "partner": ["x", "y"] * 2, "events": [3, 22, 13, 1234]})
    table = protect_counts(frame, preset="opensafely", rows="area", columns="partner")
    assert table.cells.get_column("events").to_list() == [None, 20, 15, 1235]
    assert table.row_totals is not None and table.column_totals is not None
    assert table.row_totals.get_column("events").to_list() == [20, 1250]
    assert table.column_totals.get_column("events").to_list() == [15, 1255]
    assert table.grand_total == 1270


def test_keys_are_sorted_duplicates_added_and_null_keys_kept() -> None:
    frame = pl.DataFrame({"area": ["b", None, "a", "b"], "events": [10, 40, 30, 5]})
    table = protect_counts(frame, preset="threshold10", rows="area")
    assert table.cells.select("area", "events").rows() == [("a", 30), ("b", 15), (None, 40)]


def test_a_columns_only_table_is_one_way_and_an_empty_table_totals_zero() -> None:
    by_month = protect_counts(ONE_WAY.rename({"area": "month"}), preset="opensafely", columns="month")
    assert (by_month.rows, by_month.row_totals, by_month.grand_total) == ("month", None, 1270)
    nothing = protect_counts(ONE_WAY.clear(), preset="threshold10", rows="area")
    assert (nothing.cells.height, nothing.grand_total, nothing.grand_display) == (0, 0, "0")


@pytest.mark.parametrize(("preset", "statement"), [
    ("opensafely", "Counts from 1 to 7 are hidden and shown as [REDACTED] (zeros are shown as 0); other counts are "
                   "rounded to the nearest 5; totals are sums of the rounded counts, with hidden counts left out "
                   "(opensafely rule)."),
    ("nhs_subnational", "Counts from 1 to 7 are hidden and shown as * (zeros are shown as 0); other counts are "
                        "rounded to the nearest 5; totals are calculated from the unrounded counts and then rounded, "
                        "and further counts or totals are hidden where a hidden count could otherwise be worked out "
                        "(nhs_subnational rule)."),
    ("threshold10", "Counts from 1 to 9 are hidden and shown as [SUPPRESSED] (zeros are shown as 0); totals are "
                    "calculated from the true counts, and further counts or totals are hidden where a hidden count "
                    "could otherwise be worked out (threshold10 rule)."),
])
def test_every_preset_states_its_rule(preset: str, statement: str) -> None:
    assert protect_counts(ONE_WAY, preset=preset, rows="area").statement() == statement


def test_rules_carry_the_published_parameters() -> None:
    summary = {p.value: (r.threshold, r.rounding_base, r.marker, r.totals, r.suppress_zero)
               for p in Preset for r in [rule_for(p)]}
    assert summary == {
        "opensafely": (7, 5, "[REDACTED]", Totals.ROUNDED_CELLS, False),
        "nhs_subnational": (7, 5, "*", Totals.ROUNDED_TRUE, False),
        "threshold10": (9, None, "[SUPPRESSED]", Totals.TRUE, False),
    }


def test_an_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(UserError) as caught:
        rule_for("round_to_ten")
    assert "'round_to_ten'" in caught.value.message
    assert caught.value.hint is not None and "opensafely, nhs_subnational, threshold10" in caught.value.hint


@pytest.mark.parametrize(("frame", "rows", "needle"), [
    (pl.DataFrame({"area": ["a"], "events": [-1]}), "area", "non-negative"),
    (pl.DataFrame({"area": ["a"], "events": [1.5]}), "area", "whole counts"),
    (pl.DataFrame({"area": ["a"], "count": [1]}), "area", "no column 'events'"),
    (pl.DataFrame({"area": ["a"], "events": [1]}), None, "rows key"),
])
def test_bad_count_tables_are_refused_with_the_reason(frame: pl.DataFrame, rows: str | None, needle: str) -> None:
    with pytest.raises(UserError, match=needle):
        protect_counts(frame, preset="opensafely", rows=rows)


def test_shares_use_published_counts_and_hide_rates_of_hidden_counts() -> None:
    table = protect_counts(ONE_WAY, preset="opensafely", rows="area")
    rates = protect_rate(table)
    assert rates.get_column("display").to_list() == [
        "0.0", *["[REDACTED]"] * 3, "0.8", "0.8", "1.2", "97.2"]
    assert rates.get_column("suppressed").to_list()[:4] == [None, *["numerator"] * 3]


def test_rates_are_hidden_when_the_denominator_is_hidden() -> None:
    areas = ["a", "b", "c"]
    numerator = protect_counts(pl.DataFrame({"area": areas, "events": [40, 30, 20]}), preset="nhs_subnational",
                               rows="area")
    denominator = protect_counts(pl.DataFrame({"area": areas, "events": [400, 5, 6]}), preset="nhs_subnational",
                                 rows="area")
    rates = protect_rate(numerator, denominator=denominator)
    assert rates.rows() == [("a", 10.0, "10.0", None), ("b", None, "*", "denominator"), ("c", None, "*", "denominator")]


def test_rates_per_population_use_public_figures_and_mark_missing_ones() -> None:
    frame = pl.DataFrame({"area": ["a", "b", "c", "d"], "events": [1234, 3, 50, 4]})
    table = protect_counts(frame, preset="threshold10", rows="area")
    population = pl.DataFrame({"area": ["a", "b", "d"], "population": [100_000, 2_000, 3_000]})
    rates = protect_rate(table, denominator=population, per=1000, decimals=2)
    assert rates.rows() == [("a", 12.34, "12.34", None), ("b", None, "[SUPPRESSED]", "numerator"),
                            ("c", None, "–", None), ("d", None, "[SUPPRESSED]", "numerator")]


def test_shares_in_a_two_way_table_are_of_the_row_total() -> None:
    frame = pl.DataFrame({"area": ["a", "a"], "partner": ["x", "y"], "events": [60, 40]})
    rates = protect_rate(protect_counts(frame, preset="threshold10", rows="area", columns="partner"))
    assert rates.get_column("rate").to_list() == [60.0, 40.0]

"""Indicator values on a place small enough to count by hand: four square small areas in one ward,
1,200 residents each, and police.uk crime with known counts (tests/support/places.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.support.places import build_squares
from wholeplace.geography.context import load_population
from wholeplace.outcomes.framework import FrameworkError, import_framework
from wholeplace.outcomes.values import PLACE_LEVEL, indicator_values
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

TESTSHIRE = "police-uk-street-testshire-police"
FRAMEWORK = f"""
code: squares
name: Squareton outcomes
place: {{code: squareton, name: Squareton}}
outcomes:
  - code: safer
    title: People are safe at home
    indicators:
      - code: burglary
        title: Burglaries per 1,000 residents a year
        numerator: {{datasets: [{TESTSHIRE}], categories: [burglary]}}
        denominator: {{population: {{of: residents}}}}
        polarity: decrease
      - code: burglary-share
        title: Burglaries as a share of Testshire's crime and ASB
        numerator: {{datasets: [{TESTSHIRE}], categories: [burglary]}}
        denominator: {{events: {{datasets: [{TESTSHIRE}]}}}}
        multiplier: 100
        ci_method: wilson
        polarity: decrease
      - code: robbery
        title: Robberies per 1,000 residents a year
        numerator: {{datasets: [police-uk-street-otherton-police]}}
        denominator: {{population: {{of: residents}}}}
        polarity: decrease
"""


@pytest.fixture
def squares(tmp_path: Path) -> Stores:
    settings = Settings(data_dir=tmp_path / "data", partnership_key_file=None)
    build_squares(settings, tmp_path)
    stores = open_stores(settings)
    population = tmp_path / "population.csv"
    population.write_text("Year,LSOA Code,Population\n" + "".join(
        f"2021,E0100000{i},1200\n" for i in range(1, 5)))
    load_population(stores=stores, path=population, level="lsoa")
    import_framework(stores=stores, text=FRAMEWORK, actor="test")
    return stores


def _row(values: pl.DataFrame, indicator: str, level: str, area: str, period_type: str, period: str) -> dict:
    found = values.filter((pl.col("indicator") == indicator) & (pl.col("level") == level)
                          & (pl.col("area_code") == area) & (pl.col("period_type") == period_type)
                          & (pl.col("period") == pl.lit(period).str.to_date()))
    assert found.height == 1
    return found.row(0, named=True)


def test_a_rate_has_the_exact_poisson_interval_of_its_count(squares: Stores) -> None:
    values = indicator_values(stores=squares, framework="squares", indicators=["burglary"]).values
    row = _row(values, "burglary", "lsoa", "E01000001", "month", "2021-01-01")
    assert (row["numerator"], row["denominator"]) == (5, 100)  # 1,200 residents for a month: 100 person-years
    assert row["value"] == pytest.approx(50.0)
    assert row["lower"] == pytest.approx(16.2347, abs=1e-3) and row["upper"] == pytest.approx(116.6828, abs=1e-3)
    quiet = _row(values, "burglary", "lsoa", "E01000002", "month", "2021-01-01")
    assert (quiet["numerator"], quiet["value"], quiet["lower"]) == (0, 0.0, 0.0)


def test_the_ward_and_the_place_are_ratios_of_sums_compared_by_their_intervals(squares: Stores) -> None:
    values = indicator_values(stores=squares, framework="squares", indicators=["burglary"]).values
    ward = _row(values, "burglary", "ward", "E05000001", "month", "2021-01-01")
    place = _row(values, "burglary", PLACE_LEVEL, "squareton", "month", "2021-01-01")
    assert (ward["numerator"], ward["denominator"]) == (5, 400) == (place["numerator"], place["denominator"])
    assert ward["value"] == pytest.approx(12.5)  # not the mean of the squares' 50, 0, 0 and 0
    busy = _row(values, "burglary", "lsoa", "E01000001", "month", "2021-01-01")
    quiet = _row(values, "burglary", "lsoa", "E01000002", "month", "2021-01-01")
    assert (busy["place_value"], busy["vs_place"], quiet["vs_place"]) == (12.5, "higher", "similar")
    assert busy["vs_peers"] is None  # four areas are too few to form peer groups


def test_whole_period_values_add_up_the_months(squares: Stores) -> None:
    values = indicator_values(stores=squares, framework="squares", indicators=["burglary"]).values
    whole = _row(values, "burglary", "lsoa", "E01000001", "whole", "2021-03-01")
    assert (whole["months"], whole["numerator"], whole["denominator"]) == (3, 5, 300)
    assert values.filter(pl.col("period_type") == "rolling_12").is_empty()  # three months make no rolling year


def test_a_proportion_of_events_has_the_wilson_interval(squares: Stores) -> None:
    values = indicator_values(stores=squares, framework="squares", indicators=["burglary-share"]).values
    row = _row(values, "burglary-share", PLACE_LEVEL, "squareton", "whole", "2021-03-01")
    assert (row["numerator"], row["denominator"]) == (5, 8)  # 5 burglaries, 2 ASB, 1 drugs placed
    assert row["value"] == pytest.approx(62.5)
    assert row["lower"] == pytest.approx(30.574, abs=1e-2) and row["upper"] == pytest.approx(86.316, abs=1e-2)


def test_indicators_needing_unreadable_data_are_reported_not_dropped(squares: Stores) -> None:
    result = indicator_values(stores=squares, framework="squares", datasets=[TESTSHIRE])
    assert result.unavailable == {"robbery": "needs data you may not read for this purpose: "
                                             "police-uk-street-otherton-police"}
    assert set(result.values.get_column("indicator").unique()) == {"burglary", "burglary-share"}
    lineage = result.lineage["burglary"]
    assert lineage["version"] == 1 and lineage["ci_method"]["method"] == "byar_exact"
    assert list(lineage["loads"]) == [TESTSHIRE] and lineage["lookups"]["ward"] == "nested"


def test_names_the_store_does_not_hold_are_refused_with_their_key(squares: Stores) -> None:
    import_framework(stores=squares, text=FRAMEWORK.replace("categories: [burglary]", "categories: [burglery]", 1)
                     .replace("police-uk-street-otherton-police", "police-elsewhere"), actor="test")
    with pytest.raises(FrameworkError) as caught:
        indicator_values(stores=squares, framework="squares")
    assert caught.value.problems == [
        "outcomes[0].indicators[0].numerator.categories[0]: no event of police-uk-street-testshire-police has the "
        "category 'burglery'; did you mean 'burglary'?",
        "outcomes[0].indicators[2].numerator.datasets[0]: unknown dataset 'police-elsewhere'; loaded: "
        "police-uk-street-otherton-police, police-uk-street-testshire-police"]

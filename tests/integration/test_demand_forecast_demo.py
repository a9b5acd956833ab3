"""Future demand on the demo place: the backtest report for each dataset's main categories, hours of work
from the demo's own timings, and the Right Care, Right Person scenario against counts read directly."""

from __future__ import annotations

import math

import polars as pl
import pytest

from tests.conftest import DEMO_SCALE, DEMO_SEED
from wholeplace.demand import forecast, scenario, workload
from wholeplace.overview import UnknownChoiceError
from wholeplace.store import Stores, open_stores
from wholeplace.synth.demo import DemoResult
from wholeplace.synth.generate import POLICE_CALLS

SCALE = DEMO_SCALE  # the shared small demo's
SEED = DEMO_SEED
MAIN = 3  # main categories per dataset


@pytest.fixture(scope="module")
def stores(small_demo: DemoResult) -> Stores:
    return open_stores(small_demo.settings)


@pytest.fixture(scope="module")
def place_forecast(stores: Stores) -> forecast.DemandForecast:
    return forecast.forecast_demand(stores=stores, top_categories=MAIN)


def test_every_dataset_has_a_backtest_report_for_its_main_categories(stores: Stores,
                                                                     place_forecast: forecast.DemandForecast) -> None:
    main = stores.connect().execute(
        "SELECT dataset, category FROM (SELECT dataset, category, row_number() OVER (PARTITION BY dataset "
        "ORDER BY count(*) DESC, category) AS rank FROM events_stored GROUP BY dataset, category) "
        "WHERE rank <= $n",
        {"n": MAIN}).pl()
    models = place_forecast.models
    assert models.select("dataset", "category").sort("dataset", "category").equals(main.sort("dataset", "category"))
    assert models["dataset"].n_unique() == 6 and (models["months"] == 24).all() and (models["holdout"] == 6).all()
    for row in models.iter_rows(named=True):
        for measure in ("rmse", "mae", "mape", "mase", "seasonal_naive_mase"):
            assert row[measure] is not None and math.isfinite(row[measure]), (row["dataset"], row["category"])
        assert row["mase"] <= row["seasonal_naive_mase"] + 1e-12


def test_forecasts_run_four_years_past_the_last_month_with_nested_intervals(
        place_forecast: forecast.DemandForecast) -> None:
    frame = place_forecast.forecasts
    assert frame.group_by("dataset", "category").len()["len"].unique().to_list() == [48]
    assert frame["month"].min().isoformat() == "2025-01-01" and frame["month"].max().isoformat() == "2028-12-01"
    assert frame.filter((pl.col("lower_95") > pl.col("lower_80")) | (pl.col("lower_80") > pl.col("forecast"))
                        | (pl.col("forecast") > pl.col("upper_80")) | (pl.col("upper_80") > pl.col("upper_95"))
                        ).is_empty()


def test_series_by_area_add_up_to_the_events_placed_in_the_level(stores: Stores) -> None:
    demand = forecast.monthly_demand(stores=stores, level="msoa", dataset=POLICE_CALLS)
    placed = stores.connect().execute(
        "SELECT count(*) FROM events WHERE dataset = $d AND place_status <> 'unlocated'", {"d": POLICE_CALLS}
    ).fetchone()[0]  # type: ignore[index]
    assert demand.events_counted == pytest.approx(placed)
    assert demand.events_selected - demand.events_counted == pytest.approx(
        stores.connect().execute("SELECT count(*) FROM events WHERE dataset = $d AND place_status = 'unlocated'",
                                 {"d": POLICE_CALLS}).fetchone()[0])  # type: ignore[index]
    per_series = demand.frame.group_by("area_code", "category").len()["len"].unique().to_list()
    assert per_series == [24]


def test_an_unknown_level_or_dataset_lists_the_choices(stores: Stores) -> None:
    with pytest.raises(UnknownChoiceError, match="lsoa"):
        forecast.monthly_demand(stores=stores, level="county")
    with pytest.raises(UnknownChoiceError, match=POLICE_CALLS):
        forecast.monthly_demand(stores=stores, dataset="no-such-dataset")


def test_police_hours_come_from_observed_on_scene_times(stores: Stores) -> None:
    rates = workload.hours_rates(stores=stores, datasets=[POLICE_CALLS]).rates
    officer = rates.filter(pl.col("role") == "police_officer")
    assert (officer["basis"] == "observed").all()
    welfare = officer.filter(pl.col("category") == "concern_for_welfare").row(0, named=True)
    median, share = stores.connect().execute(
        "SELECT median(epoch(closed_at - arrived_at) / 3600.0) FILTER (WHERE closed_at >= arrived_at), "
        "count(arrived_at) / count(*) FROM events WHERE dataset = $d AND category = 'concern_for_welfare'",
        {"d": POLICE_CALLS}).fetchone()  # type: ignore[misc]
    assert welfare["hours_per_incident"] == pytest.approx(share * 2 * median)
    assert (rates.filter(pl.col("role") == "call_handler")["basis"] == "default").all()


def test_forecast_hours_are_given_by_agency_and_role(stores: Stores) -> None:
    result = workload.forecast_hours(stores=stores, top_categories=2, horizon=12)
    roles = set(result.by_role["role"])
    assert {"police_officer", "call_handler", "paramedic", "mental_health_practitioner"} <= roles
    assert result.by_role.height == 12 * len(roles) and (result.by_role["hours"] > 0).all()


def test_the_scenario_releases_the_share_of_the_observed_officer_hours(stores: Stores) -> None:
    full = scenario.rcrp_scenario(stores=stores, percent=100, month_from="2023-01", month_to="2023-12")
    part = scenario.rcrp_scenario(stores=stores, percent=30, month_from="2023-01", month_to="2023-12")
    counts = dict(stores.connect().execute(
        "SELECT category, count(*) FROM events WHERE dataset = $d AND occurred_month < DATE '2024-01-01' "
        "GROUP BY ALL", {"d": POLICE_CALLS}).fetchall())
    for group, categories in scenario.RCRP_GROUPS.items():
        rows = full.frame.filter(pl.col("group") == group)
        assert rows["incidents"].sum() == sum(counts.get(c, 0) for c in categories)
        assert rows["police_hours_released"].sum() == pytest.approx(rows["police_hours"].sum())
        released = part.frame.filter(pl.col("group") == group)["police_hours_released"].sum()
        assert released == pytest.approx(0.3 * rows["police_hours"].sum())
    assert full.frame["month"].n_unique() == 12 and not full.frame["police_rate_missing"].any()


def test_the_scenario_runs_on_the_forecast_by_area(stores: Stores) -> None:
    result = scenario.rcrp_scenario(stores=stores, percent=25, basis="forecast", level="lad", horizon=6,
                                    group="concern_for_welfare")
    assert result.frame["area_code"].n_unique() == 3 and result.frame["month"].n_unique() == 6
    assert (result.frame["health_hours_required"] > 0).all()

"""Hours of work and the Right Care, Right Person scenario on frames with planted hours per incident:
moving x % of a group releases exactly x % of its police hours; the hours tables are checked cell by cell."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from wholeplace.demand import scenario, workload
from wholeplace.demand.scenario import RCRP_GROUPS, move_to_health
from wholeplace.errors import InputError, UserError
from wholeplace.model.categories import CATEGORIES

MONTHS = [date(2025, m, 1) for m in range(1, 7)]


def demand() -> pl.DataFrame:
    """Two areas × six months of welfare, missing-person and burglary calls (burglary is not RCRP)."""
    rows = [("calls", area, category, month, float(10 * (i + 1) + (5 if area == "B" else 0)))
            for area in ("A", "B") for category in ("concern_for_welfare", "missing_person", "burglary")
            for i, month in enumerate(MONTHS)]
    return pl.DataFrame(rows, schema=["dataset", "area_code", "category", "month", "events"], orient="row")


POLICE = pl.DataFrame({"dataset": ["calls"] * 3, "category": ["concern_for_welfare", "missing_person", "burglary"],
                       "hours_per_incident": [2.5, 4.0, 1.0]})
HEALTH = pl.DataFrame({"group": ["concern_for_welfare", "walked_out_or_awol"], "hours_per_incident": [1.5, 2.0]})


@pytest.mark.parametrize("percent", [0.0, 12.5, 30.0, 100.0])
def test_moving_x_percent_releases_exactly_x_percent_of_the_police_hours(percent: float) -> None:
    result = move_to_health(demand(), percent=percent, police_rates=POLICE, health_rates=HEALTH)
    welfare = result.filter(pl.col("group") == "concern_for_welfare").sort("area_code", "month")
    events = demand().filter(pl.col("category") == "concern_for_welfare").sort("area_code", "month")["events"]
    assert welfare["police_hours"].to_list() == pytest.approx((events * 2.5).to_list())
    assert welfare["police_hours_released"].to_list() == pytest.approx((events * 2.5 * percent / 100).to_list())
    assert welfare["health_hours_required"].to_list() == pytest.approx((events * 1.5 * percent / 100).to_list())
    awol = result.filter(pl.col("group") == "walked_out_or_awol")
    assert awol["police_hours_released"].sum() == pytest.approx(
        percent / 100 * 4.0 * demand().filter(pl.col("category") == "missing_person")["events"].sum())


def test_one_row_per_place_month_and_group_and_nothing_outside_the_groups() -> None:
    result = move_to_health(demand(), percent=50, police_rates=POLICE, health_rates=HEALTH)
    assert result.height == 2 * 6 * 2  # areas × months × groups present; burglary is in no group
    assert result.select("area_code", "month", "group").is_unique().all()
    assert result["incidents"].sum() == demand().filter(pl.col("category") != "burglary")["events"].sum()
    assert not result["police_rate_missing"].any() and not result["health_rate_missing"].any()


def test_the_categories_of_a_group_are_an_argument() -> None:
    groups = {"welfare_only": ("concern_for_welfare",)}
    health = pl.DataFrame({"group": ["welfare_only"], "hours_per_incident": [3.0]})
    result = move_to_health(demand(), percent=20, police_rates=POLICE, health_rates=health, groups=groups)
    assert result["group"].unique().to_list() == ["welfare_only"]
    assert result["health_hours_required"].sum() == pytest.approx(
        0.2 * 3.0 * demand().filter(pl.col("category") == "concern_for_welfare")["events"].sum())


def test_a_category_without_hours_is_flagged_not_counted_as_zero_silently() -> None:
    result = move_to_health(demand(), percent=10, police_rates=POLICE.head(1), health_rates=HEALTH)
    assert result.filter(pl.col("group") == "walked_out_or_awol")["police_rate_missing"].all()


@pytest.mark.parametrize("percent", [-1, 101])
def test_a_percentage_outside_0_to_100_is_refused(percent: float) -> None:
    with pytest.raises(UserError, match="between 0 and 100"):
        move_to_health(demand(), percent=percent, police_rates=POLICE, health_rates=HEALTH)


def test_the_default_groups_use_canonical_categories() -> None:
    members = [c for cats in RCRP_GROUPS.values() for c in cats]
    assert set(members) <= set(CATEGORIES) and len(members) == len(set(members))
    assert set(members) == {"concern_for_welfare", "mental_health", "absent_from_care", "missing_person",
                            "medical_emergency", "suicide_threat"}
    assert set(scenario.read_health_table()["group"]) == set(RCRP_GROUPS)


# -- hours of work -----------------------------------------------------------------------------

def test_the_shipped_hours_table_is_valid_and_states_a_source_for_every_row() -> None:
    table = workload.read_hours_table()
    assert table.height > 0 and table["source"].str.len_chars().min() > 20  # type: ignore[operator]
    assert table["table"][0] == "hours-per-incident-v1.csv"


def test_a_bad_hours_table_names_every_bad_cell(tmp_path: Path) -> None:
    path = tmp_path / "hours.csv"
    path.write_text("kind,category,agency,role,attend_share,staff,hours,source\n"
                    "call_for_service,*,police,police_officer,1.5,2,1,x\n"
                    "spaceship,*,police,pilot,1,2,lots,x\n")
    with pytest.raises(InputError) as raised:
        workload.read_hours_table(path)
    text = str(raised.value)
    assert "line 2, column 'attend_share'" in text and "line 3, column 'kind'" in text
    assert "line 3, column 'hours'" in text and str(path) in text


def test_observed_hours_replace_the_defaults_only_where_enough_incidents_were_timed() -> None:
    seen = pl.DataFrame({"dataset": ["calls", "calls", "crimes"], "kind": ["call_for_service", "call_for_service",
                         "crime"], "category": ["concern_for_welfare", "alarm", "burglary"]})
    observed = pl.DataFrame({"dataset": ["calls", "calls"], "category": ["concern_for_welfare", "alarm"],
                             "role": ["police_officer"] * 2, "attend_share": [0.5, 0.9], "hours_each": [3.0, 1.0],
                             "timed": [40, 5]})
    rates = workload.combine_rates(seen, workload.read_hours_table(), observed, min_timed=20)
    officer = {r["category"]: r for r in rates.filter(pl.col("role") == "police_officer").iter_rows(named=True)}
    assert officer["concern_for_welfare"]["basis"] == "observed"
    assert officer["concern_for_welfare"]["hours_per_incident"] == pytest.approx(0.5 * 2 * 3.0)
    assert officer["alarm"]["basis"] == "default"  # only 5 timed: the table's general police row
    assert officer["alarm"]["hours_per_incident"] == pytest.approx(0.7 * 2 * 1.0)
    handler = rates.filter(pl.col("role") == "call_handler")
    assert handler.height == 2 and handler["hours_per_incident"].to_list() == [0.15, 0.15]
    assert rates.filter(pl.col("dataset") == "crimes")["basis"].to_list() == ["none"]


def test_hours_of_work_scale_counts_and_interval_bounds_by_hours_per_incident() -> None:
    rates = pl.DataFrame({"dataset": ["calls"] * 2, "category": ["alarm"] * 2, "agency": ["police"] * 2,
                          "role": ["call_handler", "police_officer"], "hours_per_incident": [0.25, 2.0],
                          "basis": ["default", "observed"]})
    counts = pl.DataFrame({"dataset": ["calls"], "category": ["alarm"], "forecast": [10.0], "upper_95": [14.0]})
    hours = workload.hours_of_work(counts, rates, values=("forecast", "upper_95")).sort("role")
    assert hours["hours"].to_list() == [2.5, 20.0] and hours["hours_upper_95"].to_list() == [3.5, 28.0]
    assert hours["basis"].to_list() == ["default", "observed"]

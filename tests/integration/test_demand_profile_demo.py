"""Demand profile and repeat demand on the demo place (a tenth of full volume), against what the
generator planted: the generated rows themselves (regenerated from the seed) and truth.json.

Tolerances: counts and hours recomputed from the generated rows must match exactly (1e-6 h);
every planted repeat location and caller in truth.json must be reported with exactly its
generated count; at least 80 % of the planted high-demand premises and of the multi-agency
cohort must be reported as repeat locations and repeat people respectively.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import DEMO_SCALE, DEMO_SEED
from wholeplace.demand.profile import demand_profile, demand_profile_sets, demand_profiles
from wholeplace.demand.repeat import repeat_demand
from wholeplace.errors import UserError
from wholeplace.overview import UnknownChoiceError
from wholeplace.store import Stores, open_stores
from wholeplace.synth.demo import DemoResult
from wholeplace.synth.generate import POLICE_CALLS, POLICE_UK, DemoData, generate

SCALE = DEMO_SCALE  # the shared small demo's
SEED = DEMO_SEED


@pytest.fixture(scope="module")
def demo(small_demo: DemoResult) -> DemoResult:
    return small_demo


@pytest.fixture(scope="module")
def stores(demo: DemoResult) -> Stores:
    return open_stores(demo.settings)


@pytest.fixture(scope="module")
def truth(demo: DemoResult) -> dict[str, Any]:
    return json.loads(demo.truth_path.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def planted() -> DemoData:
    return generate(SEED, SCALE)


@pytest.fixture(scope="module")
def calls(planted: DemoData) -> pl.DataFrame:
    """The generated police calls with the source and deployment hours each should get."""
    frame = planted.datasets[POLICE_CALLS]
    when = {c: pl.col(c).str.to_datetime("%d/%m/%Y %H:%M:%S") for c in ("received", "dispatched", "closed")}
    return frame.with_columns(**when).with_columns(
        source=pl.when(pl.col("call_source") == "ONVIEW").then(pl.lit("officer_initiated"))
        .when(pl.col("caller_type") != "PUBLIC").then(pl.lit("other_agency")).otherwise(pl.lit("public")),
        hours=((pl.col("closed") - pl.col("dispatched")).dt.total_seconds() / 3600).fill_null(0.0))


def _by(frame: pl.DataFrame, key: str, value: str) -> dict[Any, float]:
    return dict(frame.select(key, value).iter_rows())


def test_counts_by_source_match_the_generated_calls_and_officer_activity_stays_out_of_public_demand(
        stores: Stores, calls: pl.DataFrame) -> None:
    profile = demand_profile(stores=stores, by=["source"], dataset=POLICE_CALLS)
    expected = Counter(calls["source"].to_list())
    assert _by(profile.frame, "source", "all") == {k: float(v) for k, v in expected.items()}
    assert profile.totals["public"] == expected["public"] + expected["other_agency"]
    assert profile.totals["officer_initiated"] == expected["officer_initiated"]
    assert 0.06 < expected["officer_initiated"] / calls.height < 0.12  # "about 9 % officer-initiated"
    officer = profile.frame.filter(pl.col("source") == "officer_initiated").row(0, named=True)
    assert (officer["public"], officer["share_of_public"]) == (0.0, 0.0)
    assert profile.frame["share_of_public"].sum() == pytest.approx(1.0)


def test_deployment_hours_by_grade_match_the_generated_times(stores: Stores, calls: pl.DataFrame) -> None:
    profile = demand_profile(stores=stores, by=["priority"], measure="hours", dataset=POLICE_CALLS)
    assert profile.hours_basis == "deployment (dispatched to closed)"
    expected = calls.group_by("grade").agg(pl.col("hours").sum())
    got = _by(profile.frame, "priority", "all")
    for grade, hours in expected.iter_rows():
        assert got[grade] == pytest.approx(hours, abs=1e-6)
    assert got["G4"] == 0.0  # resolved without deployment
    assert got["G1"] / calls.filter(pl.col("grade") == "G1").height > 0.5  # emergencies take time on scene
    assert profile.method["invalid_intervals_left_out"] == 0


def test_hour_of_day_and_day_of_week_match_the_generated_calls(stores: Stores, calls: pl.DataFrame) -> None:
    profile = demand_profile(stores=stores, by=["hour", "weekday"], dataset=POLICE_CALLS)
    expected = calls.group_by(pl.col("received").dt.hour().alias("hour"),
                              pl.col("received").dt.weekday().alias("weekday")).len()
    got = {(h, d): n for h, d, n in profile.frame.select("hour", "weekday", "all").iter_rows()}
    assert got == {(h, d): float(n) for h, d, n in expected.iter_rows()}
    by_hour = profile.frame.group_by("hour").agg(pl.col("all").sum()).sort("all")
    assert by_hour["hour"][0] in (3, 4, 5, 6) and by_hour["hour"][-1] in (17, 18, 19, 20)  # planted clock shape


def test_opening_and_closing_categories_differ_as_planted(stores: Stores, calls: pl.DataFrame) -> None:
    both = demand_profile(stores=stores, by=["category_opening", "category_closing"], dataset=POLICE_CALLS).frame
    changed = both.filter(pl.col("category_opening") != pl.col("category_closing"))["all"].sum() / both["all"].sum()
    reclassified = (calls["opening_type"] != calls["closing_type"]).mean()
    assert changed <= reclassified  # a change of source type can stay within one canonical category
    assert 0.05 < changed < 0.2


def test_areas_at_any_level_add_up_and_match_where_the_calls_were_generated(
        stores: Stores, calls: pl.DataFrame, planted: DemoData) -> None:
    lsoa = demand_profile(stores=stores, by=["area"], level="lsoa", dataset=POLICE_CALLS)
    codes = planted.place.areas["code"].to_numpy()
    expected = Counter(codes[calls["_area"].to_numpy()].tolist())
    assert _by(lsoa.frame, "area", "all") == {k: float(v) for k, v in expected.items()}
    assert lsoa.frame["area_name"].null_count() == 0
    ward = demand_profile(stores=stores, by=["area", "period"], level="ward", dataset=POLICE_CALLS, measure="hours")
    assert ward.totals["all"] == pytest.approx(calls["hours"].sum(), abs=1e-6)
    assert ward.frame["period"].n_unique() == 24


def test_police_uk_has_months_but_no_times_of_day_and_says_so(stores: Stores, truth: dict[str, Any]) -> None:
    months = demand_profile(stores=stores, by=["period"], dataset=POLICE_UK)
    assert months.totals["all"] == truth["totals"][POLICE_UK]["stored"]
    for by, words in ((["hour"], "Hour of day"), (["weekday"], "Day of week")):
        profile = demand_profile(stores=stores, by=by, dataset=POLICE_UK)
        assert profile.frame.height == 0 and profile.totals["all"] == 0
        assert profile.not_available[POLICE_UK].startswith(f"{words} is not available for this dataset")
    weekly = demand_profile(stores=stores, by=["period"], period="week")
    assert POLICE_UK in weekly.not_available and POLICE_CALLS not in weekly.not_available
    hours = demand_profile(stores=stores, by=["dataset"], measure="hours")
    assert "not available for this dataset" in hours.not_available[POLICE_UK]
    assert set(hours.frame["dataset"]) == {POLICE_CALLS, "demo-ambulance-incidents"}


def test_count_and_hours_from_one_pass_equal_each_asked_alone(stores: Stores) -> None:
    """Police.uk has counts but no hours: in the one-pass answer it stays in the counts and is
    named only where hours are not available."""
    both = demand_profiles(stores=stores, by=["dataset", "area"], level="ward", measures=["count", "hours"])
    for measure in ("count", "hours"):
        alone = demand_profile(stores=stores, by=["dataset", "area"], level="ward", measure=measure)
        assert_frame_equal(both[measure].frame, alone.frame, rel_tol=1e-12)  # hours: sums in any order
        assert both[measure].not_available == alone.not_available
        assert both[measure].totals == pytest.approx(alone.totals, rel=1e-12)
        assert both[measure].method == alone.method
    assert POLICE_UK in set(both["count"].frame["dataset"]) and POLICE_UK in both["hours"].not_available
    with pytest.raises(UserError, match="at least one measure"):
        demand_profiles(stores=stores, by=["dataset"], measures=[])


def test_several_breakdowns_from_one_pass_equal_each_asked_alone(stores: Stores) -> None:
    """Grouping sets: every breakdown the demand page shows, in one pass, each as asked alone (the same
    breakdown twice, and the source on its own, included)."""
    sets = [["source"], ["period", "category_opening"], ["hour", "weekday"], ["area"], ["priority", "source"],
            ["source"]]
    together = demand_profile_sets(stores=stores, sets=sets, measures=["count", "hours"], level="ward")
    for by, both in zip(sets, together, strict=True):
        alone = demand_profiles(stores=stores, by=by, measures=["count", "hours"],
                                level="ward" if "area" in by else None)
        for measure in ("count", "hours"):
            assert_frame_equal(both[measure].frame, alone[measure].frame, rel_tol=1e-12)  # sums in any order
            assert both[measure].not_available == alone[measure].not_available
            assert both[measure].method == alone[measure].method
    assert together[2]["count"].not_available[POLICE_UK].startswith("Hour of day is not available")
    with pytest.raises(UserError, match="at least one breakdown"):
        demand_profile_sets(stores=stores, sets=[], measures=["count"])


def test_bad_profile_requests_are_user_errors_naming_the_choices(stores: Stores) -> None:
    with pytest.raises(UnknownChoiceError, match="hour, weekday, source"):
        demand_profile(stores=stores, by=["beat"])
    with pytest.raises(UnknownChoiceError, match="lsoa"):
        demand_profile(stores=stores, by=["area"], level="county")
    with pytest.raises(UserError, match="needs a geography level"):
        demand_profile(stores=stores, by=["area"])
    with pytest.raises(UnknownChoiceError, match=POLICE_CALLS):
        demand_profile(stores=stores, by=["source"], dataset="no-such-data")
    with pytest.raises(UnknownChoiceError, match="count, hours"):
        demand_profile(stores=stores, by=["source"], measure="minutes")
    restricted = demand_profile(stores=stores, by=["dataset"], datasets=[POLICE_UK])
    assert set(restricted.frame["dataset"]) == {POLICE_UK}


def _token_of(stores: Stores, record: str, column: str) -> str:
    row = stores.connect().execute(f"SELECT {column} FROM events WHERE dataset = ? AND source_record_id = ?",
                                   [POLICE_CALLS, record]).fetchone()
    assert row is not None and row[0] is not None
    return str(row[0])


def test_every_planted_repeat_location_and_caller_is_reported_with_its_generated_count(
        stores: Stores, truth: dict[str, Any]) -> None:
    for entity, column, planted_key in (("location", "address_token", "locations"),
                                        ("caller", "caller_token", "callers")):
        result = repeat_demand(stores=stores, entity=entity, dataset=POLICE_CALLS, top=100_000)
        reported = {row["entity"]: row for row in result.top.iter_rows(named=True)}
        for planted in truth["repeat"][planted_key]:
            row = reported[_token_of(stores, planted["record"], column)]
            per_year = planted["by_year"].values()
            assert row["contacts"] == planted["contacts"]
            assert row["most_in_window"] == max(per_year)
            assert row["repeat_contacts"] == sum(n for n in per_year if n >= 3)
            assert row["is_repeat"] == (max(per_year) >= 3)


def test_the_planted_high_demand_premises_are_the_busiest_repeat_locations(
        stores: Stores, truth: dict[str, Any]) -> None:
    result = repeat_demand(stores=stores, entity="location", dataset=POLICE_CALLS, top=30)
    premises = [p for p in truth["repeat"]["locations"] if p["kind"] != "home"]
    tokens = {_token_of(stores, p["record"], "address_token") for p in premises}
    repeating = set(result.top.filter("is_repeat")["entity"])
    assert len(tokens & repeating) >= 0.8 * len(tokens)
    assert set(result.top["entity"][:10]) <= tokens  # the ten busiest addresses are all premises
    assert result.basis.startswith("address") and result.caveats == []
    assert result.concentration is not None and result.concentration.units == result.entities
    assert result.repeat_demand_share is not None and 0.1 < result.repeat_demand_share < 0.5


def test_the_multi_agency_cohort_is_recovered_as_repeat_people_across_partners(
        stores: Stores, truth: dict[str, Any]) -> None:
    result = repeat_demand(stores=stores, entity="person", top=100_000)
    reported = {row["entity"]: row for row in result.top.iter_rows(named=True)}
    con = stores.connect()
    found = 0
    for member in truth["cohort"]:
        pairs = [(code, record) for code, records in member["records"].items() for record in records]
        tokens = [row[0] for row in con.execute(
            "SELECT e.subject_token FROM events e JOIN (SELECT unnest($d) AS dataset, unnest($r) AS record) p "
            "ON e.dataset = p.dataset AND e.source_record_id = p.record WHERE e.subject_token IS NOT NULL",
            {"d": [d for d, _ in pairs], "r": [r for _, r in pairs]}).fetchall()]
        token, count = Counter(tokens).most_common(1)[0]
        assert reported[token]["contacts"] >= count  # never fewer than the member's own records
        found += reported[token]["is_repeat"]
    assert found >= 0.8 * len(truth["cohort"])
    assert "lower bound" in result.caveats[0]


def test_longer_rolling_windows_find_at_least_as_much_repeat_demand(stores: Stores) -> None:
    short = repeat_demand(stores=stores, entity="caller", window="28d", dataset=POLICE_CALLS)
    long = repeat_demand(stores=stores, entity="caller", window="90d", dataset=POLICE_CALLS)
    assert short.contacts == long.contacts
    assert short.repeat_contacts <= long.repeat_contacts
    assert short.repeat_entities <= long.repeat_entities
    # The four agency switchboards call far more than anyone: they top every definition.
    assert short.top["contacts"][:4].min() > 10 * short.top["contacts"][4]


def test_police_uk_locations_are_snap_points_not_addresses(stores: Stores) -> None:
    result = repeat_demand(stores=stores, entity="location", dataset=POLICE_UK, top=5)
    assert "snap point" in result.basis and "not an address" in result.basis
    assert result.top["entity"].str.starts_with("snap:").all()
    assert result.top["snap_point_text"].str.starts_with("On or near").all()
    rolling = repeat_demand(stores=stores, entity="location", window="90d", dataset=POLICE_UK)
    assert rolling.entities == 0 and "only the month" in rolling.not_available[POLICE_UK]

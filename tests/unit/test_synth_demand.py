"""The demo place's demand: calibrated volumes, seasons and clock times, and the planted truth."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from wholeplace.synth.generate import (
    AE,
    AMBULANCE,
    COUNCIL,
    CRISIS,
    INTERVENTION_KEEP,
    POLICE_CALLS,
    POLICE_UK,
    DemoData,
    generate,
)
from wholeplace.synth.truth import build_truth

SCALE = 0.4


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(20260101, SCALE)


def per_resident_year(data: DemoData, frame: pl.DataFrame) -> float:
    years = len(data.months) / 12
    return frame.height / (data.place.areas["residents"].sum() * years * data.scale)


@pytest.mark.parametrize(("dataset", "low", "high"), [
    (POLICE_CALLS, 0.30, 0.50),  # incidents per resident per year
    (AMBULANCE, 0.13, 0.18),
    (AE, 0.30, 0.40),
    (COUNCIL, 0.03, 0.06),
    (CRISIS, 0.02, 0.04),
])
def test_volumes_are_within_the_calibrated_ranges(data: DemoData, dataset: str, low: float, high: float) -> None:
    assert low <= per_resident_year(data, data.datasets[dataset]) <= high


def test_recorded_crime_is_80_to_100_per_1000_a_year_plus_anti_social_behaviour(data: DemoData) -> None:
    crime = data.datasets[POLICE_UK]
    assert 0.080 <= per_resident_year(data, crime.filter(pl.col("Crime ID").is_not_null())) <= 0.100
    asb = crime.filter(pl.col("Crime type") == "Anti-social behaviour")
    assert asb["Crime ID"].null_count() == asb.height and asb["Last outcome category"].null_count() == asb.height
    assert 0.005 < crime.filter(pl.col("Location") == "No Location").height / crime.height < 0.03


def test_a_fifth_of_public_police_demand_is_welfare_and_mental_health(data: DemoData) -> None:
    calls = data.datasets[POLICE_CALLS].filter(pl.col("call_source") != "ONVIEW")
    welfare = {"concern_for_welfare", "mental_health", "suicide_threat", "missing_person", "absent_from_care",
               "sudden_death", "medical_emergency"}
    assert 0.15 <= calls["_category"].is_in(welfare).mean() <= 0.25  # type: ignore[operator]
    onview = data.datasets[POLICE_CALLS]["call_source"] == "ONVIEW"
    assert 0.05 <= onview.mean() <= 0.15  # type: ignore[operator]


def test_demand_peaks_in_the_evening_and_troughs_before_dawn(data: DemoData) -> None:
    hours = data.datasets[POLICE_CALLS]["_at"].dt.hour().value_counts().sort("_at")["count"].to_numpy()
    assert hours.argmin() in (4, 5, 6)
    assert hours.argmax() in range(17, 23)
    assert hours[18:22].mean() > 3 * hours[3:6].mean()


def test_anti_social_behaviour_and_violence_peak_in_summer(data: DemoData) -> None:
    crime = data.datasets[POLICE_UK].with_columns(month=pl.col("Month").str.slice(5, 2))
    for kind in ("Anti-social behaviour", "Violence and sexual offences"):
        by_month = crime.filter(pl.col("Crime type") == kind).group_by("month").len()
        counts = dict(zip(by_month["month"].to_list(), by_month["len"].to_list(), strict=True))
        assert counts["07"] + counts["08"] > 1.2 * (counts["01"] + counts["02"])


def test_busy_weekend_nights_for_alcohol_incidents(data: DemoData) -> None:
    calls = data.datasets[POLICE_CALLS].filter(pl.col("opening_type") == "DRUNK PERSON")
    weekday = calls["_at"].dt.weekday().value_counts().sort("_at")["count"].to_numpy()  # Monday = 1
    assert weekday[4:6].mean() > 1.4 * weekday[0:3].mean()


def test_repeat_callers_and_locations_have_heavy_tails(data: DemoData) -> None:
    calls = data.datasets[POLICE_CALLS].filter(pl.col("caller_type") == "PUBLIC").with_columns(
        pl.col("caller_phone").str.replace(r"^\+44 ", "0").str.replace_all(" ", ""))  # one caller, one number
    for column in ("caller_phone", "incident_address"):
        counts = calls[column].drop_nulls().value_counts()["count"].sort(descending=True).to_numpy()
        top = counts[: max(1, len(counts) // 20)].sum() / counts.sum()
        assert top > 0.15, column  # the top 5 % of callers and locations make well over 5 % of calls


def test_the_cohort_is_known_to_at_least_three_partners(data: DemoData) -> None:
    cohort = build_truth(data)["cohort"]
    assert len(cohort) == data.cohort.height >= 40
    assert all(len(member["records"]) >= 3 for member in cohort)
    assert sum(len(ids) for member in cohort for ids in member["records"].values()) > 10 * len(cohort)


def test_the_driver_areas_have_more_burglary_fly_tipping_and_noise(data: DemoData) -> None:
    areas = data.place.areas
    crime = data.datasets[POLICE_UK].filter(pl.col("Crime type") == "Burglary", ~pl.col("_lost"))
    council = data.datasets[COUNCIL].filter(pl.col("_category").is_in(["council_fly_tipping", "council_noise"]))
    counts = np.bincount(np.concatenate([crime["_area"].to_numpy(), council["_area"].to_numpy()]),
                         minlength=areas.height)
    driver = areas["driver"].to_numpy()
    residents = areas["residents"].to_numpy()
    ratio = (counts[driver].sum() / residents[driver].sum()) / (counts[~driver].sum() / residents[~driver].sum())
    assert ratio > 1.8


def test_the_pilot_cuts_mental_health_incidents_by_the_planted_effect(data: DemoData) -> None:
    calls = data.datasets[POLICE_CALLS].filter("_mh")
    pilot = data.place.areas["intervention"].to_numpy()[calls["_area"].to_numpy()]
    post = calls["_at"].to_numpy() >= data.intervention.start
    n = {(p, q): int(((pilot == p) & (post == q)).sum()) for p in (True, False) for q in (True, False)}
    ratio = (n[True, True] / n[True, False]) / (n[False, True] / n[False, False])
    standard_error = np.sqrt(sum(1 / v for v in n.values()))
    assert abs(np.log(ratio) - np.log(INTERVENTION_KEEP)) < 2.5 * standard_error
    assert ratio == pytest.approx(INTERVENTION_KEEP, abs=0.1)

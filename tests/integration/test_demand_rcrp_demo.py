"""Right Care, Right Person, failure demand proxies and response times on the demo place, against
what the generator planted (call type rates and traits, the street triage pilot, the response
time distributions by grade and the rural areas' longer travel)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from tests.conftest import DEMO_SCALE, DEMO_SEED
from wholeplace.demand.failure import PROXY_LABEL, failure_report
from wholeplace.demand.rcrp import (
    RCRP_MAPPING_VERSION,
    classify_expression,
    classify_incidents,
    load_rules,
    rcrp_report,
)
from wholeplace.demand.response import response_report
from wholeplace.store import Stores, open_stores
from wholeplace.synth.call_types import CALL_TYPES
from wholeplace.synth.demand import month_starts
from wholeplace.synth.demo import DemoResult
from wholeplace.synth.generate import PERIOD_MONTHS, PERIOD_START, POLICE_CALLS
from wholeplace.synth.place import build_place

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


def planted_rcrp() -> tuple[float, float]:
    """From the generator's call types: the share of public demand whose category the mapping table
    puts in an RCRP category, and the share of that demand reported by another agency."""
    public = [t for t in CALL_TYPES if t.family != "proactive"]
    plain = pl.DataFrame({"category": [t.category for t in public]}).with_columns(
        flag_mental_health=pl.lit(False), raised_by=pl.lit("public"), caller_type=pl.lit(None, pl.String),
        location_type=pl.lit(None, pl.String), outcome=pl.lit(None, pl.String))
    mapped = plain.select(classify_expression(load_rules()).is_not_null().alias("m"))["m"].to_list()
    rcrp = [t for t, m in zip(public, mapped, strict=True) if m]
    rate = sum(t.demand.rate for t in rcrp)
    return rate / sum(t.demand.rate for t in public), sum(t.demand.rate * t.agency for t in rcrp) / rate


def test_the_planted_share_of_rcrp_demand_and_of_it_raised_by_agencies_is_recovered(stores: Stores) -> None:
    share, agency = planted_rcrp()
    report = rcrp_report(stores=stores, datasets=[POLICE_CALLS])
    assert report.mapping_version == RCRP_MAPPING_VERSION
    # Tolerance 0.025: the cohort's planned welfare incidents add to, and the pilot takes from, the rates.
    assert report.rcrp_share == pytest.approx(share, abs=0.025)
    # Cohort incidents are never raised by an agency, so the recovered share sits a little below.
    assert report.by_category["raised_by_agency"].sum() / report.rcrp_incidents == pytest.approx(agency, abs=0.05)
    assert report.unmapped.is_empty()
    assert report.handover.status == "not available"
    assert report.monthly["month"].n_unique() == 24
    assert report.by_category["officer_hours"].sum() > 0


def test_the_street_triage_pilot_lowers_police_mental_health_incidents_in_its_areas(
        stores: Stores, truth: dict[str, Any]) -> None:
    pilot = truth["intervention"]
    start = date.fromisoformat(pilot["start_month"] + "-01")
    frame = classify_incidents(stores=stores, datasets=[POLICE_CALLS], level="lsoa").filter(
        pl.col("flag_mental_health") & pl.col("rcrp_category").is_not_null())
    counts = frame.group_by(pilot=pl.col("area_code").is_in(pilot["areas"]), after=pl.col("month") >= start).len()
    n = {(r["pilot"], r["after"]): r["len"] for r in counts.to_dicts()}
    ratio = (n[True, True] / n[True, False]) / (n[False, True] / n[False, False])
    # Planted rate ratio 0.7; at a tenth of full volume its standard error is about 0.08.
    assert pilot["rate_ratio"] == 0.7
    assert 0.45 < ratio < 0.9


def test_every_incident_has_one_status_and_the_planted_response_times_are_recovered(stores: Stores) -> None:
    years = tuple(range(int(PERIOD_START[:4]) - 1, int(str(month_starts(PERIOD_START, PERIOD_MONTHS)[-1])[:4]) + 1))
    areas = build_place(SEED, years).areas
    rural = areas.filter("rural")["code"].to_list()
    report = response_report(stores=stores, datasets=[POLICE_CALLS], level="lsoa", rural_areas=rural)
    total = stores.connect().execute("SELECT count(*) FROM events WHERE dataset = ?", [POLICE_CALLS]).fetchone()
    assert total is not None
    rows = total[0]
    assert report.incidents == rows
    assert sum(report.status_count(s) for s in ("valid", "invalid", "censored")) == rows
    assert report.status_count("censored") == 0  # every demo incident is closed
    row = stores.connect().execute("SELECT count(*) FILTER (WHERE priority = 'G4'), count(*) FILTER (WHERE "
                                   "priority <> 'G4') FROM events WHERE dataset = ?", [POLICE_CALLS]).fetchone()
    assert row is not None
    not_sent, sent = row
    assert report.counts["never_attended"] == not_sent  # grade 4 is resolved without deployment
    assert int(report.counts["cancelled"]) / sent == pytest.approx(0.07, abs=0.01)  # planted: 7 % stood down

    def median(breakdown: str, group: str, segment: str) -> float:
        return float(report.segments.filter((pl.col("breakdown") == breakdown) & (pl.col("group") == group)
                                            & (pl.col("segment") == segment))["median_minutes"].item())

    # Planted log-normal dispatch queues: medians 2, 18 and 240 minutes for grades 1 to 3.
    assert median("grade", "G1", "call_to_dispatch") == pytest.approx(2, rel=0.1)
    assert median("grade", "G2", "call_to_dispatch") == pytest.approx(18, rel=0.1)
    assert median("grade", "G3", "call_to_dispatch") == pytest.approx(240, rel=0.1)
    # Planted travel: median 15 minutes in rural areas against 9 in urban ones.
    travel = "dispatch_to_arrival"
    ratio = median("urban_rural", "rural", travel) / median("urban_rural", "urban", travel)
    assert ratio == pytest.approx(15 / 9, rel=0.1)
    emergency = {r["urban_rural"]: r for r in report.emergency.to_dicts()}
    assert (emergency["urban"]["target_minutes"], emergency["rural"]["target_minutes"]) == (15, 20)
    assert emergency["rural"]["share_within_target"] < emergency["urban"]["share_within_target"]


def test_failure_demand_proxies_are_labelled_and_agency_welfare_requests_match_rcrp(stores: Stores) -> None:
    report = failure_report(stores=stores, datasets=[POLICE_CALLS])
    assert set(report.proxies["label"]) == {PROXY_LABEL}
    proxies = {r["proxy"]: r for r in report.proxies.to_dicts()}
    assert proxies["reopened"]["status"] == "not available"
    rcrp = rcrp_report(stores=stores, datasets=[POLICE_CALLS])
    welfare = rcrp.by_category.filter(pl.col("rcrp_category") == "concern_for_welfare").row(0, named=True)
    assert proxies["agency_welfare_request"]["contacts"] == welfare["raised_by_agency"] > 0
    assert report.contacts == rcrp.incidents

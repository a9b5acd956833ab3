"""Failure demand: the rule-based proxies, and sample coding with a Wilson interval on each engine."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import inspect

from tests.unit.test_demand_rcrp import cad_row, load_cad
from tests.unit.test_demand_response import frame, incident
from wholeplace.demand.failure import PROXY_LABEL, failure_report, flag_failure_proxies, summarise_failure
from wholeplace.demand.sample_coding import (
    draw_sample,
    get_sample,
    list_samples,
    record_coding,
    sample_result,
)
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store import Stores

HOUR = 60
DAY = 24 * HOUR


def flags(*rows: dict[str, object], repeat_days: int = 7) -> dict[str, dict[str, bool]]:
    flagged = flag_failure_proxies(frame(*rows), repeat_days=repeat_days)
    names = ["progress_chasing", "repeat_same_problem", "agency_welfare_request"]
    return {r["event_id"]: {n: r[n] for n in names} for r in flagged.to_dicts()}


def test_a_contact_while_the_callers_earlier_incident_is_open_is_progress_chasing() -> None:
    got = flags(
        incident("first", received=0, closed=2 * HOUR, caller_token="c1", category_opening="burglary"),
        incident("chase", received=HOUR, closed=HOUR + 5, caller_token="c1", category_opening="information"),
        incident("later", received=3 * HOUR, closed=3 * HOUR + 5, caller_token="c1", category_opening="alarm"),
        incident("agency1", received=0, closed=2 * HOUR, caller_token="switchboard", raised_by="agency",
                 caller_type="HEALTH", category_opening="sudden_death"),
        incident("agency2", received=HOUR, closed=2 * HOUR, caller_token="switchboard", raised_by="agency",
                 caller_type="HEALTH", category_opening="medical_emergency"),
        incident("officer", received=HOUR, closed=2 * HOUR, caller_token="c1", raised_by="officer"),
    )
    assert {k: v["progress_chasing"] for k, v in got.items()} == {
        "first": False, "chase": True, "later": False, "agency1": False, "agency2": False}  # officers: not contacts


def test_repeats_are_the_same_problem_at_the_same_address_within_the_window() -> None:
    rows = [
        incident("a1", received=0, closed=30, address_token="a", category_opening="disturbance"),
        incident("a2", received=3 * DAY, closed=3 * DAY + 30, address_token="a", category_opening="disturbance"),
        incident("a3", received=4 * DAY, closed=4 * DAY + 30, address_token="a", category_opening="burglary"),
        incident("b1", received=DAY, closed=DAY + 30, address_token="b", category_opening="disturbance"),
    ]
    week = flags(*rows)
    assert [k for k, v in week.items() if v["repeat_same_problem"]] == ["a2"]
    two_days = flags(*rows, repeat_days=2)
    assert not any(v["repeat_same_problem"] for v in two_days.values())
    with pytest.raises(UserError, match="at least 1 day"):
        flag_failure_proxies(frame(*rows), repeat_days=0)


def test_welfare_requests_from_another_agency_are_flagged_and_every_row_says_proxy() -> None:
    rows = frame(
        incident("hosp", category_opening="concern_for_welfare", raised_by="agency", caller_type="HEALTH",
                 closed=10),
        incident("public", category_opening="concern_for_welfare", closed=10),
        incident("agency-theft", category_opening="other_theft", raised_by="agency", caller_type="COUNCIL",
                 closed=10),
    )
    report = summarise_failure(flag_failure_proxies(rows))
    assert report.contacts == 3
    proxies = {r["proxy"]: r for r in report.proxies.to_dicts()}
    assert proxies["agency_welfare_request"]["contacts"] == 1
    assert (proxies["reopened"]["status"], proxies["reopened"]["contacts"]) == ("not available", None)
    assert set(report.proxies["label"]) == {PROXY_LABEL}
    assert report.any_proxy == 1 and report.any_proxy_share == pytest.approx(1 / 3)


def test_the_report_reads_public_contacts_from_the_store(stores: Stores, tmp_path: Path) -> None:
    load_cad(stores, tmp_path, [
        cad_row("1", "BURGLARY", hour=10),
        cad_row("2", "BURGLARY", hour=10, day=3),  # same caller and address, two days later
        cad_row("3", "PATROL", source="ONVIEW", caller_type="OFFICER"),
    ])
    report = failure_report(stores=stores)
    assert report.contacts == 2
    assert report.proxies.filter(pl.col("proxy") == "repeat_same_problem")["contacts"].item() == 1


# -- sample coding, on SQLite and PostgreSQL -------------------------------------------------------

def wilson(failures: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval written out, as an independent check of the library's."""
    p = failures / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_sampling_is_reproducible_and_codings_give_a_wilson_interval(stores_on_each_engine: Stores,
                                                                       tmp_path: Path) -> None:
    stores = stores_on_each_engine
    rows = [cad_row(str(i), "WELFARE", day=1 + i % 28, caller=f"0770090{i:04d}") for i in range(40)]
    load_cad(stores, tmp_path, [*rows, cad_row("onview", "PATROL", source="ONVIEW", caller_type="OFFICER")])
    first = draw_sample(stores=stores, size=10, seed=7, name="March welfare", created_by="analyst@test")
    again = draw_sample(stores=stores, size=10, seed=7)
    other = draw_sample(stores=stores, size=10, seed=8)
    assert first.event_ids == again.event_ids != other.event_ids
    assert len(set(first.event_ids)) == 10 and first.population == 40  # officer-initiated are never sampled
    for i, event_id in enumerate(first.event_ids):
        failure = i < 3
        record_coding(stores=stores, sample_id=first.id, event_id=event_id, coder="analyst@test",
                      classification="failure" if failure else "value",
                      failure_type="chasing progress" if failure else None)
    record_coding(stores=stores, sample_id=first.id, event_id=first.event_ids[9], classification="value",
                  coder="analyst@test", note="re-coded after review")  # replaces, not adds
    result = sample_result(stores=stores, sample_id=first.id)
    assert (result.size, result.coded, result.failures, result.uncoded) == (10, 10, 3, 0)
    assert (result.lower, result.upper) == pytest.approx(wilson(3, 10), abs=1e-9)
    assert (result.lower, result.upper) == pytest.approx((0.1077913, 0.6032219), abs=1e-6)
    assert result.by_failure_type == {"chasing progress": 3}
    assert get_sample(stores=stores, sample_id=first.id).name == "March welfare"
    assert [s["coded"] for s in list_samples(stores=stores) if s["sample_id"] == first.id] == [10]


def test_samples_store_event_ids_and_nothing_identifying(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    stores = stores_on_each_engine
    load_cad(stores, tmp_path, [cad_row(str(i), "WELFARE") for i in range(5)])
    sample = draw_sample(stores=stores, size=2, seed=1)
    columns = {name: {c["name"] for c in inspect(stores.engine).get_columns(name)}
               for name in ("demand_samples", "demand_sample_items", "demand_codings")}
    assert not any("token" in c or "caller" in c or "address" in c for cs in columns.values() for c in cs)
    with pytest.raises(NotFoundError, match="is not in demand sample"):
        record_coding(stores=stores, sample_id=sample.id, event_id="elsewhere", classification="value", coder="a")
    with pytest.raises(UserError, match="'maybe' is not a classification"):
        record_coding(stores=stores, sample_id=sample.id, event_id=sample.event_ids[0], classification="maybe",
                      coder="a")
    with pytest.raises(UserError, match="failure type was given"):
        record_coding(stores=stores, sample_id=sample.id, event_id=sample.event_ids[0], classification="value",
                      failure_type="x", coder="a")
    with pytest.raises(UserError, match="Cannot draw a sample of 6 from 5"):
        draw_sample(stores=stores, size=6, seed=1)
    with pytest.raises(NotFoundError, match="no demand sample 'nope'"):
        sample_result(stores=stores, sample_id="nope")
    empty = sample_result(stores=stores, sample_id=sample.id)
    assert (empty.coded, empty.proportion, empty.lower) == (0, None, None)

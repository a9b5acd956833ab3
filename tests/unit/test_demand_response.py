"""Response and time lost: every incident in exactly one status, segments, the emergency standard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from wholeplace.demand.response import (
    emergency_attendance,
    response_report,
    segment_statistics,
    summarise_timelines,
    timeline_status,
)
from wholeplace.overview import UnknownChoiceError
from wholeplace.store import Stores

T0 = datetime(2024, 3, 1, 10, 0)
SCHEMA: dict[str, Any] = {
    "event_id": pl.String, "dataset": pl.String, "month": pl.Date, "category": pl.String,
    "category_opening": pl.String, "category_closing": pl.String, "grade": pl.String, "outcome": pl.String,
    "flag_mental_health": pl.Boolean, "flag_alcohol": pl.Boolean, "flag_domestic_abuse": pl.Boolean,
    "flag_self_initiated": pl.Boolean, "caller_token": pl.String, "address_token": pl.String,
    "subject_token": pl.String, "received_at": pl.Datetime("us"), "dispatched_at": pl.Datetime("us"),
    "arrived_at": pl.Datetime("us"), "closed_at": pl.Datetime("us"), "contact_at": pl.Datetime("us"),
    "area_code": pl.String, "caller_type": pl.String, "call_source": pl.String, "location_type": pl.String,
    "raised_by": pl.String,
}


def at(minutes: float | None) -> datetime | None:
    return None if minutes is None else T0 + timedelta(minutes=minutes)


def incident(ref: str, *, received: float | None = 0, dispatched: float | None = None, arrived: float | None = None,
             closed: float | None = None, **fields: Any) -> dict[str, Any]:
    """An incident as ``read_incidents`` returns it; times are minutes after T0."""
    row: dict[str, Any] = dict.fromkeys(SCHEMA)
    row |= {"event_id": ref, "dataset": "test-calls", "month": T0.date().replace(day=1), "category": "alarm",
            "category_opening": "alarm", "category_closing": "alarm", "grade": "G2", "raised_by": "public",
            "received_at": at(received), "dispatched_at": at(dispatched), "arrived_at": at(arrived),
            "closed_at": at(closed), "contact_at": at(received)}
    return row | fields


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SCHEMA)


def test_each_incident_gets_one_status_with_its_reason() -> None:
    rows = timeline_status(frame(
        incident("ok", dispatched=5, arrived=12, closed=60),
        incident("early", dispatched=10, arrived=5, closed=60),
        incident("open", dispatched=5),
        incident("none"),
        incident("long", dispatched=5, arrived=10, closed=73 * 60),
        incident("nostart", received=None, arrived=10, closed=20),
        incident("phone", closed=30),
        incident("stood-down", dispatched=5, closed=25),
    )).select("event_id", "status", "reason", "never_attended", "cancelled")
    got = {r["event_id"]: (r["status"], r["reason"], r["never_attended"], r["cancelled"]) for r in rows.to_dicts()}
    assert got == {
        "ok": ("valid", None, False, False),
        "early": ("invalid", "arrived before dispatched", False, False),
        "open": ("censored", "no end time (neither arrived nor closed)", False, False),
        "none": ("censored", "no end time (neither arrived nor closed)", False, False),
        "long": ("invalid", "on_scene longer than 72 hours", False, False),
        "nostart": ("invalid", "no received time", False, False),
        "phone": ("valid", None, True, False),
        "stood-down": ("valid", None, False, True),
    }


MINUTES = st.one_of(st.none(), st.floats(min_value=-600, max_value=6000, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(MINUTES, MINUTES, MINUTES, MINUTES), min_size=1, max_size=40))
def test_statuses_always_add_up_to_the_incidents(timelines: list[tuple[float | None, ...]]) -> None:
    rows = [incident(str(i), received=r, dispatched=d, arrived=a, closed=c)
            for i, (r, d, a, c) in enumerate(timelines)]
    report = summarise_timelines(timeline_status(frame(*rows)))
    assert report.incidents == len(rows)
    assert sum(report.status_count(s) for s in ("valid", "invalid", "censored")) == len(rows)
    assert report.statuses["incidents"].sum() == len(rows)


def test_segment_medians_and_90th_percentiles_use_valid_incidents_only() -> None:
    rows = [incident(str(i), dispatched=0, arrived=i, closed=i + 30, grade="G1" if i <= 5 else "G2")
            for i in range(1, 11)]
    rows.append(incident("bad", dispatched=10, arrived=1, closed=40, grade="G1"))  # invalid: left out
    stats = segment_statistics(timeline_status(frame(*rows)))
    travel = stats.filter(pl.col("segment") == "dispatch_to_arrival")
    everyone = travel.filter(pl.col("breakdown") == "all").row(0, named=True)
    assert (everyone["incidents"], everyone["median_minutes"]) == (10, 5.5)
    assert everyone["p90_minutes"] == pytest.approx(9.1)
    grade1 = travel.filter((pl.col("breakdown") == "grade") & (pl.col("group") == "G1")).row(0, named=True)
    assert (grade1["incidents"], grade1["median_minutes"]) == (5, 3.0)


def test_emergency_standard_is_15_minutes_urban_and_20_rural_from_the_chosen_clock_start() -> None:
    rows = frame(
        incident("u1", dispatched=4, arrived=14, closed=50, grade="G1", area_code="U"),
        incident("u2", dispatched=4, arrived=18, closed=50, grade="G1", area_code="U"),
        incident("r1", dispatched=4, arrived=18, closed=50, grade="G1", area_code="R"),
        incident("r2", dispatched=8, arrived=26, closed=50, grade="G1", area_code="R"),
        incident("r3", dispatched=8, closed=50, grade="G1", area_code="R"),  # cancelled: not attended
        incident("g2", dispatched=4, arrived=14, closed=50, grade="G2", area_code="U"),
    )
    classified = timeline_status(rows, rural_areas={"R"})
    received = {r["urban_rural"]: r for r in emergency_attendance(classified).to_dicts()}
    assert (received["urban"]["target_minutes"], received["urban"]["within_target"], received["urban"]["attended"]) \
        == (15, 1, 2)
    assert (received["rural"]["target_minutes"], received["rural"]["emergency"], received["rural"]["attended"],
            received["rural"]["within_target"]) == (20, 3, 2, 1)
    dispatched = {r["urban_rural"]: r for r in emergency_attendance(classified, clock_start="dispatched").to_dicts()}
    assert (dispatched["urban"]["within_target"], dispatched["rural"]["within_target"]) == (2, 2)
    unknown = emergency_attendance(timeline_status(rows)).to_dicts()
    assert [(r["urban_rural"], r["target_minutes"], r["emergency"]) for r in unknown] == [("not available", 15, 5)]


def test_recategorised_counts_and_regrading_is_said_to_be_not_available() -> None:
    report = summarise_timelines(timeline_status(frame(
        incident("a", closed=10, category_opening="alarm", category_closing="burglary"),
        incident("b", closed=10),
    )))
    assert report.counts == {"never_attended": 2, "cancelled": 0, "recategorised": 1, "regraded": "not available"}
    assert any("not available" in note for note in report.notes)


def test_an_unknown_clock_start_or_dataset_names_the_choices(stores: Stores) -> None:
    with pytest.raises(UnknownChoiceError, match="clock start 'answered'") as caught:
        response_report(stores=stores, clock_start="answered")
    assert caught.value.choices == ["received", "dispatched"]
    with pytest.raises(UnknownChoiceError, match="dataset 'nope'"):
        response_report(stores=stores, datasets=["nope"])

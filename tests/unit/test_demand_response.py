"""Response and time lost: every incident in exactly one status, segments, the emergency standard."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from tests.support.mapped_files import write_calls_file, write_mapping
from wholeplace.demand.response import (
    emergency_attendance,
    response_report,
    segment_statistics,
    stored_rural_urban,
    summarise_timelines,
    timeline_status,
)
from wholeplace.geography.context import load_rural_urban
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import load_files
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


AREA_CALLS_MAPPING = """\
mapping: test-area-calls
version: 1
partner: {code: police-test, name: Test Constabulary, kind: police}
dataset: {code: test-area-calls, kind: call_for_service, title: Test calls by area}
event_kind: call_for_service
record_id: {column: ref}
timestamps:
  received_at: {column: received, formats: ["%Y-%m-%d %H:%M"]}
  dispatched_at: {column: dispatched, formats: ["%Y-%m-%d %H:%M"]}
  arrived_at: {column: arrived, formats: ["%Y-%m-%d %H:%M"]}
  closed_at: {column: closed, formats: ["%Y-%m-%d %H:%M"]}
category: {column: call_type, table: types.csv}
location:
  area_code: {column: area, level: lsoa}
priority: {column: grade}
"""


def load_area_calls(stores: Stores, folder: Path, rows: list[tuple[str, str, int]]) -> None:
    """Grade 1 calls (ref, area, minutes from call to arrival) received at 10:00 and dispatched at 10:02."""
    mapping = write_mapping(folder / "mapping", AREA_CALLS_MAPPING, table="source_value,category\nALARM,alarm\n")
    lines = [[ref, "2024-03-01 10:00", "2024-03-01 10:02", f"2024-03-01 10:{arrived:02d}", "2024-03-01 10:50",
              "ALARM", "G1", area] for ref, area, arrived in rows]
    calls = write_calls_file(folder / "calls.csv", lines, header=["ref", "received", "dispatched", "arrived",
                                                                 "closed", "call_type", "grade", "area"])
    load_files(stores=stores, adapter=MappedAdapter.from_file(mapping), paths=[calls], settings=stores.settings)


def test_the_loaded_rural_urban_classification_sets_15_or_20_minutes_by_area(stores: Stores, tmp_path: Path) -> None:
    load_area_calls(stores, tmp_path, [("u1", "E01000001", 12), ("u2", "E01000001", 17), ("r1", "E01000002", 17),
                                       ("r2", "E01000002", 25), ("x1", "E01000003", 12)])
    without = response_report(stores=stores)
    assert without.emergency.select("urban_rural", "emergency").rows() == [("not available", 5)]
    assert any("No urban/rural classification" in note for note in without.notes)
    ruc = tmp_path / "ruc.csv"
    ruc.write_text("LSOA11CD,RUC11CD\nE01000001,C1\nE01000002,E1\n")  # E01000003 is not classified
    load_rural_urban(stores=stores, path=ruc, level="lsoa")
    report = response_report(stores=stores)
    emergency = {r["urban_rural"]: r for r in report.emergency.to_dicts()}
    # 17 minutes misses the urban 15 but meets the rural 20.
    assert (emergency["urban"]["target_minutes"], emergency["urban"]["attended"],
            emergency["urban"]["within_target"]) == (15, 2, 1)
    assert (emergency["rural"]["target_minutes"], emergency["rural"]["attended"],
            emergency["rural"]["within_target"]) == (20, 2, 1)
    assert (emergency["not available"]["target_minutes"], emergency["not available"]["emergency"]) == (15, 1)
    assert not any("No urban/rural classification" in note for note in report.notes)
    groups = report.segments.filter(pl.col("breakdown") == "urban_rural")["group"].unique().sort().to_list()
    assert groups == ["not available", "rural", "urban"]
    assert report.segments.filter((pl.col("breakdown") == "urban_rural") & (pl.col("group") == "rural")
                                  & (pl.col("segment") == "call_to_arrival"))["median_minutes"].item() == 21.0
    # Rural areas named by the caller take precedence over the loaded classification.
    named = response_report(stores=stores, rural_areas=["E01000001"])
    assert {r["urban_rural"]: r["emergency"] for r in named.emergency.to_dicts()} == {"rural": 2, "urban": 3}
    # A classification of another level does not classify these areas.
    assert stored_rural_urban(stores=stores, level="msoa") is None
    assert stored_rural_urban(stores=stores, level="lsoa").rows() == [("E01000001", False), ("E01000002", True)]

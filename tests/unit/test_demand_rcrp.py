"""Right Care, Right Person: the mapping table, its rules, the police threshold and the report."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.support.mapped_files import write_calls_file, write_mapping
from tests.unit.test_demand_response import frame, incident
from wholeplace.demand.rcrp import (
    RCRP_MAPPING_VERSION,
    TABLE,
    classify_expression,
    load_rules,
    rcrp_report,
)
from wholeplace.errors import UserError
from wholeplace.governance.pseudonymise import create_key_file
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import load_files
from wholeplace.model.categories import CATEGORIES
from wholeplace.overview import UnknownChoiceError
from wholeplace.store import Stores

HEADER = ["ref", "received", "dispatched", "arrived", "closed", "call_type", "source", "caller_type", "grade",
          "disposition", "caller", "address", "lon", "lat"]
MAPPING = """\
mapping: test-cad
version: 1
partner: {code: police-test, name: Test Constabulary, kind: police}
dataset: {code: test-cad, kind: call_for_service, title: Test command and control}
event_kind: call_for_service
record_id: {column: ref}
timestamps:
  received_at: {column: received, formats: ["%Y-%m-%d %H:%M"]}
  dispatched_at: {column: dispatched, formats: ["%Y-%m-%d %H:%M"]}
  arrived_at: {column: arrived, formats: ["%Y-%m-%d %H:%M"]}
  closed_at: {column: closed, formats: ["%Y-%m-%d %H:%M"]}
category: {column: call_type, table: types.csv}
location:
  longitude: {column: lon}
  latitude: {column: lat}
identifiers:
  caller:
    phone: {column: caller}
  address: {column: address}
flags:
  self_initiated: {column: source, in: [ONVIEW]}
  mental_health: {categories: [mental_health]}
outcome: {column: disposition}
priority: {column: grade}
attributes: [source, caller_type]
"""
TYPES = """\
source_value,category
WELFARE,concern_for_welfare
MH,mental_health
AWOL,absent_from_care
BURGLARY,burglary
FALL,ambulance_other
PATROL,police_activity
"""


def cad_row(ref: str, call_type: str, *, day: int = 1, hour: int = 10, caller_type: str = "PUBLIC",
            source: str = "999", grade: str = "G2", disposition: str = "Advice given", caller: str = "07700900001",
            address: str = "1 High Street", month: int = 3) -> list[str]:
    stamp = f"2024-{month:02d}-{day:02d} {hour:02d}"
    return [ref, f"{stamp}:00", f"{stamp}:05", f"{stamp}:15", f"{stamp}:45", call_type, source, caller_type,
            grade, disposition, caller, address, "-1.5", "53.4"]


def load_cad(stores: Stores, folder: Path, rows: list[list[str]]) -> None:
    mapping = write_mapping(folder / "mapping", MAPPING, table=TYPES)
    calls = write_calls_file(folder / "cad.csv", rows, header=HEADER)
    key = create_key_file(folder / "keys" / "partnership.key")
    settings = stores.settings.model_copy(update={"partnership_key_file": key})
    load_files(stores=stores, adapter=MappedAdapter.from_file(mapping), paths=[calls], settings=settings)


def test_the_shipped_table_is_valid_and_knows_every_police_incident_category() -> None:
    rules = load_rules()
    known = {r.category for r in rules}
    police = {code for code, c in CATEGORIES.items() if c.group in {"crime", "public_safety_welfare", "traffic",
                                                                    "anti_social_behaviour", "police_activity"}}
    assert police <= known
    assert {r.rcrp_category for r in rules} - {None} == {
        "concern_for_welfare", "walked_out_of_healthcare", "awol_mental_health", "medical", "s136_conveyance_handover"}


def test_a_bad_table_names_each_line_and_column(tmp_path: Path) -> None:
    table = tmp_path / "rcrp.csv"
    table.write_text("category,rcrp_category,when,note\nconcern_for_welfare,welfare,,\nnot_a_category,medical,,\n"
                     "medical_emergency,medical,colour:red,\n")
    with pytest.raises(UserError) as caught:
        load_rules(table)
    text = str(caught.value)
    assert "rcrp.csv, line 2, column 'rcrp_category': 'welfare'" in text
    assert "line 3, column 'category': 'not_a_category'" in text
    assert "line 4, column 'when': 'colour:red'" in text


def test_rules_use_qualifiers_who_raised_it_location_and_outcome() -> None:
    rows = frame(
        incident("awol-mh", category="absent_from_care", flag_mental_health=True),
        incident("walked-out", category="absent_from_care", flag_mental_health=False),
        incident("missing-health", category="missing_person", caller_type="HEALTH", raised_by="agency"),
        incident("missing-hospital", category="missing_person", location_type="hospital"),
        incident("missing-home", category="missing_person"),
        incident("s136", category="mental_health", outcome="Section 136 MHA"),
        incident("mh", category="mental_health"),
        incident("sudden-death", category="sudden_death"),
        incident("burglary", category="burglary"),
        incident("unknown", category="council_noise"),
    )
    got = dict(frame_rcrp(rows))
    assert got == {
        "awol-mh": "awol_mental_health", "walked-out": "walked_out_of_healthcare",
        "missing-health": "walked_out_of_healthcare", "missing-hospital": "walked_out_of_healthcare",
        "missing-home": "concern_for_welfare", "s136": "s136_conveyance_handover", "mh": "concern_for_welfare",
        "sudden-death": "medical", "burglary": None, "unknown": None,
    }


def frame_rcrp(rows: pl.DataFrame) -> list[tuple[str, str | None]]:
    return list(rows.select("event_id", classify_expression(load_rules(TABLE)).alias("r")).iter_rows())


def test_the_report_counts_hours_agency_share_threshold_trend_and_unmapped(stores: Stores, tmp_path: Path) -> None:
    load_cad(stores, tmp_path, [
        cad_row("1", "WELFARE", caller_type="HEALTH"),
        cad_row("2", "WELFARE", grade="G1"),
        cad_row("3", "MH", disposition="Section 136 MHA", month=5),
        cad_row("4", "BURGLARY", disposition="Crime recorded"),
        cad_row("5", "FALL"),
        cad_row("6", "FALL"),
        cad_row("7", "PATROL", source="ONVIEW", caller_type="OFFICER"),
    ])
    report = rcrp_report(stores=stores)
    assert report.mapping_version == RCRP_MAPPING_VERSION
    assert (report.incidents, report.rcrp_incidents) == (6, 3)  # the officer-initiated patrol is not public demand
    assert report.rcrp_share == pytest.approx(0.5)
    welfare = report.by_category.filter(pl.col("rcrp_category") == "concern_for_welfare").row(0, named=True)
    assert (welfare["incidents"], welfare["above_threshold"], welfare["raised_by_agency"]) == (2, 1, 1)
    assert welfare["share_raised_by_agency"] == pytest.approx(0.5)
    assert welfare["officer_hours"] == pytest.approx(2 * 40 / 60)  # dispatched at :05, closed at :45
    assert report.unmapped.to_dicts() == [{"category": "ambulance_other", "incidents": 2}]
    months = report.monthly.group_by("month").agg(pl.col("incidents").sum()).sort("month")
    assert months["incidents"].to_list() == [2, 0, 1]  # March, April (quiet, still listed), May
    assert report.handover.status == "not available" and "1 section 136" in report.handover.reason
    with_officers = rcrp_report(stores=stores, include_self_initiated=True)
    assert with_officers.incidents == 7


def test_unknown_basis_or_dataset_names_the_choices(stores: Stores) -> None:
    with pytest.raises(UnknownChoiceError, match="category basis 'final'"):
        rcrp_report(stores=stores, basis="final")
    with pytest.raises(UnknownChoiceError, match="dataset 'nope'"):
        rcrp_report(stores=stores, datasets=["nope"])

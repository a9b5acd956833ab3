"""Mapping files: checking them (every problem at once, by key and line) and applying them to rows."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from tests.support.mapped_files import CALLS_MAPPING, call_row, write_calls_file, write_mapping
from wholeplace.errors import MappingError
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.mapping_spec import precision_of

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "src" / "wholeplace" / "mappings"


def _problems(path: Path) -> str:
    with pytest.raises(MappingError) as caught:
        MappedAdapter.from_file(path)
    assert str(path) in str(caught.value)
    return "\n".join(caught.value.problems)


def _map(tmp_path: Path, rows: list[list[str]], mapping: str = CALLS_MAPPING, **header):
    adapter = MappedAdapter.from_file(write_mapping(tmp_path / "m", mapping))
    source = adapter.read(write_calls_file(tmp_path / "calls.csv", rows, **header))
    return adapter.map(source, pseudonymiser=None)


@pytest.mark.parametrize("name", ["san-diego-cfs", "seattle-cfs"])
def test_the_shipped_mappings_are_valid(name: str) -> None:
    adapter = MappedAdapter.from_file(SHIPPED / name / "mapping.yaml")
    assert re.fullmatch(rf"{name}@1\+[0-9a-f]{{10}}", adapter.mapping_version)
    assert not adapter.holds_identifiers


def test_the_full_example_in_the_docs_is_a_valid_mapping(tmp_path: Path) -> None:
    docs = (REPO / "docs" / "mapping-files.md").read_text()
    example = re.search(r"## A full example\n\n```yaml\n(.*?)```", docs, re.S)
    table = re.search(r"```csv\n(.*?)```", docs, re.S)
    assert example and table
    adapter = MappedAdapter.from_file(write_mapping(tmp_path, example.group(1), table=table.group(1)))
    assert adapter.holds_identifiers
    assert adapter.spec.identifiers.subject and adapter.spec.identifiers.subject.nhs_number
    assert adapter.spec.flags.mental_health and len(adapter.spec.flags.mental_health) == 2


def test_every_problem_is_reported_at_once_by_key_and_line(tmp_path: Path) -> None:
    text = CALLS_MAPPING.replace("kind: police", "kind: polic").replace("arrived_at:", "arived_at:")
    text = text.replace('"%d/%m/%Y %H:%M"]}\n  received', '"%d/%m/%Y %Q"]}\n  received')
    text = text.replace("in: [ONVIEW]", "inn: [ONVIEW]").replace("[mental_health]", "[mental_health, sad]")
    text += 'mapingg: x\n'
    problems = _problems(write_mapping(tmp_path, text))
    assert "partner.kind (line 3): Input should be 'police'" in problems and "(found 'polic')" in problems
    assert "timestamps.arived_at (line 10): unknown key; did you mean 'arrived_at'?" in problems
    assert "timestamps.occurred_at.formats (line 8): '%d/%m/%Y %Q' uses %Q" in problems
    assert "flags.self_initiated[0].inn (line 18): unknown key; did you mean 'in'?" in problems
    assert "not Wholeplace categories: sad" in problems
    assert "mapingg (line 20): unknown key; did you mean 'mapping'?" in problems


@pytest.mark.parametrize(("text", "expected"), [
    ("mapping: [unclosed\n", "line 2, column 1: not valid YAML"),
    ("- just\n- a list\n", "must be a YAML mapping"),
])
def test_broken_yaml_is_located(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _problems(write_mapping(tmp_path, text))


def test_category_table_problems_name_the_table_line_and_column(tmp_path: Path) -> None:
    table = "source_value,category\nWELFARE,concern_for_welfare\nMH,mental_health\nX,welfare\n"
    problems = _problems(write_mapping(tmp_path, table=table))
    assert re.search(r"category\.table \(line 11\): .*types\.csv, line 4, column 'category': 'welfare' is not",
                     problems)
    missing = _problems(write_mapping(tmp_path / "other", CALLS_MAPPING.replace("types.csv", "nope.csv")))
    assert "nope.csv not found (the path is relative to the mapping file)" in missing


def test_identifier_columns_cannot_also_be_stored_in_clear(tmp_path: Path) -> None:
    text = CALLS_MAPPING + "identifiers:\n  address: {column: street}\nattributes: [notes, street]\n"
    problems = _problems(write_mapping(tmp_path, text))
    assert "location.text (line 16): column 'street' is declared as an identifier (identifiers.address)" in problems
    assert "attributes[1] (line 22): column 'street'" in problems


def test_a_mapping_needs_a_time_and_a_category(tmp_path: Path) -> None:
    text = re.sub(r"timestamps:\n(  .*\n)+", "", CALLS_MAPPING).replace("category:", "category_opening:")
    problems = _problems(write_mapping(tmp_path, text))
    assert "timestamps: give timestamps.occurred_at, timestamps.received_at or occurred_month" in problems
    assert "category_opening (line 7): give category (or category_closing" in problems


@pytest.mark.parametrize(("fmt", "precision"), [
    ("%Y-%m-%d %H:%M:%S", "second"), ("%m/%d/%Y %I:%M:%S %p", "second"), ("%d/%m/%Y %H:%M", "minute"),
    ("%Y-%m-%d", "day"), ("%Y-%m", "month"),
])
def test_time_precision_comes_from_the_format(fmt: str, precision: str) -> None:
    assert precision_of(fmt) == precision


def test_the_version_changes_when_the_category_table_does(tmp_path: Path) -> None:
    path = write_mapping(tmp_path)
    before = MappedAdapter.from_file(path).mapping_version
    (tmp_path / "types.csv").write_text("source_value,category\nWELFARE,concern_for_welfare\n")
    assert MappedAdapter.from_file(path).mapping_version != before


def test_rows_that_cannot_be_mapped_are_quarantined_with_column_and_reason(tmp_path: Path) -> None:
    mapped = _map(tmp_path, [
        call_row("1"), call_row("2", received="01/03/2024 10:05"), call_row("3", received="yesterday"),
        call_row("4", received=""), call_row("5", call_type="BURGLARY"), call_row("6", lon="west"),
        call_row("7", lat=""), call_row("8", arrived="soon"),
    ])
    reasons = {r["line"]: (r["column"], r["reason"]) for r in mapped.quarantine.iter_rows(named=True)}
    assert reasons == {
        4: ("received", "received is not a date in the format '%Y-%m-%d %H:%M:%S' or '%d/%m/%Y %H:%M' "
                        "(timestamps.occurred_at, timestamps.received_at)"),
        5: ("received", "no time the event occurred: received blank"),
        6: ("call_type", "call_type 'BURGLARY' is not in the category table types.csv"),
        7: ("lon", "lon is not a number from -180 to 180"),
        8: ("lon", "only one of lon and lat is given"),
        9: ("arrived", "arrived is not a date in the format '%Y-%m-%d %H:%M:%S' (timestamps.arrived_at)"),
    }
    events = mapped.events
    assert events["source_record_id"].to_list() == ["1", "2"]
    assert events["time_precision"].to_list() == ["second", "minute"]
    assert events["event_id"].to_list() == ["test-calls/calls.csv#2", "test-calls/calls.csv#3"]
    assert events["occurred_month"].cast(pl.String).to_list() == ["2024-03-01", "2024-03-01"]
    assert events["location_status"].to_list() == ["point", "point"]


def test_locations_flags_and_attributes(tmp_path: Path) -> None:
    mapped = _map(tmp_path, [
        call_row("1", source="ONVIEW", call_type="MH", notes="n1"),
        call_row("2", lon="", lat="", beat="-1"),
        call_row("3", lon="", lat="", beat="B7"),
    ])
    events = mapped.events
    assert events["location_status"].to_list() == ["point", "unlocated", "area_only"]
    assert events["source_area_code"].to_list() == ["B1", None, "B7"]
    assert events["source_area_level"].to_list() == ["test_beat", None, "test_beat"]
    assert events["flag_self_initiated"].to_list() == [True, False, False]
    assert events["flag_mental_health"].to_list() == [True, False, False]
    assert "flag_alcohol" not in events.columns
    assert events["attributes"][0] == '{"notes":"n1"}'


def test_easting_and_northing_become_wgs84(tmp_path: Path) -> None:
    text = CALLS_MAPPING.replace("longitude: {column: lon}", "easting: {column: lon}").replace(
        "latitude: {column: lat}", "northing: {column: lat}")
    mapped = _map(tmp_path, [call_row("1", lon="530000", lat="180000"), call_row("2", lon="-5", lat="180000")],
                  text)
    lon, lat = mapped.events["longitude"][0], mapped.events["latitude"][0]
    # TQ 30000 80000 (Charing Cross); without the OSGB36 datum shift it would be ~120 m off.
    assert lon == pytest.approx(-0.12835, abs=2e-4) and lat == pytest.approx(51.50399, abs=2e-4)
    assert mapped.quarantine["reason"].to_list() == ["lon is not a number from 0 to 700,000"]


def test_month_partitions_unmapped_as_uncategorised_and_rule_lists(tmp_path: Path) -> None:
    text = CALLS_MAPPING.replace("table: types.csv}", "table: types.csv, unmapped: uncategorised}").replace(
        "  mental_health: {categories: [mental_health]}\n",
        "  mental_health: {categories: [mental_health]}\n"
        "  alcohol: [{column: notes, matches: '(?i)drunk'}, {column: source, truthy: true}]\n",
    ) + "partition: month\n"
    mapped = _map(tmp_path, [call_row("1", call_type="NEW", notes="Very DRUNK", source="no"),
                             call_row("2", received="2024-04-02 09:00:00", source="yes"),
                             call_row("3", source="maybe")], text)
    events = mapped.events
    assert events["category"].to_list() == ["uncategorised", "concern_for_welfare"]
    assert events["event_id"].to_list() == ["test-calls/2024-03#2", "test-calls/2024-04#3"]
    assert events["flag_alcohol"].to_list() == [True, True]
    assert mapped.quarantine["reason"].to_list() == [
        "source is not a yes/no value (yes, no, true, false, y, n, 1, 0)"]

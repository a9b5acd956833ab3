"""Bad input is refused whole, with a message naming the file and the line, column or mapping key,
and leaves the store exactly as it was, through the service functions and through the CLI."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support.mapped_files import (
    CALLS_HEADER,
    CALLS_MAPPING,
    CALLS_TABLE,
    call_row,
    write_calls_file,
    write_mapping,
)
from tests.support.police_files import HEADER as POLICE_HEADER
from tests.support.police_files import street_row, write_street_file
from wholeplace import provenance
from wholeplace.cli import app
from wholeplace.errors import UserError
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import Adapter, load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

runner = CliRunner()


@dataclass(frozen=True)
class Case:
    name: str
    adapter: str  # police-uk or mapping
    write: Callable[[Path], Path]  # writes the bad input into a folder, returns the data file
    expected: tuple[str, ...]  # every one appears in the message
    mapping: Callable[[Path], Path] = lambda folder: write_mapping(folder / "mapping")

    def __str__(self) -> str:
        return self.name


def _police(rows: list[list[str]], header: list[str] = POLICE_HEADER) -> Callable[[Path], Path]:
    return lambda folder: write_street_file(folder / "bad-street.csv", rows, header=header)


def _calls(rows: list[list[str]], header: list[str] = CALLS_HEADER) -> Callable[[Path], Path]:
    return lambda folder: write_calls_file(folder / "bad-calls.csv", rows, header=header)


def _raw(name: str, content: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name
    return write


def _truncated_gzip(name: str, header: list[str], row: list[str]) -> Callable[[Path], Path]:
    text = ",".join(header) + "\n" + (",".join(row) + "\n") * 3000
    data = gzip.compress(text.encode())
    return _raw(name, data[: len(data) // 2])


def _bad_mapping(old: str, new: str, table: str = CALLS_TABLE) -> Callable[[Path], Path]:
    return lambda folder: write_mapping(folder / "mapping", CALLS_MAPPING.replace(old, new), table=table)


def _renamed(header: list[str], old: str, new: str) -> list[str]:
    return [new if name == old else name for name in header]


GOOD_CALL = call_row("1")
GOOD_STREET = street_row("2021-01")
POLICE_LINE = ",".join(POLICE_HEADER).encode()
CALLS_LINE = ",".join(CALLS_HEADER).encode()
RAGGED_POLICE = [GOOD_STREET] + [GOOD_STREET[:5]] * 3
RAGGED_CALLS = [GOOD_CALL] + [[*GOOD_CALL, "extra"]] * 3

CASES = [
    Case("police missing column", "police-uk", _police([GOOD_STREET[:9] + GOOD_STREET[10:]],
                                                       POLICE_HEADER[:9] + POLICE_HEADER[10:]),
         ("bad-street.csv, line 1, column 'Crime type': required column 'Crime type' is missing",)),
    Case("police renamed column", "police-uk", _police([GOOD_STREET], _renamed(POLICE_HEADER, "Month", "Mnth")),
         ("column 'Month': required column 'Month' is missing; the file has 'Mnth' — was it renamed?",)),
    Case("police unparsable dates", "police-uk", _police([street_row("Jan 2021")] * 3),
         ("bad-street.csv, line 2, column 'Month': Month is not a YYYY-MM month", "3 of 3 rows failed")),
    Case("police unparsable coordinates", "police-uk", _police([street_row("2021-01", lon="1,5")] * 3),
         ("line 4, column 'Longitude': Longitude is not a number",)),
    Case("police wrong encoding", "police-uk",
         _raw("latin.csv", POLICE_LINE + b"\n" + ",".join(GOOD_STREET).encode() + b"\nx,2021-01,Jos\xe9\n"),
         ("latin.csv, line 3: byte 0xe9",)),
    Case("police truncated gzip", "police-uk", _truncated_gzip("cut.csv.gz", POLICE_HEADER, GOOD_STREET),
         ("cut.csv.gz, line", "truncated or corrupt")),
    Case("police empty file", "police-uk", _raw("empty.csv", b""), ("empty.csv, line 1: the file is empty",)),
    Case("police header only", "police-uk", _raw("header.csv", POLICE_LINE + b"\n"),
         ("header.csv, line 2: the file has a header row but no data rows",)),
    Case("police ragged rows", "police-uk", _police(RAGGED_POLICE),
         ("bad-street.csv, line 3: the row has 5 fields but the header has 12",)),
    Case("mapped missing column", "mapping",
         _calls([GOOD_CALL[:3] + GOOD_CALL[4:]], CALLS_HEADER[:3] + CALLS_HEADER[4:]),
         ("bad-calls.csv, line 1, column 'call_type': required column 'call_type' is missing",)),
    Case("mapped renamed column", "mapping", _calls([GOOD_CALL], _renamed(CALLS_HEADER, "received", "Received")),
         ("required column 'received' is missing; the file has 'Received' — was it renamed?",)),
    Case("mapped unparsable dates", "mapping", _calls([call_row("1", received="2024-13-45 10:00:00")] * 2),
         ("bad-calls.csv, line 3, column 'received': received is not a date in the format '%Y-%m-%d %H:%M:%S'",)),
    Case("mapped unparsable coordinates", "mapping", _calls([call_row("1", lat="53.4N")] * 2),
         ("line 2, column 'lat': lat is not a number from -90 to 90",)),
    Case("mapped wrong encoding", "mapping",
         _raw("latin.csv", CALLS_LINE + b"\n" + ",".join(GOOD_CALL).encode() + b"\n2,Jos\xe9\n"),
         ("latin.csv, line 3: byte 0xe9", "encoding: cp1252")),
    Case("mapped truncated gzip", "mapping", _truncated_gzip("cut.csv.gz", CALLS_HEADER, GOOD_CALL),
         ("cut.csv.gz, line", "truncated or corrupt")),
    Case("mapped empty file", "mapping", _raw("empty.csv", b""), ("empty.csv, line 1: the file is empty",)),
    Case("mapped header only", "mapping", _raw("header.csv", CALLS_LINE + b"\r\n"),
         ("header.csv, line 2: the file has a header row but no data rows",)),
    Case("mapped ragged rows", "mapping", _calls(RAGGED_CALLS),
         ("bad-calls.csv, line 3: the row has 11 fields but the header has 10",)),
    Case("mapping unknown key", "mapping", _calls([GOOD_CALL]),
         ("mapping.yaml has errors", "record_ld (line 6): unknown key; did you mean 'record_id'?"),
         _bad_mapping("record_id:", "record_ld:")),
    Case("mapping bad format string", "mapping", _calls([GOOD_CALL]),
         ("timestamps.arrived_at.formats (line 10): '%Y-%m-%d %H:%i' uses %i, which is not a date format",),
         _bad_mapping('arrived, formats: ["%Y-%m-%d %H:%M:%S"]', 'arrived, formats: ["%Y-%m-%d %H:%i"]')),
    Case("mapping missing table", "mapping", _calls([GOOD_CALL]),
         ("category.table (line 11): category table", "call-types.csv not found"),
         _bad_mapping("table: types.csv", "table: call-types.csv")),
    Case("mapping unknown category in table", "mapping", _calls([GOOD_CALL]),
         ("types.csv, line 3, column 'category': 'mental_illness' is not a Wholeplace category",),
         _bad_mapping("", "", CALLS_TABLE.replace("MH,mental_health", "MH,mental_illness"))),
    Case("mapping bad yaml", "mapping", _calls([GOOD_CALL]), ("mapping.yaml has errors", "line 7, column", "YAML"),
         _bad_mapping("record_id: {column: ref}", "record_id: {column: ref")),
]


def _adapter(case: Case, folder: Path) -> Adapter:
    return PoliceUkAdapter() if case.adapter == "police-uk" else MappedAdapter.from_file(case.mapping(folder))


def _snapshot(settings: Settings) -> tuple[dict[str, Any], set[str]]:
    report = provenance.status_report(stores=open_stores(settings))
    files = {str(p.relative_to(settings.data_dir)) for p in settings.data_dir.rglob("*") if p.is_file()}
    return report, files


def _load_good(stores: Stores, folder: Path) -> None:
    load_files(stores=stores, adapter=PoliceUkAdapter(), settings=stores.settings,
               paths=[write_street_file(folder / "good-street.csv", [GOOD_STREET] * 2)])
    load_files(stores=stores, adapter=MappedAdapter.from_file(write_mapping(folder / "mapping")),
               settings=stores.settings, paths=[write_calls_file(folder / "good-calls.csv", [GOOD_CALL] * 2)])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_is_refused_naming_where_and_changes_nothing(case: Case, stores: Stores, tmp_path: Path) -> None:
    _load_good(stores, tmp_path)
    before = _snapshot(stores.settings)
    bad = case.write(tmp_path)
    with pytest.raises(UserError) as caught:
        load_files(stores=stores, adapter=_adapter(case, tmp_path), paths=[bad], settings=stores.settings)
    message = str(caught.value)
    assert all(text in message for text in case.expected), message
    assert _snapshot(stores.settings) == before


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_cli_refuses_bad_input_with_exit_code_2(case: Case, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _load_good(open_stores(Settings(data_dir=data)), tmp_path)
    before = _snapshot(Settings(data_dir=data))
    bad = case.write(tmp_path)
    command = (["load", "police-uk"] if case.adapter == "police-uk" else
               ["load", "events", "--mapping", str(case.mapping(tmp_path))])
    result = runner.invoke(app, [*command, "--data-dir", str(data), str(bad)])
    assert result.exit_code == 2, result.output
    assert all(text in result.output for text in case.expected), result.output
    assert _snapshot(Settings(data_dir=data)) == before

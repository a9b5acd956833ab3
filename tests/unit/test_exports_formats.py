"""Download formats (wholeplace.web.exports): CSV with a BOM, XLSX as an Excel table, Parquet with typed columns."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pyarrow.parquet as pq
import pytest

from tests.support.places import Place, build_squares
from tests.support.web_client import AppClient, signed_in
from wholeplace.settings import Settings
from wholeplace.web.app import create_app
from wholeplace.web.exports import PARQUET, Download, Format, respond

NOTES = ["Disclosure control: Counts from 1 to 7 are hidden and shown as [REDACTED]", "Purpose: planning"]
COUNTS = Download("events-by-month", ["month", "partner_name", "events"],
                  [["2021-01", "Police", "1,235"], ["2021-02", "Police", "[REDACTED]"], ["2021-03", "Police", "0"],
                   ["Total", "", "1,235"]], NOTES)


def _parquet(download: Download):
    response = respond(download, "parquet")
    assert response.media_type == PARQUET
    assert response.headers["content-disposition"] == f'attachment; filename="{download.name}.parquet"'
    return pq.read_table(io.BytesIO(response.body))


def test_parquet_is_a_format():
    assert set(get_args(Format)) == {"csv", "xlsx", "pdf", "parquet"}


def test_parquet_has_the_header_as_columns_counts_as_integers_and_hidden_counts_null():
    table = _parquet(COUNTS)
    assert table.column_names == ["month", "partner_name", "events"]
    assert str(table.schema.field("events").type) == "int64" and str(table.schema.field("month").type) == "string"
    assert table.column("events").to_pylist() == [1235, None, 0, 1235]
    assert table.column("partner_name").to_pylist() == ["Police", "Police", "Police", ""]
    metadata = table.schema.metadata
    assert json.loads(metadata[b"notes"]) == NOTES and metadata[b"title"] == b"events-by-month"


def test_parquet_of_records_keeps_identifiers_as_text_and_mixed_columns_as_text():
    records = Download("d-records", ["token", "age", "when", "mixed"],
                       [["0123", 34, "2021-01-02", 1], ["4567", None, "2021-01-03", "two"]], ["Purpose: care"],
                       counts=False)
    table = _parquet(records)
    assert table.column("token").to_pylist() == ["0123", "4567"]  # never numbers: leading zeros kept
    assert table.column("age").to_pylist() == [34, None] and str(table.schema.field("age").type) == "int64"
    assert table.column("mixed").to_pylist() == ["1", "two"]


def test_parquet_of_an_empty_table_still_has_its_columns():
    table = _parquet(Download("empty", ["area_code", "events"], [], NOTES))
    assert table.num_rows == 0 and table.column_names == ["area_code", "events"]


def test_xlsx_is_an_excel_table_over_the_header_and_rows_with_the_notes_below():
    body = respond(COUNTS, "xlsx").body
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        tables = [name for name in book.namelist() if name.startswith("xl/tables/")]
        assert tables == ["xl/tables/table1.xml"]
        table = book.read(tables[0]).decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode()
    assert 'name="data"' in table and 'ref="A1:C5"' in table
    assert re.findall(r'<tableColumn id="\d+" name="([^"]+)"', table) == ["month", "partner_name", "events"]
    assert '<c r="C2"><v>1235</v></c>' in sheet  # a count is an Excel number
    assert "[REDACTED]" in strings and NOTES[0] in strings
    assert '<c r="A7" t="s">' in sheet  # the first note, one blank row below the table


def test_xlsx_table_columns_are_unique_and_an_empty_table_is_valid():
    repeated = Download("r", ["events", "events"], [["1", "2"]], [])
    with zipfile.ZipFile(io.BytesIO(respond(repeated, "xlsx").body)) as book:
        names = re.findall(r'<tableColumn id="\d+" name="([^"]+)"', book.read("xl/tables/table1.xml").decode())
    assert names == ["events", "events 2"]
    with zipfile.ZipFile(io.BytesIO(respond(Download("e", ["a"], [], []), "xlsx").body)) as book:
        assert 'ref="A1:A2"' in book.read("xl/tables/table1.xml").decode()


def test_csv_keeps_its_byte_order_mark_and_the_notes():
    text = respond(COUNTS, "csv").body.decode("utf-8")
    assert text.startswith("\ufeffmonth,partner_name,events\r\n") and '"1,235"' in text
    assert text.rstrip().endswith(NOTES[1])


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[AppClient]:
    place: Place = build_squares(settings, tmp_path)
    with signed_in(create_app(place.settings)) as opened:
        yield opened


def test_the_download_routes_serve_parquet(client: AppClient):
    response = client.get("/exports/areas.parquet?level=lsoa")
    assert response.status_code == 200 and response.headers["content-type"] == PARQUET
    table = pq.read_table(io.BytesIO(response.content))
    rows = dict(zip(table.column("area_code").to_pylist(), table.column("events").to_pylist(), strict=True))
    assert rows["E01000001"] is None and rows["E01000004"] == 0  # hidden, and a real zero
    assert b"opensafely rule" in table.schema.metadata[b"notes"]

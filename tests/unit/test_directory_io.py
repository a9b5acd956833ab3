"""Data packages and the spreadsheet template: bad rows are refused with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from wholeplace.directory.hsds_io import import_directory, read_datapackage
from wholeplace.directory.query import parse_query, service_page
from wholeplace.directory.template import read_template
from wholeplace.errors import InputError
from wholeplace.store.stores import Stores

HEADER = ("service_name,organization_name,charity_number,minimum_age,postcode,latitude,longitude,days,opens_at,"
          "closes_at,taxonomy_terms\n")


def test_template_rows_become_services(stores: Stores, tmp_path: Path):
    sheet = tmp_path / "services.csv"
    sheet.write_text(HEADER + "Lunch club,Age Friends,123456,60,PR1 1AA,53.76,-2.70,WE,12:00,14:00,Food;Company\n")
    import_directory(stores=stores, path=sheet)
    import_directory(stores=stores, path=sheet)  # stable ids: the same row replaces itself
    page = service_page(stores=stores, query=parse_query({"day": "WE", "postcode": "PR1 1AA", "proximity": "50"}))
    [service] = page["contents"]
    assert service["name"] == "Lunch club" and service["minimum_age"] == 60
    assert service["organization"]["organization_identifiers"][0]["identifier"] == "123456"
    assert {a["taxonomy_term"]["name"] for a in service["attributes"]} == {"Food", "Company"}


def test_template_problems_name_line_and_column(tmp_path: Path):
    sheet = tmp_path / "services.csv"
    sheet.write_text(HEADER + ",Age Friends,,sixty,,,,XX,,,\n")
    with pytest.raises(InputError) as caught:
        read_template(sheet)
    text = str(caught.value)
    assert "line 2, column 'service_name'" in text and "column 'minimum_age'" in text and "column 'days'" in text


def test_package_problems_name_file_line_and_column(tmp_path: Path):
    (tmp_path / "services.csv").write_text("id,name,status,minimum_age\na1,Club,active,ten\n,Other,active,3\n")
    with pytest.raises(InputError) as caught:
        read_datapackage(tmp_path)
    text = str(caught.value)
    assert "services.csv, line 2, column 'minimum_age'" in text and "line 3, column 'id'" in text

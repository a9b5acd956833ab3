"""Population, deprivation and official lookup files: column detection, quarantine, refusals, reloads."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from wholeplace.errors import InputError, UserError
from wholeplace.geography.context import load_deprivation, load_lookup, load_population
from wholeplace.store import Stores


def table(stores: Stores, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table(name))
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_population_columns_are_found_and_bad_rows_quarantined(stores: Stores, tmp_path: Path) -> None:
    csv = tmp_path / "pop.csv"
    csv.write_bytes(b"Year,LSOA Code,Population\r\n2020,E01000001,\"1,492\"\r\n2020,E01000002,lots\r\n"
                    b"2020,,10\r\n2020,E01000001,7\r\n2021,E01000001,1500\r\n2021,E01000002,900\r\n2021,E01000003,800\r\n")
    result = load_population(stores=stores, path=csv, level="lsoa")
    assert result.columns == {"code": "LSOA Code", "year": "Year", "population": "Population"}
    assert [(p.line, p.column) for p in result.quarantined] == [(3, "Population"), (4, "LSOA Code"), (5, "LSOA Code")]
    assert "repeats line 2" in result.quarantined[2].message
    stored = table(stores, "population").sort("year", "area_code")
    assert stored.select("area_code", "year", "population").rows()[:2] == [("E01000001", 2020, 1492.0),
                                                                             ("E01000001", 2021, 1500.0)]
    assert stored.height == 4


def test_reloading_population_is_idempotent_and_replaces_only_its_years(stores: Stores, tmp_path: Path) -> None:
    first = tmp_path / "2020.csv"
    first.write_text("Year,LSOA Code,Population\n2020,E01000001,100\n2020,E01000002,200\n")
    second = tmp_path / "2021.csv"
    second.write_text("Year,LSOA Code,Population\n2021,E01000001,110\n")
    load_population(stores=stores, path=first, level="lsoa")
    load_population(stores=stores, path=second, level="lsoa")
    again = load_population(stores=stores, path=first, level="lsoa")
    assert again.status == "unchanged"
    assert table(stores, "population").height == 3


def test_wrong_header_is_refused_naming_file_and_columns(stores: Stores, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("when,where,how many\n2020,E01000001,5\n")
    with pytest.raises(InputError) as caught:
        load_population(stores=stores, path=csv, level="lsoa")
    problem = caught.value.problems[0]
    assert problem.file == str(csv) and problem.line == 1
    assert "the columns are: when, where, how many" in problem.message


def test_a_mostly_bad_file_is_refused_whole(stores: Stores, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("Year,LSOA Code,Population\nx,E01000001,5\ny,E01000002,6\n2020,E01000003,7\n")
    with pytest.raises(InputError, match="refused whole"):
        load_population(stores=stores, path=csv, level="lsoa")
    assert table(stores, "population").height == 0


def test_deprivation_picks_the_overall_index_columns(stores: Stores, tmp_path: Path) -> None:
    csv = tmp_path / "imd.csv"
    csv.write_text("LSOA code (2011),Local Authority District code (2019),Index of Multiple Deprivation (IMD) Rank,"
                   "Index of Multiple Deprivation (IMD) Decile,Income Rank\n"
                   "E01000001,E09000001,29199,9,1\nE01000002,E09000001,30379,11,2\n")
    result = load_deprivation(stores=stores, path=csv, level="lsoa")
    assert result.columns["code"] == "LSOA code (2011)"
    assert result.columns["rank"] == "Index of Multiple Deprivation (IMD) Rank"
    assert [(p.line, p.column) for p in result.quarantined] == [(3, "Index of Multiple Deprivation (IMD) Decile")]
    assert table(stores, "deprivation").select("area_code", "index", "rank", "decile").rows() == [
        ("E01000001", "imd", 29199, 9)]


def test_official_lookup_is_stored_and_conflicts_quarantined(stores: Stores, tmp_path: Path) -> None:
    csv = tmp_path / "lookup.csv"
    csv.write_text("LSOA11CD,MSOA11CD,LAD19CD\nE01000001,E02000001,E07000001\nE01000002,E02000001,E07000001\n"
                   "E01000003,E02000002,E07000001\nE01000004,E02000002,E07000001\nE01000005,E02000002,E07000002\n"
                   "E01000006,E02000003,E07000002\nE01000007,E02000004,E07000002\nE01000008,E02000004,E07000002\n")
    result = load_lookup(stores=stores, path=csv, from_level="msoa", to_level="lad",
                         from_column="MSOA11CD", to_column="LAD19CD")
    assert [p.line for p in result.quarantined] == [4, 5, 6]
    assert "E07000001 and E07000002" in result.quarantined[0].message
    stored = table(stores, "area_lookups")
    assert stored.sort("from_code").select("from_code", "to_code", "weight", "method").rows() == [
        ("E02000001", "E07000001", 1.0, "official"), ("E02000003", "E07000002", 1.0, "official"),
        ("E02000004", "E07000002", 1.0, "official")]


def test_lookup_needs_two_levels(stores: Stores, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="two different levels"):
        load_lookup(stores=stores, path=tmp_path / "x.csv", from_level="lsoa", to_level="lsoa",
                    from_column="a", to_column="b")

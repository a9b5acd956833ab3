"""Rural-urban classification files: the 2011 and 2021 ONS layouts, plain flags, quarantine,
refusals, reloads, the command, and the demo place's classification."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from wholeplace.cli import app
from wholeplace.demand.response import response_report
from wholeplace.errors import InputError
from wholeplace.geography.context import load_rural_urban
from wholeplace.geography.context_files import RUC11
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores
from wholeplace.synth.demo import build_demo
from wholeplace.synth.files import write_rural_urban
from wholeplace.synth.generate import POLICE_CALLS
from wholeplace.synth.place import build_place

SEED = 20260101
RUC11_FILE = ("LSOA11CD,LSOA11NM,RUC11CD,RUC11\n"
              "E01000001,Town 001A,A1,Urban major conurbation\n"
              "E01000002,Town 001B,C2,Urban city and town in a sparse setting\n"
              "E01000003,Town 001C,D1,Rural town and fringe\n"
              "E01000004,Town 001D,E2,Rural village and dispersed in a sparse setting\n")
RUC21_FILE = ("LSOA21CD,LSOA21NM,LSOA21NMW,RUC21CD,RUC21NM,Urban_rural_flag\n"
              "W01000001,Ynys 001A,Ynys 001A,UN1,Urban: Nearer to a major town or city,Urban\n"
              "W01000002,Ynys 001B,Ynys 001B,UF1,Urban: Further from a major town or city,Urban\n"
              "W01000003,Ynys 001C,Ynys 001C,RLN1,Larger rural: Nearer to a major town or city,Rural\n"
              "W01000004,Ynys 001D,Ynys 001D,RSF1,Smaller rural: Further from a major town or city,Rural\n")


def table(stores: Stores) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table("rural_urban"))
    assert isinstance(frame, pl.DataFrame)
    return frame.sort("level", "area_code")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_2011_classification_is_read_with_its_names_and_letters_d_and_e_are_rural(
        stores: Stores, tmp_path: Path) -> None:
    result = load_rural_urban(stores=stores, path=write(tmp_path, "ruc11.csv", RUC11_FILE), level="lsoa")
    assert result.columns == {"code": "LSOA11CD", "class": "RUC11CD", "name": "RUC11"}
    assert (result.rows_read, result.rows_stored, result.quarantined) == (4, 4, [])
    assert result.notes[0] == "2 rural and 2 urban areas"
    assert table(stores).rows() == [
        ("lsoa", "E01000001", "A1", "Urban major conurbation", False),
        ("lsoa", "E01000002", "C2", "Urban city and town in a sparse setting", False),
        ("lsoa", "E01000003", "D1", "Rural town and fringe", True),
        ("lsoa", "E01000004", "E2", "Rural village and dispersed in a sparse setting", True)]
    # The DuckDB view reads the same table.
    assert stores.connect().execute("SELECT count(*) FILTER (WHERE rural) FROM rural_urban").fetchone() == (2,)


def test_the_2021_classification_uses_its_codes_not_the_flag_and_r_is_rural(stores: Stores, tmp_path: Path) -> None:
    text = RUC21_FILE + "W01000005,Ynys 001E,Ynys 001E,RSN2,,Rural\n"  # a code outside the six, no name
    result = load_rural_urban(stores=stores, path=write(tmp_path, "ruc21.csv", text), level="lsoa")
    assert result.columns == {"code": "LSOA21CD", "class": "RUC21CD", "name": "RUC21NM"}
    assert table(stores).select("classification_code", "classification_name", "rural").rows() == [
        ("UN1", "Urban: Nearer to a major town or city", False),
        ("UF1", "Urban: Further from a major town or city", False),
        ("RLN1", "Larger rural: Nearer to a major town or city", True),
        ("RSF1", "Smaller rural: Further from a major town or city", True),
        ("RSN2", "Rural", True)]


def test_official_names_fill_in_when_the_file_has_only_codes(stores: Stores, tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", "lsoa code,ruc11cd\nE01000001, c1 \nE01000002,UF1\n")
    load_rural_urban(stores=stores, path=path, level="lsoa")
    assert table(stores).select("classification_code", "classification_name").rows() == [
        ("C1", RUC11["C1"]), ("UF1", "Urban: Further from a major town or city")]


def test_a_plain_rural_flag_is_accepted_without_a_code(stores: Stores, tmp_path: Path) -> None:
    path = write(tmp_path, "flag.csv", "MSOA code,Rural\nE02000001,yes\nE02000002,No\nE02000003,1\nE02000004,urban\n")
    result = load_rural_urban(stores=stores, path=path, level="msoa")
    assert result.columns == {"code": "MSOA code", "class": "Rural"}
    assert table(stores).select("area_code", "classification_code", "classification_name", "rural").rows() == [
        ("E02000001", None, "Rural", True), ("E02000002", None, "Urban", False),
        ("E02000003", None, "Rural", True), ("E02000004", None, "Urban", False)]


def test_bad_rows_are_quarantined_naming_line_column_and_the_valid_codes(stores: Stores, tmp_path: Path) -> None:
    text = RUC11_FILE + "E01000005,Town 001E,F1,Nowhere\nE01000006,Town 001F,,\nE01000003,Town 001C,D1,x\n"
    result = load_rural_urban(stores=stores, path=write(tmp_path, "ruc11.csv", text), level="lsoa")
    assert [(p.line, p.column) for p in result.quarantined] == [(6, "RUC11CD"), (7, "RUC11CD"), (8, "LSOA11CD")]
    unknown = str(result.quarantined[0])
    assert unknown.startswith(f"{tmp_path / 'ruc11.csv'}, line 6, column 'RUC11CD': 'F1' is not a rural-urban")
    assert "A1, B1, C1, C2, D1, D2, E1, E2" in unknown and "starting U (urban) or R (rural)" in unknown
    assert "RUC11CD is blank" in result.quarantined[1].message
    assert "repeats line 4" in result.quarantined[2].message
    assert table(stores)["area_code"].to_list() == ["E01000001", "E01000002", "E01000003", "E01000004"]


def test_a_mostly_bad_file_is_refused_whole_and_changes_nothing(stores: Stores, tmp_path: Path) -> None:
    load_rural_urban(stores=stores, path=write(tmp_path, "good.csv", RUC11_FILE), level="lsoa")
    bad = write(tmp_path, "bad.csv", "LSOA11CD,RUC11CD\nE01000001,Z1\nE01000002,Z2\nE01000003,C1\n")
    with pytest.raises(InputError, match="refused whole"):
        load_rural_urban(stores=stores, path=bad, level="lsoa")
    assert table(stores).height == 4


def test_a_header_without_a_classification_is_refused_naming_file_and_columns(stores: Stores, tmp_path: Path) -> None:
    path = write(tmp_path, "wrong.csv", "LSOA11CD,Population\nE01000001,1500\n")
    with pytest.raises(InputError) as caught:
        load_rural_urban(stores=stores, path=path, level="lsoa")
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == (str(path), 1)
    assert "no column looks like the rural-urban classification; the columns are: LSOA11CD, Population" in (
        problem.message)


def test_columns_can_be_named_when_their_headers_do_not_say(stores: Stores, tmp_path: Path) -> None:
    path = write(tmp_path, "own.csv", "area,setting\nE01000001,E1\nE01000002,B1\n")
    result = load_rural_urban(stores=stores, path=path, level="lsoa", code_column="area", class_column="setting")
    assert result.columns == {"code": "area", "class": "setting"}
    assert table(stores).select("area_code", "rural").rows() == [("E01000001", True), ("E01000002", False)]


def test_a_reload_replaces_its_level_only_and_the_same_file_changes_nothing(stores: Stores, tmp_path: Path) -> None:
    first = write(tmp_path, "ruc11.csv", RUC11_FILE)
    load_rural_urban(stores=stores, path=first, level="lsoa")
    load_rural_urban(stores=stores, path=write(tmp_path, "msoa.csv", "MSOA11CD,RUC11CD\nE02000001,D1\n"), level="msoa")
    assert load_rural_urban(stores=stores, path=first, level="lsoa").status == "unchanged"
    newer = write(tmp_path, "ruc11-revised.csv", "LSOA11CD,RUC11CD\nE01000001,E1\nE01000009,C1\n")
    assert load_rural_urban(stores=stores, path=newer, level="lsoa").status == "stored"
    assert table(stores).select("level", "area_code", "classification_code").rows() == [
        ("lsoa", "E01000001", "E1"), ("lsoa", "E01000009", "C1"), ("msoa", "E02000001", "D1")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.sampled_from(["A1", "c2", "E1", "UN1", "rsf1", "yes", "no", "F1", "", "Q9", "maybe"]),
                       min_size=1, max_size=30))
def test_every_row_is_stored_or_quarantined(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    folder = tmp_path_factory.mktemp("ruc")
    path = write(folder, "ruc.csv", "LSOA11CD,RUC11CD\n" + "".join(f"E01{i:06d},{v}\n" for i, v in enumerate(values)))
    stores = open_stores(Settings(data_dir=folder / "data", partnership_key_file=None,
                                  max_quarantine_share=1.0))
    try:
        if all(v in {"F1", "", "Q9", "maybe"} for v in values):
            with pytest.raises(InputError):
                load_rural_urban(stores=stores, path=path, level="lsoa")
            return
        result = load_rural_urban(stores=stores, path=path, level="lsoa")
        assert result.rows_stored + len(result.quarantined) == len(values)
        stored = table(stores)
        assert stored.height == result.rows_stored
        rural = {f"E01{i:06d}" for i, v in enumerate(values) if v.upper() in {"E1", "RSF1", "YES"}}
        assert set(stored.filter("rural")["area_code"]) == rural
    finally:
        stores.close()


def test_the_command_loads_a_file_and_names_its_columns(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "own.csv", "area,setting\nE01000001,RLF1\n")
    result = CliRunner().invoke(app, ["load", "rural-urban", str(path), "--level", "lsoa", "--code-column", "area",
                                      "--class-column", "setting", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    assert "stored 1 as rural_urban" in result.output
    stores = open_stores(settings)
    try:
        assert table(stores).select("area_code", "rural").rows() == [("E01000001", True)]
    finally:
        stores.close()
    refused = CliRunner().invoke(app, ["load", "rural-urban", str(path), "--level", "lsoa",
                                       "--data-dir", str(settings.data_dir)])
    assert refused.exit_code != 0
    assert "no column looks like the area code" in refused.output


def test_the_demo_place_classifies_every_small_area_as_it_planted(stores: Stores, tmp_path: Path) -> None:
    place = build_place(SEED, (2023, 2024))
    path = write_rural_urban(place, tmp_path / "rural-urban.csv")
    assert pl.read_csv(path).columns == ["LSOA21CD", "LSOA21NM", "RUC11CD", "RUC11"]
    result = load_rural_urban(stores=stores, path=path, level="lsoa")
    assert result.quarantined == []
    stored = table(stores)
    planted = place.areas.select(pl.col("code").alias("area_code"), pl.col("rural").alias("planted"))
    joined = planted.join(stored, on="area_code", how="left")
    assert joined["rural"].null_count() == 0  # every small area is classified
    assert (joined["rural"] == joined["planted"]).all()
    codes = dict(joined.group_by("classification_code").len().iter_rows())
    assert set(codes) == {"C1", "D1", "E1"}
    assert codes["D1"] + codes["E1"] == int(place.areas["rural"].sum())


def test_the_demo_loads_the_classification_and_response_times_use_it(tmp_path: Path) -> None:
    demo = build_demo(settings=Settings(data_dir=tmp_path / "data", partnership_key_file=None), seed=SEED,
                      scale=0.01)
    stores = open_stores(demo.settings)
    try:
        areas = stores.connect().execute(
            "SELECT count(*), count(r.area_code) FROM areas a LEFT JOIN rural_urban r "
            "ON r.level = a.level AND r.area_code = a.code WHERE a.level = 'lsoa'").fetchone()
        assert areas is not None and areas[0] == areas[1] > 0  # every small area is classified
        report = response_report(stores=stores, datasets=[POLICE_CALLS], level="lsoa")
        emergency = {r["urban_rural"]: r for r in report.emergency.to_dicts()}
        assert set(emergency) == {"urban", "rural"}
        assert (emergency["urban"]["target_minutes"], emergency["rural"]["target_minutes"]) == (15, 20)
    finally:
        stores.close()

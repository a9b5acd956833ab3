"""Loading data.police.uk files: atomic, repeatable, month replacement — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.police_files import street_row, write_street_file
from wholeplace import provenance
from wholeplace.errors import InputError
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.store import Stores


def _load(stores: Stores, *paths: Path):
    return load_files(stores=stores, adapter=PoliceUkAdapter(), paths=list(paths), settings=stores.settings)


def _count(stores: Stores) -> int:
    return stores.connect().execute("SELECT count(*) FROM events").fetchone()[0]


def test_identical_asb_rows_are_separate_incidents(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    asb = street_row("2021-01", "Anti-social behaviour")
    path = write_street_file(tmp_path / "2021-01-test-street.csv", [asb, asb, asb, street_row("2021-01")])
    [result] = _load(stores_on_each_engine, path)
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (4, 4, 0)
    kinds = stores_on_each_engine.connect().execute(
        "SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind").fetchall()
    assert kinds == [("anti_social_behaviour", 3), ("crime", 1)]


def test_reloading_the_same_files_changes_nothing(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    jan = write_street_file(tmp_path / "jan.csv.gz", [street_row("2021-01")] * 5, gzipped=True)
    feb = write_street_file(tmp_path / "feb.csv", [street_row("2021-02")] * 3)
    _load(stores_on_each_engine, jan, feb)
    before = provenance.status_report(stores=stores_on_each_engine)
    results = _load(stores_on_each_engine, jan, feb)
    assert [r.status for r in results] == ["unchanged", "unchanged"]
    assert provenance.status_report(stores=stores_on_each_engine) == before
    assert _count(stores_on_each_engine) == 8


def test_a_republished_month_replaces_that_forces_month(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    _load(stores_on_each_engine, write_street_file(tmp_path / "a.csv", [street_row("2021-01")] * 5))
    _load(stores_on_each_engine, write_street_file(tmp_path / "b.csv", [street_row("2021-02")] * 2))
    _load(stores_on_each_engine, write_street_file(tmp_path / "c.csv", [street_row("2021-01")] * 7))
    assert _count(stores_on_each_engine) == 9
    loads = provenance.list_loads(stores=stores_on_each_engine, include_inactive=True)
    assert sorted((load["file"], load["status"]) for load in loads) == [
        ("a.csv", "superseded"), ("b.csv", "active"), ("c.csv", "active")]
    other_force = street_row("2021-01", force="Other Police")
    _load(stores_on_each_engine, write_street_file(tmp_path / "d.csv", [other_force]))
    assert _count(stores_on_each_engine) == 10


def test_a_refused_file_leaves_the_store_unchanged(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    good = write_street_file(tmp_path / "good.csv", [street_row("2021-01")] * 3)
    _load(stores_on_each_engine, good)
    before = provenance.status_report(stores=stores_on_each_engine)
    files_before = sorted(p.name for p in stores_on_each_engine.settings.data_dir.rglob("*.parquet"))
    also_good = write_street_file(tmp_path / "also.csv", [street_row("2021-03")] * 3)
    broken = tmp_path / "broken.csv"
    broken.write_text("Month,Crime type\n2021-02,Burglary\n")
    with pytest.raises(InputError, match="Falls within"):
        _load(stores_on_each_engine, also_good, broken)
    assert provenance.status_report(stores=stores_on_each_engine) == before
    assert sorted(p.name for p in stores_on_each_engine.settings.data_dir.rglob("*.parquet")) == files_before
    failed = [x for x in provenance.list_loads(stores=stores_on_each_engine, include_inactive=True)
              if x["status"] == "failed"]
    assert [x["file"] for x in failed] == ["broken.csv"]
    assert "Falls within" in failed[0]["message"]


def test_bad_rows_are_quarantined_with_line_and_column(stores: Stores, tmp_path: Path) -> None:
    rows = [street_row("2021-01")] * 8 + [street_row("2021-13"), street_row("2021-01", lon="west")]
    [result] = _load(stores, write_street_file(tmp_path / "x.csv", rows))
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (10, 8, 2)
    quarantined, total = provenance.list_quarantine(stores=stores)
    assert total == 2
    assert [(q["line"], q["column"]) for q in quarantined] == [(10, "Month"), (11, "Longitude")]
    assert "YYYY-MM" in quarantined[0]["reason"]


def test_unlocated_rows_are_stored_as_unlocated(stores: Stores, tmp_path: Path) -> None:
    rows = [street_row("2021-01", lon="", lat="", lsoa="")] * 2 + [street_row("2021-01")]
    [result] = _load(stores, write_street_file(tmp_path / "x.csv", rows))
    assert result.rows_unlocated == 2
    statuses = stores.connect().execute(
        "SELECT place_status, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall()
    assert statuses == [("out_of_area", 1), ("unlocated", 2)]

"""The stores themselves: visibility of staged segments, orphan removal, the Ibis view."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from tests.support.police_files import street_row, write_street_file
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.model.events import QUARANTINE_SCHEMA
from wholeplace.store import Stores


def _load(stores: Stores, path: Path) -> None:
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=[path], settings=stores.settings)


def test_a_segment_is_invisible_until_its_load_commits_and_orphans_are_removed(stores: Stores, tmp_path: Path) -> None:
    _load(stores, write_street_file(tmp_path / "a.csv", [street_row("2021-01")] * 2))
    orphan = stores.analytic.write_segment("quarantine", "x", QUARANTINE_SCHEMA.empty_table())
    stray = pa.table({"dataset": ["x"], "load_id": ["y"], "file": ["f"], "line": [1], "column": [None],
                      "reason": ["r"], "record": ["{}"]})
    orphan_with_rows = stores.analytic.write_segment("quarantine", "x", stray)
    assert stores.connect().execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert stores.remove_orphans() == 2
    assert not orphan.exists() and not orphan_with_rows.exists()
    assert stores.connect().execute("SELECT count(*) FROM events").fetchone() == (2,)


def test_ibis_reads_the_same_snapshot_as_duckdb(stores: Stores, tmp_path: Path) -> None:
    rows = [street_row("2021-01")] * 3 + [street_row("2021-02", "Anti-social behaviour")] * 2
    _load(stores, write_street_file(tmp_path / "a.csv", rows))
    events = stores.ibis().table("events")
    by_kind = events.group_by("kind").aggregate(n=events.count()).order_by("kind").to_pyarrow().to_pylist()
    assert by_kind == [{"kind": "anti_social_behaviour", "n": 2}, {"kind": "crime", "n": 3}]
    sql = stores.connect().execute("SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall()
    assert sql == [(r["kind"], r["n"]) for r in by_kind]


def test_event_ids_are_stable_across_reloads(stores: Stores, tmp_path: Path) -> None:
    path = write_street_file(tmp_path / "a.csv", [street_row("2021-01")] * 3)
    _load(stores, path)
    first = stores.connect().execute("SELECT event_id FROM events ORDER BY event_id").fetchall()
    path.write_text(path.read_text() + ",2021-01,Test Constabulary,Test Constabulary,,,,,,Drugs,,\n")
    _load(stores, path)
    second = stores.connect().execute("SELECT event_id FROM events ORDER BY event_id").fetchall()
    assert set(first) < set(second) and len(second) == 4

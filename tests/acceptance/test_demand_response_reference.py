"""Response times on the real Seattle and San Diego extracts: every call counted in exactly one of
valid, invalid or censored, the totals adding up to the rows loaded and to the figures in the
data's PROVENANCE.md."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.conftest import require_shared
from wholeplace.demand.response import classify_timelines, response_report
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import load_files
from wholeplace.store import Stores

pytestmark = pytest.mark.shared

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "wholeplace" / "mappings"
SEATTLE = ["data/cfs-seattle-sample/spd_call_data_eastC_2010-2023_subset.csv",
           "data/cfs-seattle-sample/spd_call_data_eastC_2018-2023_subset.csv"]
SAN_DIEGO = "data/cfs-san-diego-2023-01/pd_calls_for_service_2023-01-01_to_2023-01-22.csv.gz"


def _load(stores: Stores, mapping: str, paths: list[Path]) -> int:
    adapter = MappedAdapter.from_file(MAPPINGS / mapping / "mapping.yaml")
    results = load_files(stores=stores, adapter=adapter, paths=paths, settings=stores.settings)
    return sum(r.rows_stored for r in results)


def test_every_seattle_call_is_valid_invalid_or_censored_and_the_totals_match_provenance(stores: Stores) -> None:
    loaded = _load(stores, "seattle-cfs", [require_shared(p) for p in SEATTLE])
    assert loaded == 497  # 275 + 222 rows (PROVENANCE.md)
    report = response_report(stores=stores, datasets=["seattle-cfs"])
    counts = {s: report.status_count(s) for s in ("valid", "invalid", "censored")}
    assert report.incidents == sum(counts.values()) == loaded
    assert counts == {"valid": 395, "invalid": 0, "censored": 102}  # "102 rows missing Arrived Time"
    assert report.statuses.filter(pl.col("status") == "censored")["reason"].to_list() == [
        "no end time (neither arrived nor closed)"]
    response = report.segments.filter((pl.col("breakdown") == "all") & (pl.col("segment") == "call_to_arrival"))
    assert response["median_minutes"].item() == pytest.approx(18, abs=0.5)  # "queued->arrived median 18 min"
    classified = classify_timelines(stores=stores, datasets=["seattle-cfs"])
    assert classified["call_to_arrival"].max() / 60 == pytest.approx(13, abs=0.25)  # "max 13 h": valid, not absurd
    on_view = classified.filter(pl.col("flag_self_initiated"))
    assert on_view.height > 0 and (on_view["call_to_arrival"].drop_nulls() < 1).all()  # "on-view: 0 min"
    assert report.counts["regraded"] == "not available"
    assert int(report.counts["recategorised"]) > 0


def test_san_diego_calls_have_only_a_creation_time_so_every_one_is_censored(stores: Stores) -> None:
    loaded = _load(stores, "san-diego-cfs", [require_shared(SAN_DIEGO)])
    assert loaded == 28_951  # 28,970 rows, 19 quarantined (PROVENANCE.md; no call type)
    report = response_report(stores=stores, datasets=["san-diego-cfs"])
    assert report.incidents == report.status_count("censored") == loaded
    assert report.segments.is_empty() or report.segments["incidents"].sum() == 0

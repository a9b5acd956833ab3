"""The shipped San Diego and Seattle mappings on the real published extracts, against the
figures in their PROVENANCE.md files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.conftest import require_shared
from wholeplace import provenance
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import LoadResult, load_files
from wholeplace.store import Stores

pytestmark = pytest.mark.shared

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "wholeplace" / "mappings"
SAN_DIEGO = "data/cfs-san-diego-2023-01/pd_calls_for_service_2023-01-01_to_2023-01-22.csv.gz"
SEATTLE = ["data/cfs-seattle-sample/spd_call_data_eastC_2010-2023_subset.csv",
           "data/cfs-seattle-sample/spd_call_data_eastC_2018-2023_subset.csv"]
OFFICER_ACTIVITY = ("SELENF", "T", "MPSSTP", "MTG", "1186", "FU")  # named as such in PROVENANCE.md
WELFARE_CODES = ("CW", "5150", "5150V", "647F", "MP", "MS", "MJ")


def _load(stores: Stores, mapping: str, paths: list[Path]) -> list[LoadResult]:
    adapter = MappedAdapter.from_file(MAPPINGS / mapping / "mapping.yaml")
    return load_files(stores=stores, adapter=adapter, paths=paths, settings=stores.settings)


def _scalar(stores: Stores, sql: str) -> object:
    row = stores.connect().execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_san_diego_calls_are_all_stored_or_quarantined_and_match_provenance(stores: Stores) -> None:
    path = require_shared(SAN_DIEGO)
    [result] = _load(stores, "san-diego-cfs", [path])
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (28_970, 28_951, 19)
    # The 19 rows without a call type are cancelled calls (disposition W); they have no category.
    assert result.reasons == [("call_type is blank, so the row has no category", 19, [2636, 4118, 4271, 4324, 4443])]
    assert result.rows_unlocated == 439  # beat -1
    counts = dict(stores.connect().execute(
        "SELECT source_category, count(*) FROM events WHERE source_category IN ? GROUP BY 1",
        [list(WELFARE_CODES)]).fetchall())
    assert (counts["CW"], counts["5150"]) == (1_238, 640)
    assert round(sum(counts.values()) / 28_970, 3) == 0.078  # "~7.8% of calls in these codes"
    assert _scalar(stores, "SELECT count(*) FROM events WHERE category = 'concern_for_welfare' "
                           "AND source_category = 'CW'") == 1_238
    assert _scalar(stores, "SELECT count(*) FROM events WHERE flag_mental_health "
                           "AND source_category IN ('5150', '5150V')") == 787


def test_san_diego_officer_activity_is_flagged_self_initiated(stores: Stores) -> None:
    path = require_shared(SAN_DIEGO)
    _load(stores, "san-diego-cfs", [path])
    raw = pl.read_csv(path, infer_schema=False)
    named = raw.filter(pl.col("call_type").is_in(OFFICER_ACTIVITY)).height
    flagged = stores.connect().execute(
        "SELECT count(*) FILTER (WHERE flag_self_initiated AND source_category IN ?), "
        "count(*) FILTER (WHERE flag_self_initiated AND source_category IN ('CW', '5150', '415', '911')), "
        "avg(flag_self_initiated::INT) FROM events", [list(OFFICER_ACTIVITY)]).fetchone()
    assert flagged is not None
    assert (flagged[0], flagged[1]) == (named, 0)
    assert 0.30 < flagged[2] < 0.32  # officer-initiated and administrative activity: 30.9% of stored calls


def test_seattle_calls_give_the_published_response_times(stores: Stores) -> None:
    paths = [require_shared(p) for p in SEATTLE]
    results = _load(stores, "seattle-cfs", paths)
    assert [(r.rows_read, r.rows_stored, r.rows_quarantined) for r in results] == [(275, 275, 0), (222, 222, 0)]
    minutes = stores.connect().execute(
        "SELECT median(date_diff('second', received_at, arrived_at)) / 60, "
        "max(date_diff('second', received_at, arrived_at)) / 3600, count(*) FILTER (WHERE arrived_at IS NULL), "
        "count(*) FILTER (WHERE category_opening <> category_closing) FROM events").fetchone()
    assert minutes is not None
    assert minutes[0] == pytest.approx(18, abs=0.5)  # "queued->arrived median 18 min, max 13 h"
    assert minutes[1] == pytest.approx(13, abs=0.25)
    assert minutes[2] == 102  # "102 rows missing Arrived Time"
    assert minutes[3] > 0
    assert _scalar(stores, "SELECT count(*) FROM events WHERE location_status = 'point'") == 497


def test_reloading_the_shipped_extracts_changes_nothing(stores: Stores) -> None:
    san_diego, seattle = require_shared(SAN_DIEGO), [require_shared(p) for p in SEATTLE]
    _load(stores, "san-diego-cfs", [san_diego])
    _load(stores, "seattle-cfs", seattle)
    before = provenance.status_report(stores=stores)
    again = _load(stores, "san-diego-cfs", [san_diego]) + _load(stores, "seattle-cfs", seattle)
    assert [r.status for r in again] == ["unchanged"] * 3
    assert provenance.status_report(stores=stores) == before
    assert _scalar(stores, "SELECT count(*) FROM events") == 28_951 + 497

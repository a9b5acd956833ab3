"""The geography of Lancashire on real public data: four boundary levels, population, IMD and
20 months of data.police.uk street crime, against the counts published with the data."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from tests.conftest import require_shared
from wholeplace import provenance
from wholeplace.geography.aggregate import aggregate_events
from wholeplace.geography.boundaries import load_boundaries
from wholeplace.geography.context import load_deprivation, load_population
from wholeplace.ingest.pipeline import LoadResult, load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

pytestmark = pytest.mark.shared

LEVELS = {"lsoa": "lsoa2011_lancashire", "msoa": "msoa2011_lancashire", "ward": "wards2013_lancashire",
          "lad": "lad_lancashire_dissolved_from_lsoa2011"}


def load_everything(stores: Stores, settings: Settings) -> dict[str, Any]:
    boundaries = require_shared("data/boundaries-lancashire")
    data = require_shared("data")
    results: dict[str, Any] = {"boundaries": [
        load_boundaries(stores=stores, path=boundaries / f"{file}.geojson", level=level,
                        hierarchy="electoral" if level == "ward" else None) for level, file in LEVELS.items()]}
    population = data / "population-lsoa-lancashire/lancashire_lsoa11_population_2014_2020.csv"
    results["population"] = load_population(stores=stores, path=population, level="lsoa")
    results["deprivation"] = load_deprivation(
        stores=stores, path=data / "imd2019/imd2019_lsoa11_england_file1.csv", level="lsoa")
    files = sorted((data / "police-uk-lancashire-street/street").glob("*.csv.gz"))
    results["police"] = load_files(stores=stores, adapter=PoliceUkAdapter(), paths=files, settings=settings)
    return results


@pytest.fixture(scope="module")
def lancashire(tmp_path_factory: pytest.TempPathFactory) -> tuple[Stores, Settings, dict[str, Any]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("lancashire") / "data", partnership_key_file=None)
    stores = open_stores(settings)
    return stores, settings, load_everything(stores, settings)


def test_every_row_is_stored_or_quarantined(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    _, _, results = lancashire
    police: list[LoadResult] = results["police"]
    assert len(police) == 20
    assert sum(r.rows_read for r in police) == 352_694
    assert sum(r.rows_stored + r.rows_quarantined for r in police) == 352_694
    assert sum(r.rows_unlocated for r in police) == 23_289


def test_computed_lsoas_agree_with_supplied_codes(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    stores, _, results = lancashire
    checks = [r.area_check for r in results["police"]]
    compared, agree = sum(c["rows_compared"] for c in checks), sum(c["rows_agree"] for c in checks)
    assert {c["level"] for c in checks} == {"lsoa"}
    assert agree / compared >= 0.96
    listed, total = provenance.list_area_disagreements(stores=stores, limit=20)
    assert total == compared - agree
    assert len(listed) == 20
    assert all(row["computed_area_code"] != row["source_area_code"] for row in listed)


def test_levels_nest_where_they_should(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    stores, _, _ = lancashire
    parents = {row["level"]: row["parent_level"] for row in provenance.list_levels(stores=stores)}
    assert parents == {"lsoa": "msoa", "msoa": "lad", "ward": "lad", "lad": None}
    lookups = _table(stores, "area_lookups")
    msoa_lad = lookups.filter((pl.col("from_level") == "msoa") & (pl.col("to_level") == "lad"))
    assert msoa_lad["method"].unique().to_list() == ["nested"] and msoa_lad.height == 191


def test_wards_and_msoas_are_linked_by_weights(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    stores, _, _ = lancashire
    lookups = _table(stores, "area_lookups")
    for source, target in (("ward", "msoa"), ("msoa", "ward")):
        pair = lookups.filter((pl.col("from_level") == source) & (pl.col("to_level") == target))
        assert set(pair["method"].unique()) == {"area-weighted", "population-weighted"}
        for method in ("area-weighted", "population-weighted"):
            sums = pair.filter(pl.col("method") == method).group_by("from_code").agg(pl.col("weight").sum())
            assert sums.height == {"ward": 302, "msoa": 191}[source]
            assert sums["weight"].min() > 0.99 and sums["weight"].max() < 1.000001  # type: ignore[operator]


def test_context_tables_match_their_published_counts(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    stores, _, results = lancashire
    assert results["population"].rows_stored == 6_587 and not results["population"].quarantined
    con = stores.connect()
    assert con.execute("SELECT sum(population) FROM population WHERE year = 2020").fetchone() == (1_515_487.0,)
    in_lancashire = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE decile = 1) FROM deprivation d "
        "JOIN areas a ON a.level = 'lsoa' AND a.code = d.area_code").fetchone()
    assert in_lancashire == (941, 186)


def test_aggregates_account_for_every_placed_event(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    stores, _, _ = lancashire
    con = stores.connect()
    placed = con.execute("SELECT count(*) FROM events WHERE place_status = 'placed'").fetchone()[0]  # type: ignore[index]
    for level, areas in (("ward", 302), ("lad", 14)):
        result = aggregate_events(con=con, level=level)
        assert result.frame["area_code"].n_unique() == areas
        assert result.frame["events"].sum() + result.method["not_counted"]["outside_level"] == placed
        assert result.method["not_counted"]["unlocated"] == 23_289
        assert result.method["counted"]["point_in_polygon"] == result.frame["events"].sum()


def test_reloading_everything_changes_nothing(lancashire: tuple[Stores, Settings, dict[str, Any]]) -> None:
    stores, settings, _ = lancashire
    before = _counts(stores)
    again = load_everything(stores, settings)
    assert {r.status for r in again["boundaries"]} == {"unchanged"}
    assert again["population"].status == again["deprivation"].status == "unchanged"
    assert {r.status for r in again["police"]} == {"unchanged"}
    assert _counts(stores) == before


def _counts(stores: Stores) -> dict[str, Any]:
    con = stores.connect()
    tables = ("events_stored", "quarantine", "areas", "point_places", "area_lookups", "population", "deprivation")
    counts: dict[str, Any] = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in tables}
    counts["placed"] = con.execute("SELECT place_status, count(*) FROM events GROUP BY ALL ORDER BY ALL").fetchall()
    counts["weights"] = con.execute("SELECT method, round(sum(weight), 6) FROM area_lookups GROUP BY ALL "
                                    "ORDER BY ALL").fetchall()
    return counts


def _table(stores: Stores, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table(name))
    assert isinstance(frame, pl.DataFrame)
    return frame


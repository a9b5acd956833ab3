"""Lookups between levels and point placement on small synthetic squares.

Four unit squares A B / C D (A bottom left) make level ``lsoa``; two columns make ``msoa``
(so lsoa nests in it); an L-shape (left column plus B) and the square D make ``ward``, which
cuts the right-hand msoa in half.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from wholeplace.geography.boundaries import load_boundaries
from wholeplace.geography.context import load_population
from wholeplace.geography.placement import place_in_areas
from wholeplace.provenance import list_levels
from wholeplace.store import Stores

LON, LAT, UNIT = -2.70, 53.70, 0.01
A, B, C, D = "E01000001", "E01000002", "E01000003", "E01000004"


def square(x: float, y: float, w: float = 1, h: float = 1) -> Polygon:
    return box(LON + x * UNIT, LAT + y * UNIT, LON + (x + w) * UNIT, LAT + (y + h) * UNIT)


def write(path: Path, codes: list[str], geoms: list[Polygon]) -> Path:
    frame = gpd.GeoDataFrame({"CD": codes, "NM": [f"area {c}" for c in codes]}, geometry=geoms, crs="EPSG:4326")
    path.write_text(frame.to_json())
    return path


def load_three_levels(stores: Stores, tmp_path: Path) -> None:
    write(tmp_path / "lsoa.geojson", [A, B, C, D], [square(0, 0), square(1, 0), square(0, 1), square(1, 1)])
    write(tmp_path / "msoa.geojson", ["E02000001", "E02000002"], [square(0, 0, 1, 2), square(1, 0, 1, 2)])
    write(tmp_path / "ward.geojson", ["E05000001", "E05000002"],
          [unary_union([square(0, 0, 1, 2), square(1, 0)]), square(1, 1)])
    for level in ("lsoa", "msoa", "ward"):
        load_boundaries(stores=stores, path=tmp_path / f"{level}.geojson", level=level,
                        hierarchy="electoral" if level == "ward" else None)


def lookups(stores: Stores) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table("area_lookups"))
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_nesting_is_detected_and_recorded(stores: Stores, tmp_path: Path) -> None:
    load_three_levels(stores, tmp_path)
    nested = lookups(stores).filter((pl.col("method") == "nested") & (pl.col("to_level") == "msoa"))
    assert dict(nested.select("from_code", "to_code").iter_rows()) == {
        A: "E02000001", C: "E02000001", B: "E02000002", D: "E02000002"}
    assert nested["weight"].to_list() == [1.0] * 4
    assert {r["level"]: r["parent_level"] for r in list_levels(stores=stores)}["lsoa"] == "msoa"


def test_non_coterminous_levels_get_area_weights_summing_to_one(stores: Stores, tmp_path: Path) -> None:
    load_three_levels(stores, tmp_path)
    weighted = lookups(stores).filter((pl.col("method") == "area-weighted")
                                      & (pl.col("from_level") == "msoa") & (pl.col("to_level") == "ward"))
    right = weighted.filter(pl.col("from_code") == "E02000002").sort("to_code")
    assert right["weight"].to_list() == pytest.approx([0.5, 0.5], abs=2e-3)
    sums = weighted.group_by("from_code").agg(pl.col("weight").sum())["weight"]
    assert sums.to_list() == pytest.approx([1.0, 1.0], abs=1e-6)
    assert lookups(stores).filter((pl.col("from_level") == "msoa") & (pl.col("to_level") == "ward")
                                  & (pl.col("method") == "nested")).height == 0


def test_population_weights_follow_where_people_live(stores: Stores, tmp_path: Path) -> None:
    load_three_levels(stores, tmp_path)
    csv = tmp_path / "pop.csv"
    csv.write_text(f"Year,LSOA Code,Population\n2020,{A},100\n2020,{B},300\n2020,{C},100\n2020,{D},500\n")
    load_population(stores=stores, path=csv, level="lsoa")
    weighted = lookups(stores).filter((pl.col("method") == "population-weighted")
                                      & (pl.col("from_code") == "E02000002") & (pl.col("to_level") == "ward"))
    assert dict(weighted.select("to_code", "weight").iter_rows()) == pytest.approx(
        {"E05000001": 300 / 800, "E05000002": 500 / 800}, abs=1e-3)


def test_a_point_on_a_shared_edge_goes_to_exactly_one_area(stores: Stores, tmp_path: Path) -> None:
    load_three_levels(stores, tmp_path)
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert isinstance(areas, pl.DataFrame)
    points = pl.DataFrame({"longitude": [LON + UNIT, LON + UNIT, LON + 0.5 * UNIT],
                           "latitude": [LAT + 0.5 * UNIT, LAT + UNIT, LAT + 0.5 * UNIT]})
    placed = place_in_areas(points, areas, ["lsoa", "msoa", "ward"]).filter(pl.col("level") == "lsoa")
    assert placed.height == 3
    assert placed.group_by("longitude", "latitude").len()["len"].to_list() == [1, 1, 1]
    edge = placed.filter(pl.col("latitude") == LAT + 0.5 * UNIT).sort("longitude")
    assert edge["area_code"].to_list() == [A, A]  # the lowest code wins on the A|B edge


def test_a_point_outside_every_area_is_kept_as_out_of_area(stores: Stores, tmp_path: Path) -> None:
    load_three_levels(stores, tmp_path)
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert isinstance(areas, pl.DataFrame)
    points = pl.DataFrame({"longitude": [LON + 5 * UNIT], "latitude": [LAT + 5 * UNIT]})
    placed = place_in_areas(points, areas, ["lsoa", "msoa", "ward"])
    assert placed.to_dicts() == [{"longitude": LON + 5 * UNIT, "latitude": LAT + 5 * UNIT, "level": None,
                                  "area_code": None, "finest": True}]


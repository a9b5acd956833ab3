"""Loading boundary files: field detection, refusals, repair, reprojection, reloads."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
from shapely.geometry import Polygon, box

from wholeplace.errors import InputError, UserError
from wholeplace.geography.boundaries import load_boundaries
from wholeplace.store import Stores
from wholeplace.store.operational import LevelRow

LON, LAT, UNIT = -2.70, 53.70, 0.01  # a corner in Lancashire; squares of 0.01 degrees


def square(x: float, y: float, w: float = 1, h: float = 1) -> Polygon:
    return box(LON + x * UNIT, LAT + y * UNIT, LON + (x + w) * UNIT, LAT + (y + h) * UNIT)


def write_geojson(path: Path, features: list[tuple[dict, Polygon]]) -> Path:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": json.loads(gpd.GeoSeries([geom]).to_json())[
            "features"][0]["geometry"]} for props, geom in features]}
    path.write_text(json.dumps(collection))
    return path


def grid(tmp_path: Path, name: str = "small.geojson") -> Path:
    """2 × 2 squares with ONS-style codes plus a non-unique district field."""
    cells = [(0, 0), (1, 0), (0, 1), (1, 1)]
    return write_geojson(tmp_path / name, [
        ({"LSOA11CD": f"E0100000{i + 1}", "LSOA11NM": f"Square {i + 1}", "LAD_CD": "E07000001", "LAD_NM": "Town"},
         square(x, y)) for i, (x, y) in enumerate(cells)])


def test_detects_code_and_name_fields_and_stores_areas(stores: Stores, tmp_path: Path) -> None:
    result = load_boundaries(stores=stores, path=grid(tmp_path), level="lsoa")
    assert (result.code_field, result.name_field, result.features) == ("LSOA11CD", "LSOA11NM", 4)
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert areas["code"].sort().to_list() == ["E01000001", "E01000002", "E01000003", "E01000004"]
    # 0.01° squares at 53.7°N are about 660 m × 1,110 m
    assert areas["area_m2"].min() > 0.6e6 and areas["area_m2"].max() < 0.9e6
    assert abs(areas.filter(pl.col("code") == "E01000001")["centroid_longitude"][0] - (LON + UNIT / 2)) < 1e-6
    with stores.sessions() as session:
        row = session.get(LevelRow, "lsoa")
    assert row is not None and row.hierarchy == "statistical" and row.code_field == "LSOA11CD"
    assert "loaded level 'lsoa'" in result.summary()


def test_reloading_the_same_file_changes_nothing(stores: Stores, tmp_path: Path) -> None:
    path = grid(tmp_path)
    load_boundaries(stores=stores, path=path, level="lsoa")
    before = stores.analytic.place_path("areas").stat().st_mtime_ns
    again = load_boundaries(stores=stores, path=path, level="lsoa")
    assert again.status == "unchanged"
    assert stores.analytic.place_path("areas").stat().st_mtime_ns == before


def test_a_new_file_replaces_only_its_level(stores: Stores, tmp_path: Path) -> None:
    load_boundaries(stores=stores, path=grid(tmp_path), level="lsoa")
    big = write_geojson(tmp_path / "big.geojson", [({"MSOA11CD": "E02000001", "MSOA11NM": "All"}, square(0, 0, 2, 2))])
    load_boundaries(stores=stores, path=big, level="msoa")
    smaller = write_geojson(tmp_path / "two.geojson", [
        ({"LSOA11CD": "E01000009", "LSOA11NM": "Left"}, square(0, 0, 1, 2)),
        ({"LSOA11CD": "E01000010", "LSOA11NM": "Right"}, square(1, 0, 1, 2))])
    result = load_boundaries(stores=stores, path=smaller, level="lsoa")
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert result.status == "replaced"
    assert sorted(areas["code"].to_list()) == ["E01000009", "E01000010", "E02000001"]


def test_missing_code_field_names_the_files_fields(stores: Stores, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no field 'CODE'.*LSOA11CD, LSOA11NM, LAD_CD, LAD_NM"):
        load_boundaries(stores=stores, path=grid(tmp_path), level="lsoa", code_field="CODE")


def test_undetectable_code_field_is_refused(stores: Stores, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "x.geojson", [({"label": "a"}, square(0, 0)), ({"label": "b"}, square(1, 0))])
    with pytest.raises(UserError, match=r"cannot tell which field holds the area codes.*fields are: label"):
        load_boundaries(stores=stores, path=path, level="lsoa")


def test_duplicate_and_blank_codes_are_refused_with_features(stores: Stores, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "dup.geojson", [
        ({"CODE": "E01000001", "NAME": "a"}, square(0, 0)), ({"CODE": "E01000001", "NAME": "b"}, square(1, 0)),
        ({"CODE": " ", "NAME": "c"}, square(2, 0))])
    with pytest.raises(InputError) as caught:
        load_boundaries(stores=stores, path=path, level="lsoa", code_field="CODE", name_field="NAME")
    text = str(caught.value)
    assert "feature 3 has a blank code" in text and "code E01000001 is used by 2 features (1, 2)" in text
    assert not stores.analytic.place_path("areas").exists()


def test_empty_file_is_refused(stores: Stores, tmp_path: Path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="no features"):
        load_boundaries(stores=stores, path=path, level="lsoa")


def test_a_file_that_is_not_geographic_is_refused(stores: Stores, tmp_path: Path) -> None:
    text = tmp_path / "areas.geojson"
    text.write_text("this is not a boundary file")
    with pytest.raises(InputError, match="not a geographic file"):
        load_boundaries(stores=stores, path=text, level="lsoa")
    table = tmp_path / "areas.csv"
    table.write_text("code,name\nE01000001,a\n")
    with pytest.raises(InputError, match="no geometries"):
        load_boundaries(stores=stores, path=table, level="lsoa")


def test_invalid_geometry_is_repaired_and_reported(stores: Stores, tmp_path: Path) -> None:
    bow_tie = Polygon([(LON, LAT), (LON + UNIT, LAT + UNIT), (LON + UNIT, LAT), (LON, LAT + UNIT), (LON, LAT)])
    path = write_geojson(tmp_path / "bow.geojson", [({"CD": "E01000001", "NM": "bow"}, bow_tie),
                                                    ({"CD": "E01000002", "NM": "ok"}, square(2, 0))])
    result = load_boundaries(stores=stores, path=path, level="lsoa", code_field="CD", name_field="NM")
    assert result.repaired == ["E01000001"]
    assert "repaired 1 invalid geometries: E01000001" in result.summary()
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert areas.filter(pl.col("code") == "E01000001")["area_m2"][0] > 0.3e6  # both triangles kept


def test_projected_file_is_reprojected_to_wgs84(stores: Stores, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"WD13CD": ["E05000001"], "WD13NM": ["Ward"]}, geometry=[square(0, 0)], crs="EPSG:4326")
    path = tmp_path / "ward.gpkg"
    frame.to_crs("EPSG:27700").to_file(path, engine="pyogrio")
    result = load_boundaries(stores=stores, path=path, level="ward", hierarchy="electoral")
    assert result.reprojected_from is not None and "27700" in result.reprojected_from
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert abs(areas["centroid_longitude"][0] - (LON + UNIT / 2)) < 1e-5
    assert abs(areas["centroid_latitude"][0] - (LAT + UNIT / 2)) < 1e-5


def test_parent_must_be_a_loaded_coarser_level(stores: Stores, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a loaded level"):
        load_boundaries(stores=stores, path=grid(tmp_path), level="lsoa", parent_level="msoa")

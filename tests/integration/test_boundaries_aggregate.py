"""Boundaries, a police.uk load and aggregation together, on synthetic squares.

Four unit squares A B / C D make level ``lsoa`` (police.uk's own level), two columns make
``msoa``; events sit inside squares, on the A|B edge, outside every area, without any
location, and with only an LSOA code.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
from shapely.geometry import box

from wholeplace.errors import NotFoundError, UserError
from wholeplace.geography.aggregate import aggregate_events, areas_geojson
from wholeplace.geography.boundaries import load_boundaries
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores

LON, LAT, UNIT = -2.70, 53.70, 0.01
A, B, C, D = "E01000001", "E01000002", "E01000003", "E01000004"
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
          "Last outcome category,Context\n")


def square(x: float, y: float, w: float = 1, h: float = 1):  # type: ignore[no-untyped-def]
    # rounded as police.uk coordinates are, so a point on an edge is exactly on it
    return box(*(round(v, 6) for v in (LON + x * UNIT, LAT + y * UNIT, LON + (x + w) * UNIT, LAT + (y + h) * UNIT)))


def write_level(path: Path, codes: list[str], geoms: list) -> Path:  # type: ignore[type-arg]
    frame = gpd.GeoDataFrame({"CD": codes, "NM": [f"Area {c[-1]}" for c in codes]}, geometry=geoms, crs="EPSG:4326")
    path.write_text(frame.to_json())
    return path


def crime(month: str, x: float | None, y: float | None, lsoa: str = "", kind: str = "Burglary") -> str:
    lon = f"{LON + x * UNIT:.6f}" if x is not None else ""
    lat = f"{LAT + y * UNIT:.6f}" if y is not None else ""
    return f",{month},Lancashire Constabulary,Lancashire Constabulary,{lon},{lat},On or near X,{lsoa},,{kind},,\n"


@pytest.fixture
def place(stores: Stores, settings: Settings, tmp_path: Path) -> Stores:
    squares = [square(0, 0), square(1, 0), square(0, 1), square(1, 1)]
    lsoa = write_level(tmp_path / "lsoa.geojson", [A, B, C, D], squares)
    msoa = write_level(tmp_path / "msoa.geojson", ["E02000001", "E02000002"], [square(0, 0, 1, 2), square(1, 0, 1, 2)])
    rows = [crime("2021-01", 0.5, 0.5, A)] * 3 + [crime("2021-01", 1.5, 1.5, D, "Anti-social behaviour")]
    rows += [crime("2021-02", 1.0, 0.5, B), crime("2021-02", 9, 9, "E01099999"), crime("2021-02", None, None),
             crime("2021-02", None, None, C)]
    police = tmp_path / "2021-01-lancashire-street.csv"
    police.write_text(HEADER + "".join(rows))
    load_boundaries(stores=stores, path=lsoa, level="lsoa")
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=[police], settings=settings)
    load_boundaries(stores=stores, path=msoa, level="msoa")  # loaded after the events: they are placed afresh
    return stores


def test_every_event_is_counted_once_and_the_method_says_how(place: Stores) -> None:
    result = aggregate_events(con=place.connect(), level="msoa")
    counts = {(r["area_code"], r["partner"]): r["events"] for r in result.frame.to_dicts()}
    assert counts == {
        ("E02000001", "police-lancashire-constabulary"): 5.0,  # 3 in A, 1 on the A|B edge, C by its code
        ("E02000002", "police-lancashire-constabulary"): 1.0}
    method = result.method
    assert method["counted"] == {"point_in_polygon": 5.0, "nested": 1.0}
    assert method["not_counted"] == {"outside_level": 0.0, "out_of_area": 1.0, "no_lookup": 0.0, "unlocated": 1.0}
    assert method["lookups_used"] == {"lsoa": "nested"}
    assert result.frame["area_name"].to_list() == ["Area 1", "Area 2"]


def test_filters_are_applied(place: Stores) -> None:
    con = place.connect()
    january = aggregate_events(con=con, level="lsoa", month_from="2021-01", month_to="2021-01")
    assert dict(january.frame.select("area_code", "events").iter_rows()) == {A: 3.0, D: 1.0}
    asb = aggregate_events(con=con, level="lsoa", category="anti_social_behaviour")
    assert asb.frame["events"].sum() == 1.0 and asb.method["filters"] == {"category": "anti_social_behaviour"}
    nobody = aggregate_events(con=con, level="lsoa", partner="nhs-trust")
    assert nobody.frame.height == 0 and nobody.method["events_counted"] == 0


def test_unknown_level_and_weighting_are_user_errors(place: Stores) -> None:
    with pytest.raises(NotFoundError, match="loaded: lsoa, msoa"):
        aggregate_events(con=place.connect(), level="ward")
    with pytest.raises(UserError, match="weighting"):
        aggregate_events(con=place.connect(), level="lsoa", weighting="people")


def test_areas_geojson_for_the_map(place: Stores) -> None:
    collection = areas_geojson(con=place.connect(), level="msoa", simplify_tolerance=0.0001)
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"] for f in collection["features"]] == [
        {"code": "E02000001", "name": "Area 1"}, {"code": "E02000002", "name": "Area 2"}]
    assert collection["features"][0]["geometry"]["type"] == "Polygon"


def test_points_in_point_places_cover_every_level(place: Stores) -> None:
    placed = place.connect().execute("SELECT level, count(*) FROM point_places GROUP BY ALL ORDER BY ALL").pl()
    assert dict(placed.iter_rows()) == {None: 1, "lsoa": 3, "msoa": 3}
    assert isinstance(placed, pl.DataFrame)

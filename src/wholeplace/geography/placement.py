"""Assigning located events to areas with vectorised point-in-polygon.

Placement works on distinct points (police.uk snaps hundreds of thousands of crimes to a
few tens of thousands of points), kept in the ``point_places`` table: one row per point
and loaded level containing it, with ``finest`` marking the smallest loaded area. A point
on a boundary shared by two areas goes to exactly one of them (the lowest area code, so
the choice is deterministic). A point in no loaded area gets one marker row with no area:
it is "out of area", never dropped.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl
import shapely
from sqlalchemy import select

from wholeplace.store.operational import LevelRow
from wholeplace.store.stores import Stores


def levels_finest_first(stores: Stores) -> list[str]:
    with stores.sessions() as session:
        rows = session.scalars(select(LevelRow).order_by(LevelRow.median_area_m2)).all()
    return [row.name for row in rows]


def locate(points: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """For each point (longitude, latitude), the code of the area containing it.

    ``areas`` has ``code`` and WKB ``geometry``. Points in no area are left out.
    """
    if points.height == 0 or areas.height == 0:
        return pl.DataFrame(schema={"longitude": pl.Float64, "latitude": pl.Float64, "area_code": pl.String})
    polygons = shapely.from_wkb(areas["geometry"].to_numpy())
    tree = shapely.STRtree(polygons)
    geoms = shapely.points(points["longitude"].to_numpy(), points["latitude"].to_numpy())
    point_index, polygon_index = tree.query(geoms, predicate="intersects")
    codes = areas["code"].to_numpy()[polygon_index]
    matched = pl.DataFrame({"i": point_index.astype(np.int64), "area_code": pl.Series(codes.tolist(), dtype=pl.String)})
    first = matched.group_by("i").agg(pl.col("area_code").min())
    return (
        points.with_row_index("i").with_columns(pl.col("i").cast(pl.Int64))
        .join(first, on="i").drop("i")
    )


def place_points(*, stores: Stores, points: pl.DataFrame) -> int:
    """Place points not yet placed; returns how many new points were placed."""
    levels = levels_finest_first(stores)
    if not levels:
        return 0
    existing = pl.from_arrow(stores.analytic.read_place_table("point_places"))
    assert isinstance(existing, pl.DataFrame)
    new = (
        points.drop_nulls().unique()
        .join(existing.select("longitude", "latitude").unique(), on=["longitude", "latitude"], how="anti")
    )
    if new.height == 0:
        return 0
    placed = _place(stores, new, levels)
    stores.analytic.write_place_table("point_places", pl.concat([existing, placed]).to_arrow())
    return new.height


def rebuild_point_places(*, stores: Stores) -> int:
    """Place every stored event point afresh (after boundaries change)."""
    points = stored_points(stores)
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert isinstance(areas, pl.DataFrame)
    placed = place_in_areas(points, areas, levels_finest_first(stores))
    stores.analytic.write_place_table("point_places", placed.to_arrow())
    return points.height


def stored_points(stores: Stores) -> pl.DataFrame:
    """The distinct points of every stored event."""
    return stores.connect().execute(
        "SELECT DISTINCT longitude, latitude FROM events_stored WHERE longitude IS NOT NULL"
        " AND latitude IS NOT NULL"
    ).pl()


def place_in_areas(points: pl.DataFrame, areas: pl.DataFrame, levels: list[str]) -> pl.DataFrame:
    """Rows of ``point_places`` for ``points`` in ``areas`` of ``levels`` (finest first), computed
    without touching the store so a boundary load can compute everything before it writes."""
    if not levels:
        return points.select("longitude", "latitude").with_columns(
            pl.lit(None, pl.String).alias("level"), pl.lit(None, pl.String).alias("area_code"),
            pl.lit(True).alias("finest"))
    frames = []
    for rank, level in enumerate(levels):
        found = locate(points, areas.filter(pl.col("level") == level))
        frames.append(found.with_columns(pl.lit(level).alias("level"), pl.lit(rank).alias("rank")))
    hits = pl.concat(frames)
    finest = hits.group_by("longitude", "latitude").agg(pl.col("rank").min().alias("best"))
    hits = hits.join(finest, on=["longitude", "latitude"]).with_columns(
        (pl.col("rank") == pl.col("best")).alias("finest")
    )
    outside = points.join(hits.select("longitude", "latitude").unique(), on=["longitude", "latitude"], how="anti")
    outside = outside.with_columns(
        pl.lit(None, pl.String).alias("level"), pl.lit(None, pl.String).alias("area_code"), pl.lit(True).alias("finest")
    )
    return pl.concat([hits.select("longitude", "latitude", "level", "area_code", "finest"), outside])


def _place(stores: Stores, points: pl.DataFrame, levels: list[str]) -> pl.DataFrame:
    areas = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert isinstance(areas, pl.DataFrame)
    return place_in_areas(points, areas, levels)


DISAGREEMENT_SQL = """
SELECT e.event_id, e.dataset, e.source_line, e.longitude, e.latitude,
       e.source_area_code, a.level AS source_level, pp.area_code AS computed_area_code
FROM {events} e
JOIN (SELECT DISTINCT level, code FROM areas) a ON a.code = e.source_area_code
LEFT JOIN point_places pp
  ON pp.longitude = e.longitude AND pp.latitude = e.latitude AND pp.level = a.level
WHERE e.location_status = 'point' AND pp.area_code IS DISTINCT FROM e.source_area_code
"""

CHECK_SQL = """
SELECT
  count(*) FILTER (WHERE e.source_area_code IS NOT NULL) AS rows_with_source_area,
  count(a.code) AS rows_compared,
  count(*) FILTER (WHERE a.code IS NOT NULL AND pp.area_code = e.source_area_code) AS rows_agree,
  count(*) FILTER (WHERE e.source_area_code IS NOT NULL AND a.code IS NULL) AS rows_source_area_not_loaded,
  mode(a.level) AS level
FROM {events} e
LEFT JOIN (SELECT DISTINCT level, code FROM areas) a ON a.code = e.source_area_code
LEFT JOIN point_places pp
  ON pp.longitude = e.longitude AND pp.latitude = e.latitude AND pp.level = a.level
WHERE e.location_status = 'point'
"""


def check_source_areas(
    *, stores: Stores, events: pl.DataFrame, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, Any]:
    """Compare supplied area codes with computed ones for newly mapped events."""
    con = con or stores.connect()
    con.register("new_events", events.select(
        "event_id", "dataset", "source_line", "longitude", "latitude", "location_status", "source_area_code"
    ).to_arrow())
    row = con.execute(CHECK_SQL.format(events="new_events")).fetchone()
    assert row is not None
    with_source, compared, agree, not_loaded, level = row
    return {
        "level": level,
        "rows_with_source_area": with_source,
        "rows_compared": compared,
        "rows_agree": agree,
        "rows_disagree": compared - agree,
        "rows_source_area_not_loaded": not_loaded,
        "agreement": round(agree / compared, 6) if compared else None,
    }

"""Measuring areas: sizes in square metres, centroids, and polygon overlaps.

Areas are stored in WGS84, where square degrees mean nothing, so every measure is taken in an
equal-area projection: British National Grid (EPSG:27700) for UK data, whose distortion over
Great Britain is a fraction of a percent, else the global equal-area EASE-Grid 2.0 (EPSG:6933).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import polars as pl
import shapely

UK_BOUNDS = (-8.8, 49.8, 2.0, 60.9)  # lon/lat box holding the UK (and little else)
BRITISH_NATIONAL_GRID = "EPSG:27700"
GLOBAL_EQUAL_AREA = "EPSG:6933"
TOLERANCE_M = 0.01
MIN_SHARE = 1e-4  # overlaps smaller than this share of an area are slivers of generalised boundaries


def equal_area_crs(bounds: tuple[float, float, float, float] | np.ndarray) -> str:
    minx, miny, maxx, maxy = bounds
    west, south, east, north = UK_BOUNDS
    inside = west <= minx and maxx <= east and south <= miny and maxy <= north
    return BRITISH_NATIONAL_GRID if inside else GLOBAL_EQUAL_AREA


def project(wkb: np.ndarray | list[bytes], crs: str) -> np.ndarray:
    """WGS84 WKB polygons as shapely geometries in ``crs``."""
    series = gpd.GeoSeries.from_wkb(list(wkb), crs="EPSG:4326").to_crs(crs)
    return series.to_numpy()


def area_rows(level: str, frame: gpd.GeoDataFrame) -> pl.DataFrame:
    """Rows of the ``areas`` table for one level (frame has code, name and WGS84 geometry)."""
    crs = equal_area_crs(frame.total_bounds)
    projected = frame.geometry.to_crs(crs)
    centroids = gpd.GeoSeries(projected.centroid, crs=crs).to_crs("EPSG:4326")
    return pl.DataFrame({
        "level": [level] * len(frame),
        "code": frame["code"].tolist(),
        "name": frame["name"].astype(object).where(frame["name"].notna(), None).tolist(),
        "area_m2": projected.area.to_numpy(),
        "centroid_longitude": centroids.x.to_numpy(),
        "centroid_latitude": centroids.y.to_numpy(),
        "geometry": shapely.to_wkb(frame.geometry.to_numpy()).tolist(),
    }, schema={"level": pl.String, "code": pl.String, "name": pl.String, "area_m2": pl.Float64,
               "centroid_longitude": pl.Float64, "centroid_latitude": pl.Float64, "geometry": pl.Binary})


class Polygons:
    """Projected polygons with the derived shapes overlaps need, each computed once."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms

    @cached_property
    def area_m2(self) -> np.ndarray:
        return shapely.area(self.geoms)

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    @cached_property
    def grown(self) -> np.ndarray:
        grown = shapely.buffer(self.geoms, TOLERANCE_M)
        shapely.prepare(grown)
        return grown

    @cached_property
    def shrunk(self) -> np.ndarray:
        return shapely.buffer(self.geoms, -TOLERANCE_M)


@dataclass
class Overlap:
    """Pairs of intersecting polygons (indices into the two inputs) and their shared area."""

    left: np.ndarray
    right: np.ndarray
    area_m2: np.ndarray


def overlap(left: Polygons, right: Polygons) -> Overlap:
    """Every pair of ``left`` and ``right`` polygons sharing area, with the area they share.

    Intersections are costly, so they are computed only for pairs that truly cross. Areas of
    one release share their edges, but reprojection leaves those edges a fraction of a
    millimetre apart; within TOLERANCE_M a polygon counts as covered by the other (sharing all
    its area) or as merely touching it (sharing none), an error of at most its perimeter × 1 cm.
    """
    li, ri = right.tree.query(left.geoms, predicate="intersects")
    inside = shapely.covers(right.grown[ri], left.geoms[li])
    covering = ~inside & shapely.covers(left.grown[li], right.geoms[ri])
    touching = ~inside & ~covering & ~shapely.intersects(left.shrunk[li], right.geoms[ri])
    crossing = ~inside & ~covering & ~touching
    areas = np.where(inside, left.area_m2[li], 0.0)
    areas[covering] = right.area_m2[ri][covering]
    areas[crossing] = shapely.area(shapely.intersection(left.geoms[li][crossing], right.geoms[ri][crossing]))
    keep = areas > 0
    return Overlap(li[keep], ri[keep], areas[keep])

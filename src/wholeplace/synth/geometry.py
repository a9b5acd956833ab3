"""Polygons of the demo place: small areas, neighbourhoods, districts and wards.

Everything is drawn in British National Grid metres (so distances and areas are real) and
turned into WGS84 longitude/latitude once, vertex by vertex, so areas that share an edge
still share it exactly afterwards: the levels are valid, gap-free coverages.

Every level is built from the same blocks: Voronoi cells of points scattered around
small-area seeds whose density follows population (a town, two market towns and
countryside), so town areas are small and rural ones large, as in real LSOAs. A small
area is the blocks nearest its seed; neighbourhoods and districts are unions of whole
small areas (exact nesting). Wards group a district's blocks around their own seeds, so
they nest in districts but cut across small areas, as real wards do. Unions of one
coverage's cells leave no gaps or slivers, which clipping each level separately would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely import Polygon

# The place sits inland in the English Midlands (around -1.9, 52.9); its codes and names are fictional.
ORIGIN_EASTING = 407_000.0
ORIGIN_NORTHING = 329_000.0

# (name, x km, y km, spread km, number of small areas): the town, two market towns, countryside.
SETTLEMENTS = (
    ("town", 0.0, 0.0, 2.0, 58),
    ("north", -8.0, 5.5, 1.2, 18),
    ("south", 7.5, -6.0, 1.2, 16),
)
RURAL_AREAS = 28
MIN_SEED_SPACING_M = 380.0

_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)


@dataclass(frozen=True)
class Layout:
    """Polygons of every level in BNG metres (relative to the origin) and their groupings."""

    outline: Polygon
    small: np.ndarray  # polygons, one per small area
    small_seeds: np.ndarray  # (n, 2) seed points
    settlement: np.ndarray  # settlement index per small area, -1 for countryside
    neighbourhood_of: np.ndarray  # neighbourhood index per small area
    district_of: np.ndarray  # district index per neighbourhood
    wards: np.ndarray  # polygons
    ward_district: np.ndarray  # district index per ward


def make_outline(rng: np.random.Generator) -> Polygon:
    """An irregular, smooth boundary about 30 km by 25 km."""
    theta = np.linspace(0.0, 2 * np.pi, 97)[:-1]
    phase = rng.uniform(0, 2 * np.pi, 3)
    radius = 13_500 * (1 + 0.12 * np.sin(2 * theta + phase[0]) + 0.07 * np.sin(3 * theta + phase[1])
                       + 0.03 * np.sin(5 * theta + phase[2]))
    return Polygon(np.c_[1.15 * radius * np.cos(theta), radius * np.sin(theta)])


def spaced_points(rng: np.random.Generator, draw, count: int, inside: Polygon, spacing: float,
                  existing: np.ndarray) -> np.ndarray:
    """``count`` points from ``draw`` inside ``inside``, at least ``spacing`` from each other."""
    kept = list(existing)
    found = 0
    while found < count:
        point = draw()
        if not shapely.contains_xy(inside, point[0], point[1]):
            continue
        if kept and np.min(np.hypot(*(np.asarray(kept) - point).T)) < spacing:
            continue
        kept.append(point)
        found += 1
    return np.asarray(kept[len(existing):])


def small_area_seeds(rng: np.random.Generator, outline: Polygon) -> tuple[np.ndarray, np.ndarray]:
    inner = outline.buffer(-400)
    seeds = np.empty((0, 2))
    settlement: list[int] = []
    for index, (_, x, y, spread, count) in enumerate(SETTLEMENTS):
        centre = np.array([x, y]) * 1000

        def draw(centre=centre, spread=spread) -> np.ndarray:
            return centre + rng.normal(0, spread * 1000, 2)

        seeds = np.vstack([seeds, spaced_points(rng, draw, count, inner, MIN_SEED_SPACING_M, seeds)])
        settlement += [index] * count
    minx, miny, maxx, maxy = inner.bounds
    rural = spaced_points(rng, lambda: rng.uniform([minx, miny], [maxx, maxy]), RURAL_AREAS, inner, 2_500, seeds)
    return np.vstack([seeds, rural]), np.array(settlement + [-1] * RURAL_AREAS)


def voronoi_cells(seeds: np.ndarray, within: Polygon) -> np.ndarray:
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=within, ordered=True)
    return shapely.intersection(np.asarray(shapely.get_parts(cells)), within)


def balanced_clusters(rng: np.random.Generator, points: np.ndarray, k: int, rounds: int = 20) -> np.ndarray:
    """Lloyd's k-means with a cap on cluster size, so neighbourhoods hold similar numbers of
    small areas (as MSOAs hold similar populations). Twenty points per cluster at most: a
    library would be heavier than these few lines."""
    centres = points[rng.choice(len(points), k, replace=False)]
    labels = np.zeros(len(points), dtype=np.int64)
    capacity = int(np.ceil(len(points) / k * 1.25))
    for _ in range(rounds):
        labels = _capped_assignment(points, centres, capacity)
        centres = np.array([points[labels == j].mean(axis=0) for j in range(k)])
    return _relabel_by_position(labels, centres)


def _capped_assignment(points: np.ndarray, centres: np.ndarray, capacity: int) -> np.ndarray:
    distance = np.hypot(points[:, None, 0] - centres[None, :, 0], points[:, None, 1] - centres[None, :, 1])
    labels = np.full(len(points), -1)
    load = np.zeros(len(centres), dtype=np.int64)
    for flat in np.argsort(distance, axis=None, kind="stable"):
        point, centre = divmod(int(flat), len(centres))
        if labels[point] < 0 and load[centre] < capacity:
            labels[point] = centre
            load[centre] += 1
    return labels


def _relabel_by_position(labels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Number groups north-west first, so codes read in a stable geographic order."""
    order = np.lexsort((centres[:, 0], -np.round(centres[:, 1], -3)))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]


def group_districts(neighbourhood_centres: np.ndarray) -> np.ndarray:
    """Each neighbourhood joins the district of the nearest settlement."""
    towns = np.array([[x, y] for _, x, y, _, _ in SETTLEMENTS]) * 1000
    distance = np.hypot(neighbourhood_centres[:, None, 0] - towns[None, :, 0],
                        neighbourhood_centres[:, None, 1] - towns[None, :, 1])
    return distance.argmin(axis=1)


def fine_points(rng: np.random.Generator, seeds: np.ndarray, outline: Polygon, per_seed: int = 9) -> np.ndarray:
    """Block centres: each seed plus points scattered around it, as dense as the seeds are."""
    inner = outline.buffer(-50)
    radius = 0.6 * _nearest_distance(seeds)
    angle = rng.uniform(0, 2 * np.pi, (len(seeds), per_seed))
    distance = radius[:, None] * np.sqrt(rng.uniform(0.05, 1.0, (len(seeds), per_seed)))
    scattered = seeds[:, None, :] + np.stack([distance * np.cos(angle), distance * np.sin(angle)], axis=2)
    scattered = scattered.reshape(-1, 2)
    return np.vstack([seeds, scattered[shapely.contains_xy(inner, scattered[:, 0], scattered[:, 1])]])


def _nearest_distance(points: np.ndarray) -> np.ndarray:
    gaps = np.hypot(points[:, None, 0] - points[None, :, 0], points[:, None, 1] - points[None, :, 1])
    np.fill_diagonal(gaps, np.inf)
    return gaps.min(axis=1)


def nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distance = np.hypot(points[:, None, 0] - centres[None, :, 0], points[:, None, 1] - centres[None, :, 1])
    return distance.argmin(axis=1)


def ward_blocks(rng: np.random.Generator, blocks: np.ndarray, block_district: np.ndarray,
                per_district: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Ward of every block: the nearest of seeds drawn among the district's own blocks."""
    ward_of = np.zeros(len(blocks), dtype=np.int64)
    districts: list[int] = []
    for district, count in enumerate(per_district):
        members = np.flatnonzero(block_district == district)
        seeds = blocks[rng.choice(members, count, replace=False)]
        ward_of[members] = len(districts) + nearest(blocks[members], seeds)
        districts += [district] * count
    return ward_of, np.asarray(districts)


def build_layout(rng: np.random.Generator, neighbourhoods: int = 11, areas_per_ward: int = 5) -> Layout:
    outline = make_outline(rng)
    seeds, settlement = small_area_seeds(rng, outline)
    points = fine_points(rng, seeds, outline)
    blocks = voronoi_cells(points, outline)
    small_of = nearest(points, seeds)
    small = union_groups(blocks, small_of, len(seeds))
    centroids = shapely.get_coordinates(shapely.centroid(small))
    neighbourhood_of = balanced_clusters(rng, centroids, neighbourhoods)
    hood_centres = np.array([centroids[neighbourhood_of == j].mean(axis=0) for j in range(neighbourhoods)])
    district_of = group_districts(hood_centres)
    area_district = district_of[neighbourhood_of]
    per_district = [max(3, round((area_district == d).sum() / areas_per_ward)) for d in range(len(SETTLEMENTS))]
    ward_of, ward_district = ward_blocks(rng, points, area_district[small_of], per_district)
    wards = union_groups(blocks, ward_of, len(ward_district))
    return Layout(outline, small, seeds, settlement, neighbourhood_of, district_of, wards, ward_district)


def union_groups(polygons: np.ndarray, group_of: np.ndarray, groups: int) -> np.ndarray:
    """Union of the polygons in each group (they form a coverage, so the union is exact)."""
    return np.asarray([shapely.coverage_union_all(polygons[group_of == g]) for g in range(groups)])


def to_wgs84(polygons: np.ndarray) -> np.ndarray:
    """Polygons in longitude/latitude. Coordinates are not rounded: rounding each vertex can
    fold a narrow corner over itself, and the files are small anyway."""

    def transform(xy: np.ndarray) -> np.ndarray:
        lon, lat = _TO_WGS84.transform(xy[:, 0] + ORIGIN_EASTING, xy[:, 1] + ORIGIN_NORTHING)
        return np.c_[lon, lat]

    return shapely.transform(polygons, transform)


def xy_to_lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_WGS84.transform(xy[:, 0] + ORIGIN_EASTING, xy[:, 1] + ORIGIN_NORTHING)
    return np.asarray(lon), np.asarray(lat)


def xy_to_grid(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid easting and northing of local points, to the metre."""
    return np.round(xy[:, 0] + ORIGIN_EASTING).astype(np.int64), np.round(xy[:, 1] + ORIGIN_NORTHING).astype(np.int64)


def points_in(rng: np.random.Generator, polygon: Polygon, count: int, margin: float = 15.0) -> np.ndarray:
    """``count`` uniform random points inside ``polygon``, kept ``margin`` metres from its edge."""
    inner = polygon.buffer(-margin) if polygon.area > 40 * margin * margin else polygon
    minx, miny, maxx, maxy = inner.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        trial = rng.uniform([minx, miny], [maxx, maxy], (max(2 * count, 16), 2))
        found = np.vstack([found, trial[shapely.contains_xy(inner, trial[:, 0], trial[:, 1])]])
    return found[:count]

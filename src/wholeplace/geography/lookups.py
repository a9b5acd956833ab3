"""Lookups between geography levels, computed from the boundaries themselves.

For every pair of loaded levels the finer one either *nests* in the coarser one (nearly every
area lies inside one area of it: LSOA in MSOA in district) or the two are *non-coterminous*
(wards and MSOAs cut across each other). Nested pairs get one ``nested`` row per child with
weight 1; every other direction gets ``area-weighted`` rows, the weight being the share of
the from-area's area lying in the to-area, so a from-area's weights sum to the share of it
the to-level covers (1 where fully covered). With population loaded for a finer level,
``population-weighted`` rows apportion that population to the overlaps (assuming people are
spread evenly within each of its areas) and weigh by the share of the from-area's people.

Nesting is tested rather than trusted from codes, because generalised boundaries of
different vintages overlap a little even where the official hierarchy nests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import polars as pl
import shapely

from wholeplace.geography.measure import MIN_SHARE, Overlap, Polygons, equal_area_crs, overlap, project
from wholeplace.store.analytic import PLACE_SCHEMAS

NEST_SHARE = 0.95  # an area nests when this share of it lies inside one parent area ...
NEST_AREAS = 0.99  # ... and a level nests when this share of its areas do
WHOLE_SHARE = 0.9999  # an area lying this much inside another is wholly inside it
COMPUTED_METHODS = ("nested", "area-weighted", "population-weighted")
LOOKUP_SCHEMA = pl.DataFrame(PLACE_SCHEMAS["area_lookups"].empty_table()).schema


@dataclass
class LevelGeometry:
    codes: np.ndarray
    shapes: Polygons
    population: np.ndarray | None = None

    @property
    def area_m2(self) -> np.ndarray:
        return self.shapes.area_m2


@dataclass
class LookupPlan:
    """Everything computed about how the loaded levels relate."""

    lookups: pl.DataFrame
    nests_in: dict[str, list[str]]  # level → the levels it nests in, finest first
    nested_share: dict[tuple[str, str], float] = field(default_factory=dict)  # (child, parent) → share nesting


def plan_lookups(
    *, areas: pl.DataFrame, medians: dict[str, float], forced: set[tuple[str, str]],
    population: pl.DataFrame | None = None,
) -> LookupPlan:
    """Lookups between every pair of levels in ``areas`` (finest first by ``medians``).

    ``forced`` pairs (child, parent) are treated as nested whatever the overlap says;
    ``population`` (level, area_code, population) is used for the finest level it covers.
    """
    order = sorted(medians, key=lambda name: medians[name])
    planner = _Planner(order, _geometries(areas, order), forced)
    planner.attach_population(population)
    frames = [frame for pair in planner.overlaps for frame in planner.pair_rows(*pair)]
    lookups = pl.concat(frames) if frames else pl.DataFrame(schema=LOOKUP_SCHEMA)
    nests_in = {child: [p for p in order if planner.nested(child, p)] for child in order}
    return LookupPlan(lookups, nests_in, planner.shares)


def _geometries(areas: pl.DataFrame, order: list[str]) -> dict[str, LevelGeometry]:
    crs = equal_area_crs(_bounds(areas))
    levels = {}
    for name in order:
        rows = areas.filter(pl.col("level") == name)
        levels[name] = LevelGeometry(rows["code"].to_numpy(), Polygons(project(rows["geometry"].to_list(), crs)))
    return levels


def _bounds(areas: pl.DataFrame) -> tuple[float, float, float, float]:
    lon, lat = areas["centroid_longitude"], areas["centroid_latitude"]
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))  # type: ignore[arg-type]


class _Planner:
    """The overlaps between every pair of levels (finer first) and what follows from them."""

    def __init__(self, order: list[str], levels: dict[str, LevelGeometry], forced: set[tuple[str, str]]) -> None:
        self.order, self.levels, self.forced = order, levels, forced
        self.overlaps = {(a, b): overlap(levels[a].shapes, levels[b].shapes) for a, b in combinations(order, 2)}
        self.shares = {pair: _nesting_share(levels[pair[0]], found) for pair, found in self.overlaps.items()}
        self.whole = {pair for pair, found in self.overlaps.items()
                      if _nesting_share(levels[pair[0]], found, at_least=WHOLE_SHARE) == 1.0}
        self.populated: str | None = None

    def nested(self, child: str, parent: str) -> bool:
        share = self.shares.get((child, parent))
        return share is not None and (share >= NEST_AREAS or (child, parent) in self.forced)

    def attach_population(self, population: pl.DataFrame | None) -> None:
        """Population of the finest populated level, apportioned by overlap to every coarser level."""
        source = self._populate_finest(population) if population is not None else None
        if source is None:
            return
        self.populated = source
        for name in self.order[self.order.index(source) + 1:]:
            found = self.overlaps[(source, name)]
            self.levels[name].population = np.bincount(found.right, self._people(found),
                                                       minlength=len(self.levels[name].codes))

    def _populate_finest(self, population: pl.DataFrame) -> str | None:
        for name in self.order:
            rows = population.filter(pl.col("level") == name)
            counts = dict(zip(rows["area_code"].to_list(), rows["population"].to_list(), strict=True))
            if any(code in counts for code in self.levels[name].codes):
                self.levels[name].population = np.array([counts.get(c) or 0.0 for c in self.levels[name].codes])
                return name
        return None

    def _people(self, found: Overlap) -> np.ndarray:
        """People in each overlap of a populated-level area with another area (spread evenly by area)."""
        source = self.levels[self.populated]  # type: ignore[index]
        assert source.population is not None
        return source.population[found.left] * found.area_m2 / source.area_m2[found.left]

    def pair_rows(self, child: str, parent: str) -> list[pl.DataFrame]:
        found, nested = self.overlaps[(child, parent)], self.nested(child, parent)
        frames = [_nested_rows(self.levels, child, parent, found) if nested else
                  _area_rows(self.levels, child, parent, found.left, found.right, found.area_m2)]
        frames.append(_area_rows(self.levels, parent, child, found.right, found.left, found.area_m2))
        if self.populated is None or self.order.index(child) < self.order.index(self.populated):
            return frames
        people = self._pair_people(child, parent, found)
        frames.append(_population_rows(self.levels, parent, child, found.right, found.left, people))
        if not nested and child != self.populated:
            frames.append(_population_rows(self.levels, child, parent, found.left, found.right, people))
        return frames

    def _pair_people(self, child: str, parent: str, found: Overlap) -> np.ndarray:
        """People living in each overlap of the (child, parent) pair.

        Where every populated area lies wholly in one area of either level (LSOAs in MSOAs), its
        people go to that area and are split across the other level by overlap; otherwise the
        overlaps themselves are intersected with the populated areas.
        """
        if child == self.populated:
            return self._people(found)
        for whole, split in ((child, parent), (parent, child)):
            if (self.populated, whole) in self.whole:
                return self._people_via(whole, split, found, child_is_whole=whole == child)
        return self._people_by_geometry(child, parent, found)

    def _people_via(self, whole: str, split: str, found: Overlap, *, child_is_whole: bool) -> np.ndarray:
        source: str = self.populated  # type: ignore[assignment]
        home = _best(self.overlaps[(source, whole)], len(self.levels[source].codes))
        spread = self.overlaps[(source, split)]
        pieces = pl.DataFrame({"w": home[spread.left], "s": spread.right, "people": self._people(spread)})
        sums = pieces.group_by("w", "s").agg(pl.col("people").sum())
        w, s = (found.left, found.right) if child_is_whole else (found.right, found.left)
        pairs = pl.DataFrame({"w": w, "s": s})
        return pairs.join(sums, on=["w", "s"], how="left", maintain_order="left")["people"].fill_null(0.0).to_numpy()

    def _people_by_geometry(self, child: str, parent: str, found: Overlap) -> np.ndarray:
        pieces = shapely.intersection(self.levels[child].shapes.geoms[found.left],
                                      self.levels[parent].shapes.geoms[found.right])
        within = overlap(Polygons(pieces), self.levels[self.populated].shapes)  # type: ignore[index]
        return np.bincount(within.left, self._people(_swap(within)), minlength=len(pieces))


def _swap(found: Overlap) -> Overlap:
    return Overlap(found.right, found.left, found.area_m2)


def _best(found: Overlap, size: int) -> np.ndarray:
    """For each left polygon, the right polygon sharing most of its area (-1 when none)."""
    order = np.lexsort((found.area_m2, found.left))
    best = np.full(size, -1)
    best[found.left[order]] = found.right[order]  # the largest overlap of each left comes last, so wins
    return best


def _nesting_share(child: LevelGeometry, found: Overlap, at_least: float = NEST_SHARE) -> float:
    """Share of the child level's areas with at least ``at_least`` of their area inside one parent."""
    if len(child.codes) == 0:
        return 0.0
    best = np.zeros(len(child.codes))
    np.maximum.at(best, found.left, found.area_m2 / child.area_m2[found.left])
    return float((best >= at_least).mean())


def _nested_rows(levels: dict[str, LevelGeometry], child: str, parent: str, found: Overlap) -> pl.DataFrame:
    """Each child goes whole to the parent holding most of its area."""
    best = _best(found, len(levels[child].codes))
    has = np.flatnonzero(best >= 0)
    return _rows(child, levels[child].codes[has], parent, levels[parent].codes[best[has]], np.ones(len(has)), "nested")


def _area_rows(levels: dict[str, LevelGeometry], from_level: str, to_level: str, from_index: np.ndarray,
               to_index: np.ndarray, shared: np.ndarray) -> pl.DataFrame:
    weight = shared / levels[from_level].area_m2[from_index]
    keep = weight >= MIN_SHARE
    return _rows(from_level, levels[from_level].codes[from_index[keep]], to_level,
                 levels[to_level].codes[to_index[keep]], np.minimum(weight[keep], 1.0), "area-weighted")


def _population_rows(levels: dict[str, LevelGeometry], from_level: str, to_level: str, from_index: np.ndarray,
                     to_index: np.ndarray, people: np.ndarray) -> pl.DataFrame:
    totals = levels[from_level].population
    assert totals is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(totals[from_index] > 0, people / totals[from_index], 0.0)
    keep = weight >= MIN_SHARE
    return _rows(from_level, levels[from_level].codes[from_index[keep]], to_level,
                 levels[to_level].codes[to_index[keep]], np.minimum(weight[keep], 1.0), "population-weighted")


def _rows(from_level: str, from_codes: np.ndarray, to_level: str, to_codes: np.ndarray, weights: np.ndarray,
          method: str) -> pl.DataFrame:
    return pl.DataFrame({
        "from_level": [from_level] * len(from_codes), "from_code": from_codes.tolist(),
        "to_level": [to_level] * len(to_codes), "to_code": to_codes.tolist(),
        "weight": weights.astype(float), "method": [method] * len(from_codes),
    }, schema=LOOKUP_SCHEMA)

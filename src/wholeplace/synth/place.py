"""The demo place: areas at four levels, population, deprivation and planted area traits.

Codes copy the shape of ONS codes with an ``X`` country letter that no real area uses:
small areas ``X01…`` (like LSOAs, named "Wenlow 001A"), neighbourhoods ``X02…`` (like
MSOAs, "Wenlow 001"), wards ``X05…`` and districts ``X07…``. Deprivation follows the
shape of the English IMD (rank 1 = most deprived of 32,844 small areas; decile 1 = most
deprived tenth) and is spatially patterned, most deprived near the town centre and in a
few estates; demand generated later rises with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely

from wholeplace.synth.geometry import SETTLEMENTS, Layout, build_layout, to_wgs84
from wholeplace.synth.names import DISTRICT_NAMES, WARD_NAMES
from wholeplace.synth.sampling import rng_for

ENGLAND_SMALL_AREAS = 32_844  # LSOAs ranked in the IMD 2019
MEAN_RESIDENTS = 1_500
DRIVER_AREAS = 15  # small areas with poor private rented housing
INTERVENTION_SHARE = 0.25  # share of small areas covered by the street triage pilot


@dataclass(frozen=True)
class Place:
    """Everything about the place that does not depend on the volume scale."""

    layout: Layout
    areas: pl.DataFrame  # one row per small area, in code order; column ``area`` is its index
    neighbourhoods: pl.DataFrame
    districts: pl.DataFrame
    wards: pl.DataFrame
    population: pl.DataFrame  # code, year, population
    years: tuple[int, ...]

    def polygons(self, level: str) -> np.ndarray:
        """WGS84 polygons of a level, in the row order of its frame."""
        local = {
            "lsoa": self.layout.small,
            "msoa": _unions(self.layout.small, self.areas["neighbourhood"].to_numpy(), self.neighbourhoods.height),
            "lad": _unions(self.layout.small, self.areas["district"].to_numpy(), self.districts.height),
            "ward": self.layout.wards,
        }[level]
        return to_wgs84(local)


def _unions(polygons: np.ndarray, group_of: np.ndarray, groups: int) -> np.ndarray:
    return np.asarray([shapely.coverage_union_all(polygons[group_of == g]) for g in range(groups)])


def build_place(seed: int, years: tuple[int, ...]) -> Place:
    rng = rng_for(seed, "place")
    layout = _in_code_order(build_layout(rng))
    neighbourhood = layout.neighbourhood_of
    district = layout.district_of[neighbourhood]
    districts = pl.DataFrame({"district": range(len(SETTLEMENTS)), "code": _codes("X07", len(SETTLEMENTS)),
                              "name": list(DISTRICT_NAMES)})
    hood_number = _number_within(layout.district_of)
    hood_names = [f"{DISTRICT_NAMES[d]} {n:03d}" for d, n in zip(layout.district_of, hood_number, strict=True)]
    neighbourhoods = pl.DataFrame({
        "neighbourhood": range(len(hood_names)), "code": _codes("X02", len(hood_names)), "name": hood_names,
        "district": layout.district_of, "beat": [f"{DISTRICT_NAMES[d][:2].upper()}{n:02d}"
                                                 for d, n in zip(layout.district_of, hood_number, strict=True)],
    })
    areas = _areas(rng, layout, neighbourhoods, district)
    wards = pl.DataFrame({"ward": range(len(layout.wards)), "code": _codes("X05", len(layout.wards)),
                          "name": _ward_names(rng, len(layout.wards)), "district": layout.ward_district})
    population = _population(rng, areas, years)
    return Place(layout, areas, neighbourhoods, districts, wards, population, years)


def _codes(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:06d}" for i in range(1, count + 1)]


def _number_within(group: np.ndarray) -> np.ndarray:
    """1, 2, 3… within each group, in the order items appear."""
    seen: dict[int, int] = {}
    numbers = []
    for g in group:
        seen[int(g)] = seen.get(int(g), 0) + 1
        numbers.append(seen[int(g)])
    return np.asarray(numbers)


def _in_code_order(layout: Layout) -> Layout:
    """Small areas sorted by district, neighbourhood, then north to south, as ONS numbers them."""
    district = layout.district_of[layout.neighbourhood_of]
    order = np.lexsort((-layout.small_seeds[:, 1], layout.neighbourhood_of, district))
    return Layout(layout.outline, layout.small[order], layout.small_seeds[order], layout.settlement[order],
                  layout.neighbourhood_of[order], layout.district_of, layout.wards, layout.ward_district)


def _areas(rng: np.random.Generator, layout: Layout, neighbourhoods: pl.DataFrame,
           district: np.ndarray) -> pl.DataFrame:
    count = len(layout.small)
    hood = layout.neighbourhood_of
    letters = _number_within(hood)
    names = [f"{neighbourhoods['name'][int(h)]}{chr(64 + n)}" for h, n in zip(hood, letters, strict=True)]
    distance_km = np.hypot(*layout.small_seeds.T) / 1000
    deprivation = _deprivation(rng, layout, distance_km)
    rank = _imd_ranks(rng, deprivation)
    centre = np.isin(np.arange(count), np.argsort(distance_km)[:3])
    frame = pl.DataFrame({
        "area": range(count), "code": _codes("X01", count), "name": names,
        "neighbourhood": hood, "district": district,
        "town": [DISTRICT_NAMES[d] if s < 0 else DISTRICT_NAMES[s] for s, d in zip(layout.settlement, district,
                                                                                     strict=True)],
        "rural": layout.settlement < 0, "centre": centre,
        "deprivation": deprivation, "imd_rank": rank,
        "imd_decile": np.minimum(10, (rank - 1) * 10 // ENGLAND_SMALL_AREAS + 1),
        "residents": np.clip(np.round(MEAN_RESIDENTS * rng.lognormal(0, 0.18, count)), 1_000, 2_800).astype(np.int64),
        "distance_km": distance_km,
    })
    return frame.with_columns(driver=_driver_areas(rng, frame), intervention=_intervention_areas(rng, frame,
                                                                                                 neighbourhoods))


def _deprivation(rng: np.random.Generator, layout: Layout, distance_km: np.ndarray) -> np.ndarray:
    """A standardised deprivation score: high near the town centre and in three estates."""
    x, y = layout.small_seeds.T / 1000
    score = 1.3 * np.exp(-((distance_km / 2.5) ** 2)) - 0.7 * (layout.settlement < 0)
    for _ in range(3):
        angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 4.0)
        score += 1.0 * np.exp(-(np.hypot(x - radius * np.cos(angle), y - radius * np.sin(angle)) / 0.8) ** 2)
    score += rng.normal(0, 0.45, len(x))
    return (score - score.mean()) / score.std()


def _imd_ranks(rng: np.random.Generator, deprivation: np.ndarray) -> np.ndarray:
    """Distinct national ranks, a little skewed to the deprived end, most deprived area first."""
    ranks: np.ndarray = np.empty(0, dtype=np.int64)
    while len(ranks) < len(deprivation):
        draws = np.ceil(rng.beta(0.9, 1.15, len(deprivation)) * ENGLAND_SMALL_AREAS).astype(np.int64)
        ranks = np.unique(np.concatenate([ranks, np.clip(draws, 1, ENGLAND_SMALL_AREAS)]))
    chosen = np.sort(rng.choice(ranks, len(deprivation), replace=False))
    result = np.empty_like(chosen)
    result[np.argsort(-deprivation)] = chosen
    return result


def _driver_areas(rng: np.random.Generator, areas: pl.DataFrame) -> np.ndarray:
    """Poor private rented housing: inner-town areas, likelier where deprivation is higher."""
    eligible = (~areas["centre"] & ~areas["rural"] & areas["distance_km"].is_between(0.6, 3.5)).to_numpy()
    weight = np.where(eligible, np.exp(areas["deprivation"].to_numpy()), 0.0)
    chosen = rng.choice(areas.height, DRIVER_AREAS, replace=False, p=weight / weight.sum())
    return np.isin(np.arange(areas.height), chosen)


def _intervention_areas(rng: np.random.Generator, areas: pl.DataFrame, neighbourhoods: pl.DataFrame) -> np.ndarray:
    """Whole town neighbourhoods join the pilot until about a quarter of small areas are in it."""
    town = neighbourhoods.filter(pl.col("district") == 0)["neighbourhood"].to_numpy()
    chosen: list[int] = []
    for hood in rng.permutation(town):
        if areas["neighbourhood"].is_in(chosen).mean() >= INTERVENTION_SHARE:  # type: ignore[operator]
            break
        chosen.append(int(hood))
    return areas["neighbourhood"].is_in(chosen).to_numpy()


def _ward_names(rng: np.random.Generator, count: int) -> list[str]:
    return sorted(rng.choice(WARD_NAMES, count, replace=False).tolist())


def _population(rng: np.random.Generator, areas: pl.DataFrame, years: tuple[int, ...]) -> pl.DataFrame:
    """Mid-year residents per small area and year: about 0.5% growth a year, with noise."""
    base = areas["residents"].to_numpy().astype(np.float64)
    frames = []
    for step, year in enumerate(years):
        growth = (1.005 ** step) * rng.normal(1.0, 0.008, len(base))
        frames.append(pl.DataFrame({"code": areas["code"], "year": year,
                                    "population": np.round(base * growth).astype(np.int64)}))
    return pl.concat(frames)

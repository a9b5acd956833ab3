"""The demo place's boundaries: valid, gap-free coverages that nest where they should."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from wholeplace.synth.place import Place, build_place

YEARS = (2022, 2023, 2024)


@pytest.fixture(scope="module")
def place() -> Place:
    return build_place(20260101, YEARS)


def test_the_place_has_the_planned_number_of_areas_at_each_level(place: Place) -> None:
    assert 120 <= place.areas.height <= 180
    assert 8 <= place.neighbourhoods.height <= 12
    assert 20 <= place.wards.height <= 30
    assert 2 <= place.districts.height <= 3
    assert place.areas["code"].str.contains(r"^X01\d{6}$").all()
    assert place.areas["name"][0].endswith("001A")


@pytest.mark.parametrize("level", ["lsoa", "msoa", "lad", "ward"])
@pytest.mark.parametrize("seed", [20260101, 8, 16])
def test_every_level_is_a_valid_gap_free_coverage(level: str, seed: int) -> None:
    place = build_place(seed, YEARS)
    polygons = place.polygons(level)
    outline = shapely.coverage_union_all(place.polygons("lsoa"))
    assert shapely.is_valid(polygons).all()
    assert shapely.coverage_is_valid(polygons)  # no overlaps, shared edges match exactly
    assert shapely.coverage_union_all(polygons).area == pytest.approx(outline.area, rel=1e-9)
    assert shapely.area(polygons).sum() == pytest.approx(outline.area, rel=1e-9)  # hence no gaps either
    assert len(shapely.get_parts(shapely.coverage_union_all(polygons))) == 1


def test_the_place_lies_inland_in_the_english_midlands(place: Place) -> None:
    lon, lat = shapely.get_coordinates(place.polygons("lad")).T
    assert lon.min() > -2.3 and lon.max() < -1.5
    assert lat.min() > 52.7 and lat.max() < 53.1


def test_small_areas_nest_exactly_in_neighbourhoods_and_those_in_districts(place: Place) -> None:
    small, hoods, districts = place.polygons("lsoa"), place.polygons("msoa"), place.polygons("lad")
    hood_of = place.areas["neighbourhood"].to_numpy()
    inside = [hoods[h].buffer(1e-9).contains(small[i]) for i, h in enumerate(hood_of)]
    assert all(inside)
    district_of = place.neighbourhoods["district"].to_numpy()
    assert all(districts[d].buffer(1e-9).contains(hoods[i]) for i, d in enumerate(district_of))
    for h in range(len(hoods)):
        assert shapely.coverage_union_all(small[hood_of == h]).equals(hoods[h])


def test_wards_nest_in_districts_but_cut_across_small_areas(place: Place) -> None:
    small, wards, districts = place.polygons("lsoa"), place.polygons("ward"), place.polygons("lad")
    assert all(districts[d].buffer(1e-9).contains(wards[i]) for i, d in enumerate(place.wards["district"]))
    shares = np.array([[shapely.intersection(s, w).area / s.area for w in wards] for s in small])
    straddling = (np.sort(shares, axis=1)[:, -1] < 0.95).sum()
    assert straddling >= 10  # many small areas lie in two or more wards


def test_deprivation_follows_the_imd_shape_and_the_planted_traits_are_set(place: Place) -> None:
    areas = place.areas
    assert areas["imd_rank"].is_unique().all()
    assert areas["imd_rank"].min() >= 1 and areas["imd_rank"].max() <= 32_844
    assert set(areas["imd_decile"].unique()) <= set(range(1, 11))
    more_deprived = areas.sort("imd_rank")["deprivation"].to_numpy()
    assert np.all(np.diff(more_deprived) <= 0)  # rank 1 is the most deprived
    assert areas["driver"].sum() == 15
    assert 0.2 <= areas["intervention"].mean() <= 0.45  # type: ignore[operator]
    assert areas["residents"].mean() == pytest.approx(1_500, rel=0.1)

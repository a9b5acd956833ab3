"""Streets, addresses, premises, postcodes and police.uk snap points of the demo place.

Every small area gets streets (each with a point where police.uk would put its "On or near"
snap point) and one address per household, placed inside the area's polygon. A few
premises draw much more demand than homes (pubs, shops, the hospital, a mental-health unit,
care homes, stations), and homes themselves differ: each address has a heavy-tailed
"repeat" weight, so some addresses call again and again, as real repeat locations do.
Postcodes use the outward codes XV1…XV11, an area letter pair no real postcode uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import shapely

from wholeplace.synth.geometry import points_in, xy_to_lonlat
from wholeplace.synth.names import PREMISES, STREET_STEMS, STREET_SUFFIXES
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import rng_for

PEOPLE_PER_HOUSEHOLD = 2.35
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in inward codes
ADDRESSES_PER_POSTCODE = 16
# Relative weight of demand at a premises compared with an average home.
PREMISES_WEIGHT = {"pub": 60.0, "shop": 45.0, "hospital": 120.0, "mh_unit": 80.0, "care_home": 40.0, "station": 35.0}


def build_addresses(seed: int, place: Place) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Addresses (homes and premises) and snap points, each with the small area they lie in."""
    rng = rng_for(seed, "addresses")
    names = _street_names(rng, place)
    premises_at = _premises_sites(rng, place)
    addresses, snaps = [], []
    for row in place.areas.iter_rows(named=True):
        area_addresses, area_snaps = _area(rng, place, row, next(names[row["town"]]), premises_at.get(row["area"], []))
        addresses.append(area_addresses)
        snaps.append(area_snaps)
    snap_frame = pl.concat(snaps).with_row_index("snap")
    address_frame = pl.concat(addresses).with_row_index("address")
    address_frame = address_frame.join(snap_frame.select("snap", "area", "snap_key"), on=["area", "snap_key"],
                                       how="left").drop("snap_key").sort("address")
    return _with_postcodes(address_frame, place), snap_frame.drop("snap_key")


def _street_names(rng: np.random.Generator, place: Place) -> dict[str, Iterator[list[str]]]:
    """For each town, a generator of batches of street names never repeated within the town."""
    def batches(town_rng: np.random.Generator) -> Iterator[list[str]]:
        pool = [f"{stem} {suffix}" for stem in STREET_STEMS for suffix in STREET_SUFFIXES]
        order = town_rng.permutation(len(pool))
        position = 0
        while True:
            size = int(town_rng.integers(6, 13))
            yield [pool[i] for i in order[position:position + size]]
            position += size

    towns = sorted(set(place.areas["town"].to_list()))
    return {town: batches(np.random.default_rng(rng.integers(2**63))) for town in towns}


def _premises_sites(rng: np.random.Generator, place: Place) -> dict[int, list[tuple[str, str]]]:
    """Which premises stand in which small area: pubs and shops in centres, one hospital and
    one mental-health unit in the town, a care home in each district, stations in centres."""
    areas = place.areas
    centre = areas.filter(pl.col("centre"))["area"].to_list()
    town = areas.filter((pl.col("district") == 0) & ~pl.col("centre") & ~pl.col("rural"))["area"].to_numpy()
    sites: dict[int, list[tuple[str, str]]] = {}

    def put(area: int, kind: str, index: int) -> None:
        sites.setdefault(int(area), []).append((kind, PREMISES[kind][0][index % len(PREMISES[kind][0])]))

    for i in range(len(PREMISES["pub"][0])):
        put(centre[i % len(centre)], "pub", i)
    for i, area in enumerate([*centre[:2], *rng.choice(areas.height, 4, replace=False)]):
        put(area, "shop", i)
    put(rng.choice(town), "hospital", 0)
    put(rng.choice(town), "mh_unit", 0)
    for district in range(place.districts.height):
        put(rng.choice(areas.filter(pl.col("district") == district)["area"].to_numpy()), "care_home", district)
    put(centre[0], "station", 0)
    put(centre[1], "station", 1)
    return sites


def _area(rng: np.random.Generator, place: Place, row: dict, streets: list[str],
          premises: list[tuple[str, str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    polygon = place.layout.small[row["area"]]
    anchors = points_in(rng, polygon, len(streets), margin=40)
    homes = max(40, round(row["residents"] / PEOPLE_PER_HOUSEHOLD))
    points = points_in(rng, polygon, homes)
    street_of = shapely.STRtree(shapely.points(anchors)).query_nearest(shapely.points(points), all_matches=False)[1]
    numbers = _house_numbers(rng, street_of)
    texts = [f"{n} {streets[s]}, {row['town']}" for n, s in zip(numbers, street_of, strict=True)]
    home = pl.DataFrame({
        "area": row["area"], "kind": "home", "street": [streets[s] for s in street_of], "text": texts,
        "x": points[:, 0], "y": points[:, 1], "weight": rng.gamma(0.6, 1 / 0.6, homes),
        "snap_key": [f"street:{s}" for s in street_of],
    })
    extra = _premises_rows(rng, polygon, row, premises, streets)
    snaps = _snap_rows(row["area"], streets, anchors, extra)
    return pl.concat([home, extra]) if extra.height else home, snaps


def _house_numbers(rng: np.random.Generator, street_of: np.ndarray) -> np.ndarray:
    numbers = np.zeros(len(street_of), dtype=np.int64)
    for street in np.unique(street_of):
        members = np.flatnonzero(street_of == street)
        numbers[members] = rng.permutation(len(members)) + 1
    return numbers


def _premises_rows(rng: np.random.Generator, polygon, row: dict, premises: list[tuple[str, str]],  # type: ignore[no-untyped-def]
                   streets: list[str]) -> pl.DataFrame:
    if not premises:
        return pl.DataFrame(schema={"area": pl.Int64, "kind": pl.String, "street": pl.String, "text": pl.String,
                                    "x": pl.Float64, "y": pl.Float64, "weight": pl.Float64, "snap_key": pl.String})
    points = points_in(rng, polygon, len(premises), margin=40)
    street = [streets[int(i)] for i in rng.integers(0, len(streets), len(premises))]
    return pl.DataFrame({
        "area": row["area"], "kind": [k for k, _ in premises], "street": street,
        "text": [f"{name}, {s}, {row['town']}" for (_, name), s in zip(premises, street, strict=True)],
        "x": points[:, 0], "y": points[:, 1], "weight": [PREMISES_WEIGHT[k] for k, _ in premises],
        "snap_key": [f"premises:{i}" for i in range(len(premises))],
    })


def _snap_rows(area: int, streets: list[str], anchors: np.ndarray, premises: pl.DataFrame) -> pl.DataFrame:
    texts = [f"On or near {s}" for s in streets] + [PREMISES[k][1] for k in premises["kind"].to_list()]
    xy = np.vstack([anchors, premises.select("x", "y").to_numpy()]) if premises.height else anchors
    lon, lat = xy_to_lonlat(xy)
    keys = [f"street:{i}" for i in range(len(streets))] + premises["snap_key"].to_list()
    return pl.DataFrame({"area": area, "text": texts, "longitude": np.round(lon, 6), "latitude": np.round(lat, 6),
                         "snap_key": keys})


def _with_postcodes(addresses: pl.DataFrame, place: Place) -> pl.DataFrame:
    """Postcodes: consecutive addresses of a street share one, about sixteen to a postcode."""
    lon, lat = xy_to_lonlat(addresses.select("x", "y").to_numpy())
    hood = place.areas["neighbourhood"].to_numpy()[addresses["area"].to_numpy()]
    frame = addresses.with_columns(longitude=lon, latitude=lat, outward=pl.Series([f"XV{h + 1}" for h in hood]))
    frame = frame.with_columns(
        (pl.col("address").rank("ordinal").over("area", "street") - 1).floordiv(ADDRESSES_PER_POSTCODE).alias("_block"))
    blocks = frame.select("outward", "area", "street", "_block").unique(maintain_order=True)
    blocks = blocks.with_columns(pl.int_range(pl.len()).over("outward").alias("_n"))
    blocks = blocks.with_columns(pl.Series("inward", [_inward(n) for n in blocks["_n"]]))
    frame = frame.join(blocks, on=["outward", "area", "street", "_block"], how="left")
    return frame.with_columns((pl.col("outward") + " " + pl.col("inward")).alias("postcode")).drop(
        "_block", "_n", "inward", "outward").sort("address")


def _inward(n: int) -> str:
    letters = len(POSTCODE_LETTERS)
    pair, digit = n % (letters * letters), 1 + (n // (letters * letters)) % 9
    return f"{digit}{POSTCODE_LETTERS[pair // letters]}{POSTCODE_LETTERS[pair % letters]}"

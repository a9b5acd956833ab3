"""Places for web tests, built through the real ingest path.

``PLACES`` maps a place name to a builder ``(settings, workdir) -> Place``; the page and API
tests are parametrised over it, so a new place is one more entry.

- ``squares``: four square small areas (level ``lsoa``) inside one ward (level ``ward``), and
  two police forces' data.police.uk files with known counts, one bad row and one supplied
  area code that disagrees with the computed one.
- ``lancashire``: the real Lancashire LSOA boundaries and three months of street crime from
  ``../shared`` (fails under CI when the data is missing, else skips).
- ``demo``: the synthetic demo place (fails under CI when the generator is missing, else skips).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import select

from tests.conftest import require_shared
from tests.support.police_files import street_row, write_street_file
from wholeplace.geography.boundaries import load_boundaries
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores
from wholeplace.store.operational import LevelRow

LANCASHIRE_MONTHS = ("2021-01", "2021-02", "2021-03")


@dataclass
class Place:
    """A built place and what the tests know about it."""

    name: str
    settings: Settings
    levels: list[str]
    busiest_area: str | None = None  # name of the finest-level area with most events
    facts: dict[str, Any] = field(default_factory=dict)

    def stores(self) -> Stores:
        """Stores of the place; the caller closes them."""
        return open_stores(self.settings)


# -- boundaries ------------------------------------------------------------------------------

def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


# -- the squares place -------------------------------------------------------------------------

WEST, SOUTH, STEP = -2.70, 53.75, 0.01
SQUARES = {  # code: (name, column, row) in a 2 x 2 grid
    "E01000001": ("Squareton 001A", 0, 0),
    "E01000002": ("Squareton 001B", 1, 0),
    "E01000003": ("Squareton 001C", 0, 1),
    "E01000004": ("Squareton 001D", 1, 1),
}


def square(column: int, row: int, size: int = 1) -> dict[str, Any]:
    x, y = WEST + column * STEP, SOUTH + row * STEP
    return shapely.geometry.mapping(shapely.box(x, y, x + size * STEP, y + size * STEP))


def centre(code: str) -> tuple[float, float]:
    _, column, row = SQUARES[code]
    return round(WEST + (column + 0.5) * STEP, 6), round(SOUTH + (row + 0.5) * STEP, 6)


def crime(month: str, force: str, code: str, crime_type: str, supplied_code: str | None = None) -> list[str]:
    """A located row at the centre of square ``code``, optionally supplying a different area code."""
    lon, lat = centre(code)
    return street_row(month, crime_type, lon=str(lon), lat=str(lat), lsoa=supplied_code or code, force=force)


def unlocated(month: str, force: str, crime_type: str) -> list[str]:
    return street_row(month, crime_type, lon="", lat="", lsoa="", force=force)


def write_squares_files(folder: Path) -> tuple[Path, Path, list[Path]]:
    """Two boundary files and two forces' street files; counts are chosen to be told apart."""
    folder.mkdir(parents=True, exist_ok=True)
    squares = write_geojson(folder / "squares.geojson", [
        {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": square(col, row)}
        for code, (name, col, row) in SQUARES.items()
    ])
    ward = write_geojson(folder / "ward.geojson", [
        {"type": "Feature", "properties": {"code": "E05000001", "name": "Squareton Ward"},
         "geometry": square(0, 0, size=2)}
    ])
    testshire, otherton = "Testshire Police", "Otherton Police"
    rows_a = ([crime("2021-01", testshire, "E01000001", "Burglary")] * 5
              + [crime("2021-01", testshire, "E01000002", "Anti-social behaviour")] * 2
              + [crime("2021-03", testshire, "E01000003", "Drugs", supplied_code="E01000004"),
                 unlocated("2021-13", testshire, "Burglary"),  # refused: no such month
                 unlocated("2021-03", testshire, "Shoplifting")])
    rows_b = [crime("2021-02", otherton, "E01000004", "Robbery")] * 3
    files = [write_street_file(folder / "2021-01-testshire-street.csv", rows_a),
             write_street_file(folder / "2021-02-otherton-street.csv", rows_b)]
    return squares, ward, files


def build_squares(settings: Settings, workdir: Path) -> Place:
    squares, ward, files = write_squares_files(workdir / "files")
    stores = open_stores(settings)
    load_boundaries(stores=stores, path=ward, level="ward", code_field="code", name_field="name")
    load_boundaries(stores=stores, path=squares, level="lsoa", code_field="code", name_field="name",
                    parent_level="ward")
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=files, settings=settings)
    stores.close()
    return Place("squares", settings, ["lsoa", "ward"], busiest_area="Squareton 001A", facts={
        "events": 12, "placed": 11, "partners": 2, "months": 3, "quarantined": 1, "disagreements": 1,
        "partner_codes": ["police-otherton-police", "police-testshire-police"],
        "by_area": {"E01000001": 5, "E01000002": 2, "E01000003": 1, "E01000004": 3},
    })


# -- Lancashire ------------------------------------------------------------------------------

def build_lancashire(settings: Settings, workdir: Path) -> Place:
    boundaries = require_shared("data/boundaries-lancashire/lsoa2011_lancashire.geojson")
    street = require_shared("data/police-uk-lancashire-street/street")
    stores = open_stores(settings)
    load_boundaries(stores=stores, path=boundaries, level="lsoa", code_field="LSOA11CD", name_field="LSOA11NM")
    files = [street / f"{month}-lancashire-street.csv.gz" for month in LANCASHIRE_MONTHS]
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=files, settings=settings)
    stores.close()
    return Place("lancashire", settings, ["lsoa"], facts={"months": 3, "areas": 941})


# -- the demo place --------------------------------------------------------------------------

def build_demo_place(settings: Settings, workdir: Path) -> Place:
    try:
        from wholeplace.synth.demo import build_demo
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the demo place cannot be built: {exc}")
        pytest.skip(f"the demo place generator is not available: {exc}")
    result = build_demo(settings=settings, seed=20260101, reporter=None, scale=0.01)
    built = getattr(result, "settings", settings)
    levels = [row.name for row in _levels(built)]
    return Place("demo", built, levels)


def _levels(settings: Settings) -> list[LevelRow]:
    stores = open_stores(settings)
    try:
        with stores.sessions() as session:
            return list(session.scalars(select(LevelRow).order_by(LevelRow.median_area_m2)).all())
    finally:
        stores.close()


PLACES: dict[str, Callable[[Settings, Path], Place]] = {
    "squares": build_squares,
    "lancashire": build_lancashire,
    "demo": build_demo_place,
}


def settings_in(folder: Path) -> Settings:
    return Settings(data_dir=folder / "data", partnership_key_file=None)

"""Writing the demo place as partners and publishers would deliver it.

Boundaries as GeoJSON with ONS-style fields, population, deprivation and the rural-urban
classification as CSV in the layouts ONS and MHCLG publish, police recorded crime as data.police.uk monthly street
files, and every other partner's extract as one CSV a month. Nothing written depends on
the time of the run, so the same seed always writes the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import shapely

from wholeplace.synth.crime import FORCE_SLUG
from wholeplace.synth.generate import POLICE_UK, DemoData
from wholeplace.synth.geometry import SETTLEMENTS
from wholeplace.synth.place import Place

# level → (file, code field, name field, parent level, parent code field)
BOUNDARY_FILES = {
    "lad": ("districts.geojson", "LAD23CD", "LAD23NM", None, None),
    "msoa": ("neighbourhoods.geojson", "MSOA21CD", "MSOA21NM", "lad", "LAD23CD"),
    "lsoa": ("small-areas.geojson", "LSOA21CD", "LSOA21NM", "msoa", "MSOA21CD"),
    "ward": ("wards.geojson", "WD23CD", "WD23NM", "lad", "LAD23CD"),
}
PARTNER_FOLDERS = {
    "demo-police-calls": "police-calls", "demo-ambulance-incidents": "ambulance",
    "demo-ae-attendances": "ae", "demo-crisis-contacts": "crisis", "demo-council-reports": "council",
}


RURAL_URBAN_FILE = "rural-urban.csv"
# The demo's classes in the ONS 2011 Rural Urban Classification: every town area is a city or town,
# the countryside is town fringe where it is nearest a town and villages beyond.
URBAN_CLASS = ("C1", "Urban city and town")
FRINGE_CLASS = ("D1", "Rural town and fringe")
VILLAGE_CLASS = ("E1", "Rural village and dispersed")


@dataclass
class DemoFiles:
    folder: Path
    boundaries: dict[str, Path] = field(default_factory=dict)
    population: Path | None = None
    deprivation: Path | None = None
    rural_urban: Path | None = None
    datasets: dict[str, list[Path]] = field(default_factory=dict)  # dataset code → monthly files


def write_demo_files(data: DemoData, folder: Path) -> DemoFiles:
    folder.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(folder)
    for level in BOUNDARY_FILES:
        files.boundaries[level] = write_boundaries(data.place, level, folder / "boundaries")
    files.population = write_population(data.place, folder / "context" / "population.csv")
    files.deprivation = write_deprivation(data.place, folder / "context" / "deprivation.csv")
    files.rural_urban = write_rural_urban(data.place, folder / "context" / RURAL_URBAN_FILE)
    for code, frame in data.datasets.items():
        files.datasets[code] = write_monthly(code, frame, data.months, folder)
    return files


def write_boundaries(place: Place, level: str, folder: Path) -> Path:
    name, code_field, name_field, _, parent_field = BOUNDARY_FILES[level]
    frame = {"lad": place.districts, "msoa": place.neighbourhoods, "lsoa": place.areas, "ward": place.wards}[level]
    parents = _parent_codes(place, level)
    features = [
        {"type": "Feature",
         "properties": {code_field: code, name_field: label} | ({parent_field: parents[i]} if parent_field else {}),
         "geometry": shapely.geometry.mapping(geometry)}
        for i, (code, label, geometry) in enumerate(zip(frame["code"], frame["name"], place.polygons(level),
                                                        strict=True))
    ]
    collection = {"type": "FeatureCollection", "name": name.removesuffix(".geojson"), "features": features}
    return _write_text(folder / name, json.dumps(collection, separators=(",", ":")) + "\n")


def _parent_codes(place: Place, level: str) -> list[str]:
    districts = place.districts["code"].to_numpy()
    if level == "msoa":
        return districts[place.neighbourhoods["district"].to_numpy()].tolist()
    if level == "lsoa":
        return place.neighbourhoods["code"].to_numpy()[place.areas["neighbourhood"].to_numpy()].tolist()
    if level == "ward":
        return districts[place.wards["district"].to_numpy()].tolist()
    return []


def write_population(place: Place, path: Path) -> Path:
    """Mid-year estimates in the layout of the ONS small-area files: Year, LSOA Code, Population."""
    frame = place.population.sort("year", "code").select(
        pl.col("year").alias("Year"), pl.col("code").alias("LSOA Code"), pl.col("population").alias("Population"))
    return _write_csv(frame, path)


def write_deprivation(place: Place, path: Path) -> Path:
    """The layout of the English IMD file, with an X code and a score derived from the rank."""
    areas = place.areas
    districts = place.districts
    rank = areas["imd_rank"].to_numpy()
    frame = pl.DataFrame({
        "LSOA code": areas["code"], "LSOA name": areas["name"],
        "Local Authority District code": districts["code"].to_numpy()[areas["district"].to_numpy()],
        "Local Authority District name": districts["name"].to_numpy()[areas["district"].to_numpy()],
        "Index of Multiple Deprivation (IMD) Score": np.round(2 + 75 * np.exp(-rank / 9_000), 3),
        "Index of Multiple Deprivation (IMD) Rank": rank,
        "Index of Multiple Deprivation (IMD) Decile": areas["imd_decile"],
    })
    return _write_csv(frame, path)


def write_rural_urban(place: Place, path: Path) -> Path:
    """The layout of the ONS 2011 Rural Urban Classification of small areas (RUC11CD, RUC11), for
    the demo's small areas: urban where ``areas["rural"]`` is false, rural town and fringe for the
    half of the countryside nearest a town, rural village and dispersed for the rest."""
    areas = place.areas
    towns = np.array([[x, y] for _, x, y, _, _ in SETTLEMENTS]) * 1000
    seeds = place.layout.small_seeds
    nearest = np.hypot(seeds[:, None, 0] - towns[None, :, 0], seeds[:, None, 1] - towns[None, :, 1]).min(axis=1)
    rural = areas["rural"].to_numpy()
    fringe = rural & (nearest <= np.median(nearest[rural]))
    classes = [URBAN_CLASS if not r else FRINGE_CLASS if f else VILLAGE_CLASS
               for r, f in zip(rural, fringe, strict=True)]
    frame = pl.DataFrame({"LSOA21CD": areas["code"], "LSOA21NM": areas["name"],
                          "RUC11CD": [c[0] for c in classes], "RUC11": [c[1] for c in classes]})
    return _write_csv(frame, path)


def write_monthly(code: str, frame: pl.DataFrame, months: np.ndarray, folder: Path) -> list[Path]:
    """One file a month: police.uk's own naming for crime, ``<partner>-YYYY-MM.csv`` otherwise."""
    month_of_row = _months_of(code, frame, months)
    columns = [c for c in frame.columns if not c.startswith("_")]
    paths = []
    for month in pl.Series(months.astype("datetime64[D]")).dt.strftime("%Y-%m").to_list():
        rows = frame.filter(month_of_row == month).select(columns)
        if code == POLICE_UK:
            path = folder / "police-uk" / month / f"{month}-{FORCE_SLUG}-street.csv"
        else:
            path = folder / PARTNER_FOLDERS[code] / f"{PARTNER_FOLDERS[code]}-{month}.csv"
        paths.append(_write_csv(rows, path))
    return paths


def _months_of(code: str, frame: pl.DataFrame, months: np.ndarray) -> pl.Series:
    if code == POLICE_UK:
        return frame["Month"]
    return frame["_at"].dt.strftime("%Y-%m")


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, line_terminator="\n")
    return path


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path

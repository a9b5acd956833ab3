"""Reading a boundary file: which fields hold the codes and names, and whether it can be trusted.

GDAL (through pyogrio) reads GeoJSON, GeoPackage and Shapefiles alike, so the product never
parses a geographic format itself. Everything a user can fix (a missing field, blank or
repeated codes, a file that is not geographic, no features) is refused here, before anything
is computed or stored, with every problem named at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from wholeplace.errors import InputError, Problem, UserError
from wholeplace.ingest.reading import file_sha256

ONS_CODE = re.compile(r"^[EWSNK]\d{8}$")
WGS84 = "EPSG:4326"
POLYGONAL = {"Polygon", "MultiPolygon"}
FORMATS_HINT = "Boundaries must be a GeoJSON, GeoPackage or Shapefile of polygons (one feature per area)."


@dataclass
class BoundarySource:
    """A boundary file's areas in WGS84, with the fields their codes and names came from."""

    path: Path
    sha256: str
    frame: gpd.GeoDataFrame  # columns code, name, geometry (EPSG:4326)
    code_field: str
    name_field: str
    repaired: list[str] = field(default_factory=list)  # codes of areas whose geometry was invalid
    reprojected_from: str | None = None
    notes: list[str] = field(default_factory=list)


def read_boundaries(path: Path, *, code_field: str | None = None, name_field: str | None = None) -> BoundarySource:
    """Read, check and normalise a boundary file; refuses it whole when it cannot be used."""
    raw = _read_frame(path)
    code = code_field or detect_code_field(raw, path)
    name = name_field or detect_name_field(raw, path, code)
    _require_fields(raw, path, [code, name])
    _check_codes(raw, path, code)
    frame = gpd.GeoDataFrame(
        {"code": raw[code].astype(str).str.strip().to_numpy(), "name": raw[name].astype("string").to_numpy()},
        geometry=raw.geometry.to_numpy(), crs=raw.crs,
    )
    source = BoundarySource(path, file_sha256(path)[0], frame, code, name)
    _check_geometry_types(source)
    _to_wgs84(source)
    _repair(source)
    return source


def _read_frame(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputError([Problem(str(path), "no such file")], hint="Check the path and try again.")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError([Problem(str(path), f"not a geographic file GDAL can read ({exc})")],
                         hint=FORMATS_HINT) from None
    if len(frame) == 0:
        raise InputError([Problem(str(path), "the file has no features")], hint=FORMATS_HINT)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise InputError([Problem(str(path), "the file has no geometries (is it a table rather than boundaries?)")],
                         hint=FORMATS_HINT)
    return frame


def _fields(frame: gpd.GeoDataFrame) -> list[str]:
    return [str(c) for c in frame.columns if c != frame.geometry.name]


def detect_code_field(frame: gpd.GeoDataFrame, path: Path) -> str:
    """The unique, complete text field that looks most like area codes.

    ONS-style codes (``E01012345``) count most, then a field name ending ``CD``, then one
    containing ``code``. A tie or no candidate is refused rather than guessed.
    """
    scored = sorted(((_code_score(frame[f], f), f) for f in _fields(frame)), reverse=True)
    scored = [(score, f) for score, f in scored if score > (0, 0, 0)]
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        tied = [f for score, f in scored if score == scored[0][0]] if scored else []
        why = f"several fields could be ({', '.join(tied)})" if tied else "no field holds unique area codes"
        raise UserError(f"{path}: cannot tell which field holds the area codes: {why}. "
                        f"The file's fields are: {', '.join(_fields(frame))}.",
                        hint="Name it with --code-field.")
    return scored[0][1]


def _code_score(column: pd.Series, name: str) -> tuple[int, int, int]:
    values = column.dropna().astype(str).str.strip()
    if len(values) != len(column) or not values.is_unique or (values == "").any():
        return (0, 0, 0)
    ons = int(values.map(lambda v: bool(ONS_CODE.match(v))).mean() >= 0.99)
    return (ons, int(name.upper().endswith("CD")), int("code" in name.lower()))


def detect_name_field(frame: gpd.GeoDataFrame, path: Path, code_field: str) -> str:
    """The name field paired with the code field (``LSOA11CD`` → ``LSOA11NM``), else one ending ``NM`` or ``name``."""
    fields = _fields(frame)
    paired = code_field[:-2] + "NM" if code_field.upper().endswith("CD") else None
    if paired in fields:
        return paired
    candidates = [f for f in fields if f.upper().endswith("NM") or f.lower() == "name"]
    if not candidates:
        raise UserError(f"{path}: cannot tell which field holds the area names (none ends in NM or is called name). "
                        f"The file's fields are: {', '.join(fields)}.", hint="Name it with --name-field.")
    return max(candidates, key=lambda f: frame[f].nunique())


def _require_fields(frame: gpd.GeoDataFrame, path: Path, wanted: list[str]) -> None:
    missing = [f for f in wanted if f not in frame.columns]
    if missing:
        raise UserError(f"{path}: there is no field {', '.join(repr(m) for m in missing)}. "
                        f"The file's fields are: {', '.join(_fields(frame))}.",
                        hint="Field names are case-sensitive; pass one of these with --code-field / --name-field.")


def _check_codes(frame: gpd.GeoDataFrame, path: Path, code_field: str) -> None:
    codes = frame[code_field].astype("string").str.strip()
    problems = [Problem(str(path), f"feature {i + 1} has a blank code", column=code_field)
                for i in np.flatnonzero(codes.isna() | (codes == ""))[:10]]
    repeated = codes[codes.duplicated(keep=False) & codes.notna() & (codes != "")]
    for code, group in list(repeated.groupby(repeated, sort=True))[:10]:
        features = ", ".join(str(i + 1) for i in group.index[:5])
        problems.append(Problem(str(path), f"code {code} is used by {len(group)} features ({features})",
                                column=code_field))
    if problems:
        raise InputError(problems, hint="Each area needs one distinct code; check --code-field names the right field.")


def _check_geometry_types(source: BoundarySource) -> None:
    geoms = source.frame.geometry
    empty = geoms.isna() | geoms.is_empty
    wrong = ~empty & ~geoms.geom_type.isin(POLYGONAL)
    problems = [Problem(str(source.path), f"area {c} has no geometry") for c in source.frame["code"][empty][:10]]
    problems += [Problem(str(source.path), f"area {c} is a {t}, not a polygon")
                 for c, t in zip(source.frame["code"][wrong][:10], geoms.geom_type[wrong][:10], strict=True)]
    if problems:
        raise InputError(problems, hint=FORMATS_HINT)


def _to_wgs84(source: BoundarySource) -> None:
    frame = source.frame
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise InputError([Problem(str(source.path), "the file does not say which coordinate system it uses, "
                                      "and its coordinates are not longitude/latitude")],
                             hint="Save it with its coordinate system (for a Shapefile, the .prj file beside it).")
        source.frame = frame.set_crs(WGS84)
        source.notes.append("the file names no coordinate system; its coordinates were read as WGS84 lon/lat")
    elif frame.crs.to_epsg() != 4326:
        source.reprojected_from = frame.crs.to_string()
        source.frame = frame.to_crs(WGS84)


def _repair(source: BoundarySource) -> None:
    """Invalid polygons (self-intersections, bow-ties) are repaired rather than refused: the
    published boundaries often carry a few, and repair keeps their area; only polygonal parts are kept."""
    geoms = source.frame.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return
    fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    geoms[invalid] = [_polygonal(g) for g in fixed]
    source.frame = source.frame.set_geometry(gpd.GeoSeries(geoms, crs=source.frame.crs, index=source.frame.index))
    source.repaired = sorted(source.frame["code"][invalid].tolist())


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL]
    return shapely.union_all(parts)

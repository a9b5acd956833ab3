"""Postcode centroids for directory search, loaded from the ONS Postcode Directory (ONSPD), the National
Statistics Postcode Lookup (NSPL) or OS Code-Point Open into ``directory_postcodes``.

The file is read as a stream and written in batches, so the whole country (about 2.7 million rows) never sits
in memory. The format is told from the first line: ONSPD and NSPL have a header naming ``pcds`` (or ``pcd``),
``lat``, ``long`` and ``doterm``; Code-Point Open has no header, and its rows start with a postcode, a positional
quality and the British National Grid easting and northing, converted here to WGS84 with pyproj. Without the
OSTN15 grid (which pyproj does not ship) that conversion uses the published Helmert parameters and is good to a
few metres, far inside the kilometres a directory search measures.

A load is one transaction that replaces the table: a file refused part way leaves the previous postcodes as they
were. Terminated postcodes and those without a grid reference are skipped and counted; a row whose value does not
parse is rejected and kept with its line, column and reason, and a file with more rejected rows than
``WHOLEPLACE_MAX_QUARANTINE_SHARE`` allows is refused whole.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wholeplace.directory.index import normalise_postcode
from wholeplace.directory.query import metres_between
from wholeplace.directory.store import DirectoryPlaceRow, DirectoryPostcodeRow, bump_generation, directory_session
from wholeplace.errors import InputError, Problem, UserError
from wholeplace.store.stores import Stores

ONS, CODE_POINT = "ONSPD/NSPL", "Code-Point Open"
NO_LOCATION_LATITUDE = 99.999999  # ONSPD and NSPL give this (with longitude 0) where there is no grid reference
NO_LOCATION_QUALITY = "90"  # Code-Point Open's positional quality for a postcode without coordinates
KEPT_PROBLEMS = 100
_POSTCODE = re.compile(r"^[A-Z0-9]{5,7}$")
_AREA = re.compile(r"^[A-Z]{1,2}([0-9][A-Z0-9]?)?$")
_LETTERS = re.compile(r"[0-9].*$")  # removed from an outward code, leaves its area
_ONS_COLUMNS = (("pcds", "pcd"), ("lat",), ("long",), ("doterm",))
_CODE_POINT_COLUMNS = ("postcode", "positional_quality_indicator", "eastings", "northings")


@dataclass
class PostcodeLoad:
    """What a load did: every row read is accepted, skipped (terminated, no location, outside the area asked
    for) or rejected; ``loaded`` is the postcodes now stored (a postcode given twice keeps its last position)."""

    source: str
    format: str = ""
    read: int = 0
    accepted: int = 0
    loaded: int = 0
    terminated: int = 0
    without_location: int = 0
    outside_area: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first KEPT_PROBLEMS rejected rows

    def reject(self, problem: Problem) -> None:
        self.rejected += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)


class _BadValue(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


@dataclass(frozen=True)
class _Reader:
    """Where one format keeps the fields of a row; ``names`` label the columns in messages."""

    format: str
    has_header: bool
    postcode: int
    x: int  # longitude (ONS) or easting (Code-Point)
    y: int  # latitude (ONS) or northing (Code-Point)
    skip: int  # doterm (ONS) or positional quality (Code-Point)
    names: tuple[str, str, str, str]

    def field(self, row: Sequence[str], which: str) -> str:
        position = getattr(self, which)
        if position >= len(row):
            raise _BadValue(self.label(which), f"the row has {len(row)} fields, too few to reach this column")
        return row[position].strip()

    def label(self, which: str) -> str:
        """The column as messages name it: its header name, or its number and meaning in a file without one."""
        label = self.names[("postcode", "x", "y", "skip").index(which)]
        return label if self.has_header else f"{getattr(self, which) + 1} ({label})"


def load_postcodes(*, stores: Stores, path: Path, areas: Iterable[str] = (), within_km: float | None = None,
                   batch_size: int = 10_000) -> PostcodeLoad:
    """Replace the postcode centroids with those in ``path`` (a CSV file, or a folder of them as Code-Point Open
    ships), keeping only ``areas`` (postcode areas such as PR or districts such as BB10) and postcodes within
    ``within_km`` of the directory's locations when given. One transaction: a refusal changes nothing."""
    files = _files(path)
    wanted = _area_test(areas)
    load = PostcodeLoad(source=str(path))
    with directory_session(stores) as session:
        nearby = _Nearby(_directory_points(session), within_km) if within_km is not None else None
        session.execute(delete(DirectoryPostcodeRow))
        for file in files:
            _load_file(session, file, load, wanted, nearby, batch_size)
        load.loaded = session.scalar(select(func.count()).select_from(DirectoryPostcodeRow)) or 0
        _refuse_if_unusable(load, stores.settings.max_quarantine_share)
        bump_generation(session)  # searches forget the postcodes they placed
    return load


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not found:
            raise UserError(f"The folder {path} has no .csv files.",
                            hint="Give an ONSPD or NSPL CSV file, or Code-Point Open's Data/CSV folder.")
        return found
    if not path.is_file():
        raise UserError(f"There is no file at {path}.", hint="Give the path of the postcode CSV file.")
    return [path]


def _load_file(session: Session, file: Path, load: PostcodeLoad, wanted: Callable[[str], bool] | None,
               nearby: _Nearby | None, batch_size: int) -> None:
    with file.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        first = next(rows, None)
        if first is None:
            raise InputError([Problem(file.name, "the file is empty", line=1)],
                             hint="Check that the download finished; nothing was changed.")
        reader = _reader_for(file.name, first)
        load.format = reader.format
        batch: list[tuple[str, float, float]] = []
        for line, row in _numbered(first, rows, reader):
            point = _read_row(file.name, line, row, reader, load, wanted)
            if point is not None:
                batch.append(point)
            if len(batch) >= batch_size:
                _store_batch(session, batch, reader.format, load, nearby)
                batch = []
        _store_batch(session, batch, reader.format, load, nearby)


def _numbered(first: list[str], rows: Any, reader: _Reader) -> Iterator[tuple[int, list[str]]]:
    if not reader.has_header:
        yield 1, first
    for row in rows:
        if row:
            yield rows.line_num, row


def _reader_for(file: str, first: list[str]) -> _Reader:
    """The format of a file from its first line; a header missing a column is refused, naming it."""
    names = [name.strip().lower() for name in first]
    if len(first) >= 4 and _is_number(first[2]) and _is_number(first[3]):
        return _Reader(CODE_POINT, False, 0, 2, 3, 1, ("postcode", "eastings", "northings", "quality"))
    if "eastings" in names and "northings" in names:
        return _header_reader(file, names, CODE_POINT, tuple((c,) for c in _CODE_POINT_COLUMNS))
    return _header_reader(file, names, ONS, _ONS_COLUMNS)


def _header_reader(file: str, names: list[str], format: str, wanted: Sequence[Sequence[str]]) -> _Reader:
    found = [next((names.index(n) for n in choices if n in names), None) for choices in wanted]
    missing = [Problem(file, f"the header has no column '{' or '.join(c)}'", line=1, column=c[0])
               for c, at in zip(wanted, found, strict=True) if at is None]
    if missing:
        raise InputError(missing, hint=f"Give the {ONS} CSV as published (header pcds, lat, long, doterm …) or "
                                       f"{CODE_POINT}'s CSV files (no header: postcode, quality, eastings, northings).")
    postcode, a, b, c = (int(i) for i in found if i is not None)
    if format == CODE_POINT:  # postcode, quality, eastings, northings
        return _Reader(format, True, postcode, b, c, a, ("postcode", "eastings", "northings",
                                                         "positional_quality_indicator"))
    return _Reader(format, True, postcode, b, a, c, (names[postcode], "long", "lat", "doterm"))


def _read_row(file: str, line: int, row: list[str], reader: _Reader, load: PostcodeLoad,
              wanted: Callable[[str], bool] | None) -> tuple[str, float, float] | None:
    """One row as (postcode, x, y), or None when it is skipped or rejected (and counted)."""
    load.read += 1
    try:
        postcode = _postcode(reader.field(row, "postcode"), reader.label("postcode"))
        if wanted is not None and not wanted(postcode):
            load.outside_area += 1
            return None
        return _position(postcode, row, reader, load)
    except _BadValue as bad:
        load.reject(Problem(file, bad.message, line=line, column=bad.column))
        return None


def _position(postcode: str, row: list[str], reader: _Reader, load: PostcodeLoad) -> tuple[str, float, float] | None:
    skip, x_text, y_text = reader.field(row, "skip"), reader.field(row, "x"), reader.field(row, "y")
    if reader.format == ONS:
        if skip:
            load.terminated += 1
            return None
        if _is_number(y_text) and float(y_text) == NO_LOCATION_LATITUDE:
            load.without_location += 1
            return None
        x_bounds, y_bounds = (-9.0, 2.0), (49.0, 61.0)  # the UK, Channel Islands and Isle of Man
    else:
        if skip == NO_LOCATION_QUALITY:
            load.without_location += 1
            return None
        x_bounds, y_bounds = (0.0, 700_000.0), (0.0, 1_300_000.0)  # the British National Grid
    return postcode, _number(x_text, reader.label("x"), x_bounds), _number(y_text, reader.label("y"), y_bounds)


def _postcode(text: str, column: str) -> str:
    code = normalise_postcode(text)
    if not _POSTCODE.match(code):
        raise _BadValue(column, f"'{text}' is not a postcode")
    return code


def _number(text: str, column: str, bounds: tuple[float, float]) -> float:
    value = float(text) if _is_number(text) else math.nan
    if not bounds[0] <= value <= bounds[1]:  # NaN fails too
        raise _BadValue(column, f"'{text}' is not a number from {bounds[0]:,g} to {bounds[1]:,g}")
    return value


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _area_test(areas: Iterable[str]) -> Callable[[str], bool] | None:
    """Whether a postcode is in one of the postcode areas (PR) or districts (BB10) asked for; None for all."""
    chosen = {normalise_postcode(area) for area in areas if area.strip()}
    bad = sorted(area for area in chosen if not _AREA.match(area))
    if bad:
        raise UserError(f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not a postcode area or district.",
                        hint="Give areas such as PR,BB,FY,LA or districts such as PR1,BB10.")
    if not chosen:
        return None

    def wanted(code: str) -> bool:
        outward = code[:-3]
        return outward in chosen or _LETTERS.sub("", outward) in chosen

    return wanted


class _Nearby:
    """Whether a point is within a distance of any of the directory's locations. The locations sit in cells at
    least that distance wide, so only the nine cells around a point are measured."""

    def __init__(self, places: list[tuple[float, float]], km: float) -> None:
        if not km > 0:
            raise UserError(f"--within-km must be a distance above 0 (got {km}).", hint="For example --within-km 20.")
        if not places:
            raise UserError("The directory has no locations with a position, so there is nothing to measure "
                            "--within-km from.", hint="Import the directory first, or choose areas with --areas.")
        self.metres = km * 1000
        self.lat_step = km / 110.0  # a degree of latitude is 111.2 km on the sphere distances are measured on
        top = min(89.0, max(abs(lat) for lat, _ in places) + self.lat_step)
        self.lon_step = km / (110.0 * math.cos(math.radians(top)))
        self.cells: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
        for place in places:
            self.cells[self._cell(*place)].append(place)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.lat_step), math.floor(lon / self.lon_step)

    def holds(self, lat: float, lon: float) -> bool:
        row, column = self._cell(lat, lon)
        return any(metres_between((lat, lon), place) <= self.metres
                   for r in (row - 1, row, row + 1) for c in (column - 1, column, column + 1)
                   for place in self.cells.get((r, c), ()))


def _directory_points(session: Session) -> list[tuple[float, float]]:
    p = DirectoryPlaceRow
    rows = session.execute(select(p.latitude, p.longitude).distinct()
                           .where(p.latitude.is_not(None), p.longitude.is_not(None))).all()
    return [(lat, lon) for lat, lon in rows if lat is not None and lon is not None]


def _store_batch(session: Session, batch: list[tuple[str, float, float]], format: str, load: PostcodeLoad,
                 nearby: _Nearby | None) -> None:
    """Convert a batch to WGS84, keep those near enough, and insert them (a postcode already stored is updated)."""
    if not batch:
        return
    x, y = np.array([p[1] for p in batch]), np.array([p[2] for p in batch])
    latitude, longitude = _british_grid_to_wgs84(x, y) if format == CODE_POINT else (y, x)
    points = zip((p[0] for p in batch), latitude.tolist(), longitude.tolist(), strict=True)
    rows = [{"postcode": code, "latitude": lat, "longitude": lon} for code, lat, lon in points
            if nearby is None or nearby.holds(lat, lon)]
    load.outside_area += len(batch) - len(rows)
    load.accepted += len(rows)
    unique = {row["postcode"]: row for row in rows}  # a postcode twice in one statement would be refused
    if unique:
        session.execute(_upsert(session), list(unique.values()))


def _refuse_if_unusable(load: PostcodeLoad, max_share: float) -> None:
    """Refuse (so the transaction rolls back) a load of nothing, or one mostly rejected."""
    if load.read == 0:
        raise InputError([Problem(load.source, "there are no data rows")],
                         hint="Check that the download finished; nothing was changed.")
    if load.rejected and load.rejected / load.read > max_share:
        shown = load.problems[:10]
        more = [Problem(load.source, f"… and {load.rejected - len(shown):,} more rows like these")] \
            if load.rejected > len(shown) else []
        raise InputError(shown + more, hint=f"{load.rejected:,} of {load.read:,} rows failed, more than the "
                         f"{max_share:.0%} allowed (WHOLEPLACE_MAX_QUARANTINE_SHARE). Most rows failing usually "
                         "means a different file or a changed layout; the previous postcodes are kept.")
    if load.loaded == 0:
        raise UserError(f"No postcodes to load from {load.source}: of {load.read:,} rows, {load.terminated:,} are "
                        f"terminated, {load.without_location:,} have no location, {load.outside_area:,} are outside "
                        f"the area asked for and {load.rejected:,} were rejected. Nothing was changed.",
                        hint="Check --areas and --within-km, and that this is the postcode file you meant.")


@cache
def _transformer() -> Transformer:
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _british_grid_to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    longitude, latitude = _transformer().transform(easting, northing)
    return np.asarray(latitude, dtype=float), np.asarray(longitude, dtype=float)


def _upsert(session: Session) -> Any:
    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(session.get_bind().dialect.name)
    if dialect is None:
        return insert(DirectoryPostcodeRow)
    statement = dialect.insert(DirectoryPostcodeRow)
    return statement.on_conflict_do_update(index_elements=["postcode"], set_={
        "latitude": statement.excluded.latitude, "longitude": statement.excluded.longitude})

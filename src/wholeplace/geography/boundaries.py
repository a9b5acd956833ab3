"""Loading boundaries as a level of a hierarchy.

Everything a load changes is computed first — the level's areas, the lookups between every
pair of loaded levels, and where each stored event point falls — and only then written: the
place tables one by one (each replaced whole by rename), then the level records in one
transaction. A refused file or a failure while computing therefore leaves the store as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import select

from wholeplace.errors import UserError
from wholeplace.geography import placement
from wholeplace.geography.boundary_files import BoundarySource, read_boundaries
from wholeplace.geography.lookups import COMPUTED_METHODS, LookupPlan, plan_lookups
from wholeplace.geography.measure import area_rows
from wholeplace.store.operational import LevelRow, utcnow
from wholeplace.store.stores import Stores

DEFAULT_HIERARCHY = "statistical"


@dataclass
class BoundaryLoadResult:
    level: str
    file: str
    status: str  # stored / replaced / unchanged
    features: int
    code_field: str
    name_field: str
    hierarchy: str
    parent_level: str | None
    median_area_m2: float
    repaired: list[str] = field(default_factory=list)
    reprojected_from: str | None = None
    lookups: dict[str, int] = field(default_factory=dict)  # method → rows from or to this level
    points_placed: int = 0
    children: list[str] = field(default_factory=list)  # loaded levels whose parent is now this level
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.status == "unchanged":
            return f"{self.file}: level '{self.level}' is already loaded from this file; nothing changed."
        verb = "replaced" if self.status == "replaced" else "loaded"
        lines = [
            f"{self.file}: {verb} level '{self.level}' ({self.hierarchy}) with {self.features:,} areas "
            f"(codes from {self.code_field}, names from {self.name_field}; median area "
            f"{self.median_area_m2 / 1e6:,.2f} km²).",
            f"  nests in: {self.parent_level or 'no loaded level'}.",
        ]
        if self.children:
            lines.append(f"  levels nesting in it: {', '.join(self.children)}.")
        if self.lookups:
            counts = ", ".join(f"{n:,} {m}" for m, n in sorted(self.lookups.items()))
            lines.append(f"  lookups with other levels: {counts}")
        if self.reprojected_from:
            lines.append(f"  reprojected from {self.reprojected_from} to WGS84.")
        if self.repaired:
            shown = ", ".join(self.repaired[:10]) + (" …" if len(self.repaired) > 10 else "")
            lines.append(f"  repaired {len(self.repaired)} invalid geometries: {shown}.")
        lines += [f"  note: {note}" for note in self.notes]
        lines.append(f"  {self.points_placed:,} stored event points placed afresh.")
        return "\n".join(lines)


def load_boundaries(
    *, stores: Stores, path: Path, level: str, hierarchy: str | None = None, code_field: str | None = None,
    name_field: str | None = None, parent_level: str | None = None,
) -> BoundaryLoadResult:
    """Load a boundary file as ``level``, replacing that level's areas; other levels are kept."""
    level = _check_level_name(level)
    source = read_boundaries(path, code_field=code_field, name_field=name_field)
    rows = _level_rows(stores)
    previous = rows.get(level)
    if previous is not None and _same_load(previous, source, hierarchy, parent_level):
        return _result(previous, source, "unchanged")
    if parent_level is not None and parent_level not in rows:
        loaded = ", ".join(sorted(rows)) or "none"
        raise UserError(f"--parent {parent_level!r} is not a loaded level (loaded: {loaded}).",
                        hint="Load the parent level's boundaries first, or leave --parent out to detect nesting.")
    new_areas = area_rows(level, source.frame)
    row = _new_level_row(source, level, hierarchy or DEFAULT_HIERARCHY, new_areas)
    rows[level] = row
    areas = pl.concat([_areas(stores).filter(pl.col("level") != level), new_areas])
    plan = _plan(stores, areas, rows, level, parent_level)
    points = placement.place_in_areas(placement.stored_points(stores), areas, _finest_first(rows))
    _write(stores, areas, plan, points, rows)
    result = _result(row, source, "replaced" if previous is not None else "stored")
    result.lookups = _lookup_counts(plan.lookups, level)
    result.children = sorted(name for name, r in rows.items() if r.parent_level == level)
    result.points_placed = points.select("longitude", "latitude").unique().height
    return result


def _check_level_name(level: str) -> str:
    cleaned = level.strip().lower()
    if not cleaned or not all(ch.isalnum() or ch in "-_" for ch in cleaned):
        raise UserError(f"The level name {level!r} must be letters, digits, '-' or '_' (for example lsoa, ward).")
    return cleaned


def _level_rows(stores: Stores) -> dict[str, LevelRow]:
    with stores.sessions() as session:
        return {row.name: row for row in session.scalars(select(LevelRow)).all()}


def _same_load(previous: LevelRow, source: BoundarySource, hierarchy: str | None, parent: str | None) -> bool:
    return (previous.source_sha256 == source.sha256 and previous.code_field == source.code_field
            and previous.name_field == source.name_field
            and (hierarchy is None or hierarchy == previous.hierarchy)
            and (parent is None or parent == previous.parent_level))


def _new_level_row(source: BoundarySource, level: str, hierarchy: str, areas: pl.DataFrame) -> LevelRow:
    return LevelRow(
        name=level, hierarchy=hierarchy, title=level.upper() if len(level) <= 5 else level.title(),
        features=areas.height, median_area_m2=float(areas["area_m2"].median()),  # type: ignore[arg-type]
        source_file=str(source.path.resolve()), source_sha256=source.sha256, code_field=source.code_field,
        name_field=source.name_field, parent_level=None, loaded_at=utcnow(),
    )


def _areas(stores: Stores) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table("areas"))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _finest_first(rows: dict[str, LevelRow]) -> list[str]:
    return sorted(rows, key=lambda name: rows[name].median_area_m2)


def _plan(stores: Stores, areas: pl.DataFrame, rows: dict[str, LevelRow], level: str, parent: str | None) -> LookupPlan:
    """Lookups for every pair of levels; a parent given now or recorded before is kept as nesting."""
    forced = {(name, row.parent_level) for name, row in rows.items()
              if row.parent_level and name != level and row.parent_level in rows}
    if parent is not None:
        if rows[parent].median_area_m2 <= rows[level].median_area_m2:
            raise UserError(f"Level {level!r} cannot nest in {parent!r}: {parent!r} has smaller areas.",
                            hint="--parent names the coarser level this one nests in, e.g. --parent lad for wards.")
        forced.add((level, parent))
    plan = plan_lookups(areas=areas, medians={n: r.median_area_m2 for n, r in rows.items()}, forced=forced,
                        population=latest_population(_population(stores)))
    for name, row in rows.items():
        nests_in = [rows[p] for p in plan.nests_in.get(name, [])]
        row.parent_level = _parent(row, nests_in, parent if name == level else None)
    return plan


def _parent(row: LevelRow, nests_in: list[LevelRow], given: str | None) -> str | None:
    """The parent given, else the finest level it nests in within its own hierarchy, else in any."""
    same = [p.name for p in nests_in if p.hierarchy == row.hierarchy]
    candidates = same or [p.name for p in nests_in]
    return given or (candidates[0] if candidates else None)


def relinked_lookups(*, stores: Stores, population: pl.DataFrame) -> pl.DataFrame | None:
    """The whole ``area_lookups`` table recomputed for a new ``population`` table (None with under two levels)."""
    rows = _level_rows(stores)
    if len(rows) < 2:
        return None
    forced = {(name, row.parent_level) for name, row in rows.items() if row.parent_level in rows}
    plan = plan_lookups(areas=_areas(stores), medians={n: r.median_area_m2 for n, r in rows.items()},
                        forced=forced, population=latest_population(population))  # type: ignore[arg-type]
    return pl.concat([_official_lookups(stores), plan.lookups])


def _population(stores: Stores) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table("population"))
    assert isinstance(frame, pl.DataFrame)
    return frame


def latest_population(frame: pl.DataFrame) -> pl.DataFrame:
    """Each level's population in its latest loaded year (level, area_code, population)."""
    latest = frame.group_by("level").agg(pl.col("year").max())
    return frame.join(latest, on=["level", "year"]).select("level", "area_code", "population")


def _write(stores: Stores, areas: pl.DataFrame, plan: LookupPlan, points: pl.DataFrame,
           rows: dict[str, LevelRow]) -> None:
    kept = _official_lookups(stores)
    with stores.session() as session:
        for row in rows.values():
            session.merge(row)
        session.flush()
        stores.analytic.write_place_table("areas", areas.to_arrow())
        stores.analytic.write_place_table("area_lookups", pl.concat([kept, plan.lookups]).to_arrow())
        stores.analytic.write_place_table("point_places", points.to_arrow())


def _official_lookups(stores: Stores) -> pl.DataFrame:
    """Lookups loaded from official lookup files are kept; computed ones are recomputed."""
    frame = pl.from_arrow(stores.analytic.read_place_table("area_lookups"))
    assert isinstance(frame, pl.DataFrame)
    return frame.filter(~pl.col("method").is_in(COMPUTED_METHODS))


def _lookup_counts(lookups: pl.DataFrame, level: str) -> dict[str, int]:
    mine = lookups.filter((pl.col("from_level") == level) | (pl.col("to_level") == level))
    return {str(m): int(n) for m, n in mine.group_by("method").len().iter_rows()}


def _result(row: LevelRow, source: BoundarySource, status: str) -> BoundaryLoadResult:
    return BoundaryLoadResult(
        level=row.name, file=source.path.name, status=status, features=row.features, code_field=row.code_field,
        name_field=row.name_field, hierarchy=row.hierarchy, parent_level=row.parent_level,
        median_area_m2=row.median_area_m2, repaired=source.repaired, reprojected_from=source.reprojected_from,
        notes=source.notes,
    )

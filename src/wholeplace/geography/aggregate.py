"""Counting events by area at any loaded level, saying how every event was counted.

Located events are counted by point-in-polygon at the target level itself (``point_places``
holds every level containing each point, not only the finest). Events known only by an area
code are carried to the target level through a lookup: an official or geometric nesting when
there is one, else the area- or population-weighted lookup asked for, which spreads an event
over several areas in fractions (so counts are floats). Nothing is silently dropped: events
outside the level's areas, outside every area, without a usable lookup, or without any
location are counted separately in ``method``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl
import shapely

from wholeplace.errors import NotFoundError, UserError

WEIGHTINGS = {"area": "area-weighted", "population": "population-weighted"}
NESTING = ("official", "nested")  # preferred, in this order, over any weighting

FILTERS = {  # filter → SQL with a bound parameter (values are never formatted into SQL)
    "dataset": "dataset = $dataset",
    "partner": "partner = $partner",
    "category": "category = $category",
    "month_from": "occurred_month >= $month_from",
    "month_to": "occurred_month <= $month_to",
}

POINTS_SQL = """
WITH levels AS (
  SELECT longitude, latitude, bool_or(level = $level) AS in_level, bool_or(area_code IS NOT NULL) AS in_any,
         max(area_code) FILTER (WHERE level = $level) AS area_code
  FROM point_places GROUP BY longitude, latitude)
SELECT e.partner, l.area_code,
  CASE WHEN l.in_level THEN 'point_in_polygon' WHEN l.in_any THEN 'outside_level' ELSE 'out_of_area' END AS part,
  count(*)::DOUBLE AS events
FROM filtered e LEFT JOIN levels l USING (longitude, latitude)
WHERE e.location_status = 'point' GROUP BY ALL
"""

AREA_ONLY_SQL = """
WITH known AS (SELECT DISTINCT level, code FROM areas),
e AS (
  SELECT f.partner, f.source_area_code AS code, coalesce(f.source_area_level, k.level) AS from_level
  FROM filtered f LEFT JOIN (SELECT code, min(level) AS level FROM known GROUP BY code) k ON k.code = f.source_area_code
  WHERE f.location_status = 'area_only')
SELECT e.partner, CASE WHEN e.from_level = $level THEN e.code ELSE l.to_code END AS area_code,
  CASE WHEN e.from_level = $level AND k.code IS NULL THEN 'out_of_area'
       WHEN e.from_level = $level THEN 'as_supplied'
       WHEN c.method IS NULL THEN 'no_lookup'
       WHEN l.to_code IS NULL THEN 'out_of_area'
       ELSE c.method END AS part,
  sum(coalesce(l.weight, 1.0))::DOUBLE AS events
FROM e
LEFT JOIN known k ON k.level = e.from_level AND k.code = e.code
LEFT JOIN chosen_lookups c ON c.from_level = e.from_level
LEFT JOIN area_lookups l ON l.from_level = e.from_level AND l.to_level = $level AND l.method = c.method
  AND l.from_code = e.code
GROUP BY ALL
UNION ALL
SELECT e.partner, NULL AS area_code, 'outside_level' AS part, sum(1.0 - cov.covered)::DOUBLE AS events
FROM e JOIN chosen_lookups c ON c.from_level = e.from_level
JOIN (SELECT from_level, from_code, method, sum(weight) AS covered FROM area_lookups WHERE to_level = $level
      GROUP BY ALL) cov ON cov.from_level = e.from_level AND cov.from_code = e.code AND cov.method = c.method
WHERE e.from_level <> $level
GROUP BY ALL
"""

AREA_PARTS = ("point_in_polygon", "as_supplied", "official", "nested", "area-weighted", "population-weighted")


@dataclass
class Aggregate:
    """Events by area and partner at one level, with how each part was obtained."""

    frame: pl.DataFrame  # area_code, area_name, partner, events (float)
    method: dict[str, Any]


def aggregate_events(
    *, con: duckdb.DuckDBPyConnection, level: str, weighting: str = "area", dataset: str | None = None,
    partner: str | None = None, category: str | None = None, month_from: date | str | None = None,
    month_to: date | str | None = None,
) -> Aggregate:
    """Count events in each area of ``level``; ``con`` is a connection from ``stores.connect()``."""
    if weighting not in WEIGHTINGS:
        raise UserError(f"weighting must be one of {', '.join(WEIGHTINGS)}, not {weighting!r}.")
    _require_level(con, level)
    values = {"dataset": dataset, "partner": partner, "category": category,
              "month_from": _month(month_from), "month_to": _month(month_to)}
    params = {k: v for k, v in values.items() if v is not None}
    where = " AND ".join(FILTERS[k] for k in params) or "TRUE"
    chosen = _choose_lookups(con, level, WEIGHTINGS[weighting])
    con.register("chosen_lookups", pl.DataFrame(chosen, schema=["from_level", "method"], orient="row").to_arrow())
    try:
        cte = f"WITH filtered AS (SELECT * FROM events_stored WHERE {where}) "
        parts = pl.concat([
            con.execute(cte + "SELECT * FROM (" + POINTS_SQL + ")", params | {"level": level}).pl(),
            con.execute(cte + "SELECT * FROM (" + AREA_ONLY_SQL + ")", params | {"level": level}).pl(),
            con.execute(cte + "SELECT partner, NULL::VARCHAR AS area_code, 'unlocated' AS part, count(*)::DOUBLE "
                        "AS events FROM filtered WHERE location_status = 'unlocated' GROUP BY ALL", params).pl(),
        ], how="vertical_relaxed")
    finally:
        con.unregister("chosen_lookups")
    return Aggregate(_frame(con, level, parts), _method(level, weighting, values, chosen, parts))


def _require_level(con: duckdb.DuckDBPyConnection, level: str) -> None:
    loaded = [row[0] for row in con.execute("SELECT DISTINCT level FROM areas ORDER BY 1").fetchall()]
    if level not in loaded:
        raise NotFoundError(f"No boundaries are loaded for level {level!r} (loaded: {', '.join(loaded) or 'none'}).",
                            hint="Load them with `wholeplace load boundaries FILE --level LEVEL`.")


def _month(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value.replace(day=1) if value else None
    try:
        return date.fromisoformat(value[:7] + "-01")
    except ValueError:
        raise UserError(f"{value!r} is not a month; write it as YYYY-MM.") from None


def _choose_lookups(con: duckdb.DuckDBPyConnection, level: str, weighted: str) -> list[tuple[str, str]]:
    """For each level with lookups to ``level``: nesting if any, else the weighting asked for, else area."""
    methods: dict[str, set[str]] = {}
    for from_level, method in con.execute(
        "SELECT DISTINCT from_level, method FROM area_lookups WHERE to_level = $level", {"level": level}
    ).fetchall():
        methods.setdefault(from_level, set()).add(method)
    preference = [*NESTING, weighted, "area-weighted"]
    return [(f, next(m for m in preference if m in found)) for f, found in sorted(methods.items())
            if any(m in found for m in preference)]


def _frame(con: duckdb.DuckDBPyConnection, level: str, parts: pl.DataFrame) -> pl.DataFrame:
    names = con.execute("SELECT code AS area_code, name AS area_name FROM areas WHERE level = $level",
                        {"level": level}).pl()
    counted = parts.filter(pl.col("part").is_in(AREA_PARTS) & pl.col("area_code").is_not_null())
    summed = counted.group_by("area_code", "partner").agg(pl.col("events").sum())
    return (summed.join(names, on="area_code", how="left")
            .select("area_code", "area_name", "partner", "events").sort("area_code", "partner"))


def _method(level: str, weighting: str, filters: dict[str, Any], chosen: list[tuple[str, str]],
            parts: pl.DataFrame) -> dict[str, Any]:
    totals = {str(p): float(n) for p, n in parts.group_by("part").agg(pl.col("events").sum()).iter_rows()}
    counted = {p: totals.get(p, 0.0) for p in AREA_PARTS if totals.get(p)}
    return {
        "level": level,
        "weighting": weighting,
        "filters": {k: str(v) for k, v in filters.items() if v is not None},
        "counted": counted,
        "not_counted": {p: totals.get(p, 0.0) for p in ("outside_level", "out_of_area", "no_lookup", "unlocated")},
        "lookups_used": dict(chosen),
        "events_counted": sum(counted.values()),
        "explanation": (
            "Events with a point are counted in the area of this level containing the point; events with only an "
            "area code are carried to this level by an official or geometric nesting where one exists, else by "
            f"the {WEIGHTINGS[weighting]} lookup (fractions of an event). outside_level: points inside other "
            "loaded areas but none of this level; out_of_area: in no loaded area; no_lookup: an area code "
            "whose level has no lookup to this one; unlocated: no location at all."),
    }


def areas_geojson(*, con: duckdb.DuckDBPyConnection, level: str, simplify_tolerance: float | None = None) -> dict:
    """The level's areas as a GeoJSON FeatureCollection (code and name properties) for the web map.

    ``simplify_tolerance`` (in degrees) simplifies each polygon on its own, so neighbours may
    show hairline gaps at high tolerances; it keeps the page light for large levels.
    """
    _require_level(con, level)
    rows = con.execute("SELECT code, name, geometry FROM areas WHERE level = $level ORDER BY code",
                       {"level": level}).fetchall()
    geoms = shapely.from_wkb([bytes(r[2]) for r in rows])
    if simplify_tolerance:
        geoms = shapely.simplify(geoms, simplify_tolerance, preserve_topology=True)
    features = [{"type": "Feature", "properties": {"code": r[0], "name": r[1]}, "geometry": json.loads(g)}
                for r, g in zip(rows, shapely.to_geojson(geoms), strict=True)]
    return {"type": "FeatureCollection", "features": features}

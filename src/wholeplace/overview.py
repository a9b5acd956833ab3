"""The place at a glance: headline counts, events per area and per month, partners and levels.

These are the service functions behind the overview page and its JSON API. They read the
committed snapshot of the stores, bind every user value as a SQL parameter, and check
names chosen by the user (level, partner) against what is loaded, so an unknown choice is a
user error that names the allowed values rather than an empty answer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow.compute as pc
import shapely
import shapely.geometry
from sqlalchemy import select

from wholeplace import provenance
from wholeplace.errors import NotFoundError, UserError
from wholeplace.model.events import EVENT_FIELDS
from wholeplace.store.operational import PartnerRow
from wholeplace.store.stores import Stores


class UnknownChoiceError(UserError):
    """A filter names a level or partner that is not loaded."""

    def __init__(self, *, field: str, value: str, choices: list[str], where: str = "in this place") -> None:
        shown = ", ".join(choices) if choices else "none are loaded yet"
        super().__init__(f"There is no {field} '{value}' {where}.", hint=f"Choose one of: {shown}.")
        self.field = field
        self.value = value
        self.choices = choices


SUMMARY_SQL = """
SELECT count(*) AS events,
       count(DISTINCT partner) AS partners,
       count(DISTINCT dataset) AS datasets,
       count(DISTINCT occurred_month) AS months,
       min(occurred_month) AS first_month,
       max(occurred_month) AS last_month,
       count(*) FILTER (WHERE place_status = 'placed') AS events_placed
FROM events
WHERE $datasets IS NULL OR list_contains($datasets, dataset)
"""

# ``datasets``, where a function takes it, limits the counts to those dataset codes (the ones a
# user may read, from ``wholeplace.governance.scope``); None counts every dataset, for the CLI.


def summary(*, stores: Stores, datasets: list[str] | None = None) -> dict[str, Any]:
    """Headline counts for the whole place; ``areas`` counts areas at the finest level."""
    con = stores.connect()
    cursor = con.execute(SUMMARY_SQL, {"datasets": datasets})
    names = [d[0] for d in cursor.description]
    result = dict(zip(names, cursor.fetchone() or (), strict=True))
    loaded = levels(stores=stores)
    result["levels"] = len(loaded)
    result["finest_level"] = loaded[0]["level"] if loaded else None
    result["areas"] = loaded[0]["features"] if loaded else 0
    return result


def levels(*, stores: Stores) -> list[dict[str, Any]]:
    """Loaded geography levels, finest (smallest median area) first."""
    return provenance.list_levels(stores=stores)


def partners(*, stores: Stores, datasets: list[str] | None = None) -> list[dict[str, Any]]:
    """Partners with the number of events each has in the store (of ``datasets``), by name."""
    counts = dict(stores.connect().execute(
        "SELECT partner, count(*) FROM events_stored WHERE $datasets IS NULL OR list_contains($datasets, dataset) "
        "GROUP BY partner", {"datasets": datasets}).fetchall())
    with stores.sessions() as session:
        rows = session.scalars(select(PartnerRow).order_by(PartnerRow.name)).all()
    return [{"partner": r.code, "name": r.name, "kind": r.kind, "events": int(counts.get(r.code, 0))} for r in rows]


def check_level(*, stores: Stores, level: str) -> None:
    names = [row["level"] for row in levels(stores=stores)]
    if level not in names:
        raise UnknownChoiceError(field="level", value=level, choices=names)


def check_partner(*, stores: Stores, partner: str | None) -> None:
    if partner is None:
        return
    codes = [row["partner"] for row in partners(stores=stores)]
    if partner not in codes:
        raise UnknownChoiceError(field="partner", value=partner, choices=codes)


# Points count in the area of the chosen level that contains them (``point_places`` holds one
# row per point and containing level); events supplied with only an area code count where the
# source put them when that code is of the chosen level. Every area of the level is listed,
# with zero where nothing happened, so a map shows quiet areas rather than leaving holes.
AREA_COUNTS_SQL = """
WITH chosen AS (
  SELECT e.partner, pp.area_code
  FROM events_stored e
  JOIN point_places pp ON pp.longitude = e.longitude AND pp.latitude = e.latitude AND pp.level = $level
  WHERE e.location_status = 'point' AND ($datasets IS NULL OR list_contains($datasets, e.dataset))
  UNION ALL
  SELECT e.partner, e.source_area_code AS area_code
  FROM events_stored e
  WHERE e.location_status = 'area_only' AND e.source_area_level = $level
    AND ($datasets IS NULL OR list_contains($datasets, e.dataset))
),
counts AS (
  SELECT area_code, count(*) AS events FROM chosen
  WHERE $partner IS NULL OR partner = $partner
  GROUP BY area_code
)
SELECT a.code AS area_code, a.name AS area_name, coalesce(c.events, 0)::BIGINT AS events
FROM areas a LEFT JOIN counts c ON c.area_code = a.code
WHERE a.level = $level
ORDER BY events DESC, a.code
"""


def events_by_area(*, stores: Stores, level: str, partner: str | None = None,
                   datasets: list[str] | None = None) -> list[dict[str, Any]]:
    """Events in each area of ``level`` (every area, busiest first), for one partner or all."""
    check_level(stores=stores, level=level)
    check_partner(stores=stores, partner=partner)
    return _area_counts(stores.connect(), level=level, partner=partner, datasets=datasets)


def _area_counts(con: duckdb.DuckDBPyConnection, *, level: str, partner: str | None,
                 datasets: list[str] | None) -> list[dict[str, Any]]:
    """The one place that counts events per area, so it can move to the shared aggregation later."""
    cursor = con.execute(AREA_COUNTS_SQL, {"level": level, "partner": partner, "datasets": datasets})
    return [
        {"area_code": code, "area_name": name, "events": int(events)}
        for code, name, events in cursor.fetchall()
    ]


# Every month from the first to the last is listed for every partner (zero when quiet), so a
# line chart shows a gap as a drop to zero rather than joining the months either side.
MONTH_COUNTS_SQL = """
WITH counts AS (
  SELECT occurred_month AS month, partner, count(*) AS events FROM events_stored
  WHERE ($partner IS NULL OR partner = $partner) AND ($datasets IS NULL OR list_contains($datasets, dataset))
  GROUP BY ALL
),
span AS (SELECT min(month) AS first, max(month) AS last FROM counts),
months AS (
  SELECT CAST(m AS DATE) AS month
  FROM span, generate_series(CAST(span.first AS TIMESTAMP), CAST(span.last AS TIMESTAMP), INTERVAL 1 MONTH) t(m)
),
who AS (SELECT DISTINCT partner FROM counts)
SELECT months.month, who.partner, coalesce(counts.events, 0)::BIGINT AS events
FROM months CROSS JOIN who
LEFT JOIN counts ON counts.month = months.month AND counts.partner = who.partner
ORDER BY months.month, who.partner
"""


def events_by_month(*, stores: Stores, partner: str | None = None,
                    datasets: list[str] | None = None) -> list[dict[str, Any]]:
    """Events per month and partner, every month of the span, oldest first."""
    check_partner(stores=stores, partner=partner)
    rows = stores.connect().execute(MONTH_COUNTS_SQL, {"partner": partner, "datasets": datasets}).fetchall()
    names = {row["partner"]: row["name"] for row in partners(stores=stores)}
    return [
        {"month": _month(month), "partner": code, "partner_name": names.get(code, code), "events": int(events)}
        for month, code, events in rows
    ]


def _month(value: date) -> str:
    return f"{value:%Y-%m}"


COORDINATE_DECIMALS = 5


def areas_geojson(*, stores: Stores, level: str, simplify_tolerance: float | None = None) -> dict[str, Any]:
    """The areas of ``level`` as a GeoJSON FeatureCollection (WGS84), properties code and name.

    ``simplify_tolerance`` is in degrees (0.0001 is about 10 m); maps of a whole county do not
    need the full detail, and simplifying keeps the page light on a phone.
    """
    check_level(stores=stores, level=level)
    table = stores.analytic.read_place_table("areas")
    table = table.filter(pc.equal(table["level"], level)).sort_by("code")
    geometries = shapely.from_wkb(table["geometry"].to_numpy(zero_copy_only=False))
    if simplify_tolerance:
        geometries = shapely.simplify(geometries, simplify_tolerance, preserve_topology=True)
    # Five decimal places of a degree is about a metre: more digits only make the file bigger.
    geometries = shapely.transform(geometries, lambda xy: np.round(xy, COORDINATE_DECIMALS))
    features = [
        {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": shapely.geometry.mapping(geom)}
        for code, name, geom in zip(table["code"].to_pylist(), table["name"].to_pylist(), geometries, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


# -- one dataset -------------------------------------------------------------------------------

def dataset(*, stores: Stores, code: str) -> dict[str, Any]:
    """One dataset as the data page lists it; a user error naming the data page when unknown."""
    for row in provenance.list_datasets(stores=stores):
        if row["dataset"] == code:
            return row
    raise NotFoundError(f"There is no dataset '{code}' in this place.",
                        hint="The data page (/data) lists every dataset loaded.")


def dataset_categories(*, stores: Stores, code: str) -> list[dict[str, Any]]:
    """Events of one dataset by canonical category and the source's own wording, most first."""
    rows = stores.connect().execute(
        "SELECT category, source_category, count(*) AS events FROM events_stored WHERE dataset = ? "
        "GROUP BY ALL ORDER BY events DESC, category, source_category", [code]
    ).fetchall()
    return [{"category": c, "source_category": s, "events": int(n)} for c, s, n in rows]


def dataset_fields(*, stores: Stores, code: str) -> list[dict[str, Any]]:
    """How fully one dataset fills each canonical event field (share of rows with a value).

    Column names come from the declared event fields, never from the request.
    """
    names = [spec.name for spec in EVENT_FIELDS]
    counts = ", ".join(f'count("{name}")' for name in names)
    row = stores.connect().execute(f"SELECT count(*), {counts} FROM events_stored WHERE dataset = ?", [code]).fetchone()
    total, *filled = row or (0,)
    return [
        {"field": spec.name, "type": str(spec.type), "meaning": spec.meaning, "filled": int(n),
         "share": (n / total) if total else None}
        for spec, n in zip(EVENT_FIELDS, filled, strict=True)
    ]

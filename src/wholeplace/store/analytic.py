"""Analytic store: immutable Parquet segments plus place tables, read through DuckDB.

Layout under the analytic folder::

    segments/<table>/<dataset>/<segment id>.parquet   events, quarantine, person_keys
    places/<name>.parquet                             areas, point_places, area_lookups,
                                                      population, deprivation, rural_urban

A segment becomes visible only when the operational store marks it active, in the same
transaction that records its load; so a load that fails part-way changes nothing that a
reader can see, and orphaned files are removed the next time the store is opened.
Place tables are replaced whole by writing a new file and renaming it over the old one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from wholeplace.model.events import EVENT_SCHEMA, PERSON_KEY_SCHEMA, QUARANTINE_SCHEMA

SEGMENT_SCHEMAS: dict[str, pa.Schema] = {
    "events": EVENT_SCHEMA,
    "quarantine": QUARANTINE_SCHEMA,
    "person_keys": PERSON_KEY_SCHEMA,
}

PLACE_SCHEMAS: dict[str, pa.Schema] = {
    "areas": pa.schema(
        [
            ("level", pa.string()),
            ("code", pa.string()),
            ("name", pa.string()),
            ("area_m2", pa.float64()),
            ("centroid_longitude", pa.float64()),
            ("centroid_latitude", pa.float64()),
            ("geometry", pa.binary()),  # WKB, WGS84
        ]
    ),
    "point_places": pa.schema(
        [
            ("longitude", pa.float64()),
            ("latitude", pa.float64()),
            ("level", pa.string()),
            ("area_code", pa.string()),
            ("finest", pa.bool_()),
        ]
    ),
    "area_lookups": pa.schema(
        [
            ("from_level", pa.string()),
            ("from_code", pa.string()),
            ("to_level", pa.string()),
            ("to_code", pa.string()),
            ("weight", pa.float64()),
            ("method", pa.string()),
        ]
    ),
    "population": pa.schema(
        [("level", pa.string()), ("area_code", pa.string()), ("year", pa.int64()), ("population", pa.float64())]
    ),
    "deprivation": pa.schema(
        [
            ("level", pa.string()),
            ("area_code", pa.string()),
            ("index", pa.string()),
            ("rank", pa.int64()),
            ("decile", pa.int64()),
            ("score", pa.float64()),
        ]
    ),
    "rural_urban": pa.schema(
        [
            ("level", pa.string()),
            ("area_code", pa.string()),
            ("classification_code", pa.string()),  # e.g. C1 (2011) or UN1 (2021); null for a plain flag
            ("classification_name", pa.string()),
            ("rural", pa.bool_()),
        ]
    ),
}


class AnalyticStore:
    """Files of the analytic store and DuckDB connections over them."""

    def __init__(self, root: Path, *, memory_limit: str = "4GB") -> None:
        self.root = root
        self.memory_limit = memory_limit
        (root / "segments").mkdir(parents=True, exist_ok=True)
        (root / "places").mkdir(parents=True, exist_ok=True)
        (root / "staging").mkdir(parents=True, exist_ok=True)

    # -- segments --------------------------------------------------------------------
    def new_segment_path(self, table: str, dataset: str) -> Path:
        folder = self.root / "segments" / table / dataset
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}.parquet"

    def write_segment(self, table: str, dataset: str, data: pa.Table) -> Path:
        """Write a segment file; it stays invisible until its load commits."""
        path = self.new_segment_path(table, dataset)
        pq.write_table(data.cast(SEGMENT_SCHEMAS[table]), path, compression="zstd")
        return path

    def remove_orphans(self, active_paths: Iterable[str]) -> int:
        keep = {str(Path(p).resolve()) for p in active_paths}
        removed = 0
        for path in (self.root / "segments").rglob("*.parquet"):
            if str(path.resolve()) not in keep:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- place tables ----------------------------------------------------------------
    def place_path(self, name: str) -> Path:
        return self.root / "places" / f"{name}.parquet"

    def write_place_table(self, name: str, data: pa.Table) -> None:
        """Replace a place table whole, atomically (write then rename)."""
        final = self.place_path(name)
        temp = final.with_suffix(f".{uuid.uuid4().hex}.tmp")
        pq.write_table(data.select(PLACE_SCHEMAS[name].names).cast(PLACE_SCHEMAS[name]), temp)
        os.replace(temp, final)

    def read_place_table(self, name: str) -> pa.Table:
        path = self.place_path(name)
        if not path.exists():
            return PLACE_SCHEMAS[name].empty_table()
        return pq.read_table(path)

    # -- reading ---------------------------------------------------------------------
    def connect(self, active_segments: dict[str, list[str]]) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per table over the live files."""
        con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
        con.execute(f"SET memory_limit = '{_memory_limit(self.memory_limit)}'")
        for table, schema in SEGMENT_SCHEMAS.items():
            _create_view(con, f"{table}_stored" if table == "events" else table, active_segments.get(table, []), schema)
        for name, schema in PLACE_SCHEMAS.items():
            path = self.place_path(name)
            _create_view(con, name, [str(path)] if path.exists() else [], schema)
        con.execute(EVENTS_VIEW)
        return con


EVENTS_VIEW = """
CREATE VIEW events AS
SELECT e.*,
  CASE WHEN e.location_status = 'point' THEN p.area_code
       WHEN e.location_status = 'area_only' THEN e.source_area_code END AS area_code,
  CASE WHEN e.location_status = 'point' THEN p.level
       WHEN e.location_status = 'area_only' THEN e.source_area_level END AS area_level,
  CASE WHEN e.location_status = 'unlocated' THEN 'unlocated'
       WHEN e.location_status = 'area_only' THEN 'area_only'
       WHEN p.area_code IS NULL THEN 'out_of_area'
       ELSE 'placed' END AS place_status
FROM events_stored e
LEFT JOIN (SELECT * FROM point_places WHERE finest) p
  ON e.longitude = p.longitude AND e.latitude = p.latitude
"""


def _memory_limit(value: str) -> str:
    # The value is interpolated into SQL, so only digits and a unit are accepted.
    cleaned = value.strip().upper()
    if not cleaned[:-2].replace(".", "").isdigit() or cleaned[-2:] not in {"MB", "GB", "TB"}:
        raise ValueError(f"memory limit must look like 4GB or 512MB, not {value!r}")
    return cleaned


def _create_view(con: duckdb.DuckDBPyConnection, name: str, files: list[str], schema: pa.Schema) -> None:
    if files:
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet($files, union_by_name = true)".replace(
                "$files", _sql_list(files)
            )
        )
    else:
        empty = schema.empty_table()
        con.register(f"_{name}_empty", empty)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")


def _sql_list(files: list[str]) -> str:
    # Paths are ours (uuid names under the store), but quote them properly anyway.
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"

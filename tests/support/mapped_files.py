"""A small calls-for-service extract and the mapping file that describes it, written by tests."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

CALLS_HEADER = ["ref", "received", "arrived", "call_type", "source", "lon", "lat", "beat", "street", "notes"]

CALLS_MAPPING = """\
mapping: test-calls
version: 1
partner: {code: police-test, name: Test Constabulary, kind: police}
dataset: {code: test-calls, kind: call_for_service, title: Test calls}
event_kind: call_for_service
record_id: {column: ref}
timestamps:
  occurred_at: {column: received, formats: ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]}
  received_at: {column: received, formats: ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]}
  arrived_at: {column: arrived, formats: ["%Y-%m-%d %H:%M:%S"]}
category: {column: call_type, table: types.csv}
location:
  longitude: {column: lon}
  latitude: {column: lat}
  area_code: {column: beat, level: test_beat, missing: ["-1"]}
  text: {column: street}
flags:
  self_initiated: {column: source, in: [ONVIEW]}
  mental_health: {categories: [mental_health]}
"""

CALLS_TABLE = """\
source_value,category
WELFARE,concern_for_welfare
MH,mental_health
PARKING,traffic_other
"""


def call_row(ref: str, *, received: str = "2024-03-01 10:00:00", arrived: str = "2024-03-01 10:12:00",
             call_type: str = "WELFARE", source: str = "911", lon: str = "-1.50", lat: str = "53.40",
             beat: str = "B1", street: str = "High Street", notes: str = "") -> list[str]:
    return [ref, received, arrived, call_type, source, lon, lat, beat, street, notes]


def write_calls_file(path: Path, rows: list[list[str]], *, header: list[str] = CALLS_HEADER,
                     gzipped: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if gzipped else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:  # type: ignore[operator]
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_mapping(folder: Path, text: str = CALLS_MAPPING, *, table: str = CALLS_TABLE,
                  table_name: str = "types.csv") -> Path:
    """The mapping file (and its category table) in ``folder``; returns the mapping's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / table_name).write_text(table)
    path = folder / "mapping.yaml"
    path.write_text(text)
    return path

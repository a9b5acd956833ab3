"""Small data.police.uk-format files written by tests (never copied from ../shared)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]


def street_row(month: str, crime_type: str = "Burglary", *, lon: str = "-1.5", lat: str = "53.5",
               lsoa: str = "E01000001", crime_id: str = "abc", force: str = "Test Constabulary") -> list[str]:
    if crime_type == "Anti-social behaviour":
        crime_id = ""
    return [crime_id, month, force, force, lon, lat, "On or near High Street", lsoa, "Test 001A",
            crime_type, "" if crime_id == "" else "Under investigation", ""]


def write_street_file(path: Path, rows: list[list[str]], *, gzipped: bool = False, header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if gzipped else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:  # type: ignore[operator]
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path

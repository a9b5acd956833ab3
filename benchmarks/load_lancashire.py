"""Loading Lancashire through the product against the bare minimum the same work needs.

Product: ``load_boundaries`` (LSOA) and the police.uk ingest pipeline for the 20 months,
into a fresh temporary store (validation, quarantine, point-in-polygon, area check,
provenance, Parquet segments). Baseline: DuckDB ``read_csv`` of the same 20 files plus a
geopandas ``sjoin`` of the same points to the same LSOAs. Each runs in its own subprocess so
its peak memory (ru_maxrss) is its own; times exclude starting Python and importing.

Run: ``.venv/bin/python benchmarks/load_lancashire.py`` (target: product <= 3x baseline).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHOLEPLACE_SHARED_DIR", REPO.parent / "shared")) / "data"
STREET = SHARED / "police-uk-lancashire-street" / "street"
LSOA = SHARED / "boundaries-lancashire" / "lsoa2011_lancashire.geojson"
TARGET_RATIO = 3.0


def run_product() -> dict[str, float]:
    from wholeplace.geography.boundaries import load_boundaries
    from wholeplace.ingest.pipeline import load_files
    from wholeplace.ingest.police_uk import PoliceUkAdapter
    from wholeplace.settings import Settings
    from wholeplace.store import open_stores

    files = sorted(STREET.glob("*.csv.gz"))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        settings = Settings(data_dir=Path(folder) / "data", partnership_key_file=None)
        stores = open_stores(settings)
        load_boundaries(stores=stores, path=LSOA, level="lsoa")
        boundaries = time.perf_counter()
        results = load_files(stores=stores, adapter=PoliceUkAdapter(), paths=files, settings=settings)
        finished = time.perf_counter()
    return {"seconds": finished - started, "boundaries_seconds": boundaries - started,
            "rows": float(sum(r.rows_read for r in results))}


def run_baseline() -> dict[str, float]:
    import duckdb
    import geopandas as gpd

    files = [str(p) for p in sorted(STREET.glob("*.csv.gz"))]
    started = time.perf_counter()
    con = duckdb.connect()
    frame = con.execute("SELECT * FROM read_csv($files, header = true, all_varchar = true)", {"files": files}).df()
    located = frame.dropna(subset=["Longitude", "Latitude"])
    points = gpd.GeoDataFrame(located, geometry=gpd.points_from_xy(located["Longitude"].astype(float),
                                                                    located["Latitude"].astype(float)), crs=4326)
    areas = gpd.read_file(LSOA, engine="pyogrio")[["LSOA11CD", "geometry"]]
    joined = gpd.sjoin(points, areas, how="left", predicate="intersects")
    finished = time.perf_counter()
    return {"seconds": finished - started, "rows": float(len(frame)), "joined": float(len(joined))}


def measure(part: str) -> dict[str, float]:
    """Run one part in a fresh interpreter and return its figures with its own peak memory."""
    output = subprocess.run([sys.executable, __file__, part], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    if not STREET.exists() or not LSOA.exists():
        sys.exit(f"The Lancashire data is missing under {SHARED}; set WHOLEPLACE_SHARED_DIR.")
    product, baseline = measure("product"), measure("baseline")
    ratio = product["seconds"] / baseline["seconds"]
    print(f"rows read: product {product['rows']:,.0f}, baseline {baseline['rows']:,.0f}")
    print(f"product:  {product['seconds']:6.2f} s (boundaries {product['boundaries_seconds']:.2f} s), "
          f"peak memory {product['max_rss_mb']:,.0f} MB")
    print(f"baseline: {baseline['seconds']:6.2f} s, peak memory {baseline['max_rss_mb']:,.0f} MB")
    print(f"ratio:    {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x) {'met' if ratio <= TARGET_RATIO else 'NOT met'}")


def child(part: str) -> None:
    figures = run_product() if part == "product" else run_baseline()
    figures["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps(figures))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(sys.argv[1])
    else:
        main()

"""What governance costs on the read path: the published overview against the raw counts it is made from.

Both sides read the same Lancashire store (LSOA boundaries and the 20 police.uk months, loaded
once beforehand). Baseline: ``overview.events_by_area`` at LSOA level and ``events_by_month`` (the
bare DuckDB counts). Product: ``published.areas`` and ``published.months`` for an analyst of the
force, which add the access layer's grants (agreements and datasets from the operational store),
the read scope, and disclosure control (primary and secondary suppression, rounding, totals).
Each side runs REPEATS times and the median is reported, with peak memory of the whole run.

Run: ``.venv/bin/python benchmarks/governed_reads.py`` (target: product <= 3x baseline).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHOLEPLACE_SHARED_DIR", REPO.parent / "shared")) / "data"
STREET = SHARED / "police-uk-lancashire-street" / "street"
LSOA = SHARED / "boundaries-lancashire" / "lsoa2011_lancashire.geojson"
REPEATS = 7
TARGET_RATIO = 3.0


def median_seconds(work: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    from wholeplace import overview, published
    from wholeplace.geography.boundaries import load_boundaries
    from wholeplace.governance.access import Principal, Role
    from wholeplace.governance.scope import read_scope
    from wholeplace.ingest.pipeline import load_files
    from wholeplace.ingest.police_uk import PoliceUkAdapter
    from wholeplace.settings import Settings
    from wholeplace.store import open_stores

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data", partnership_key_file=None)
        stores = open_stores(settings)
        load_boundaries(stores=stores, path=LSOA, level="lsoa")
        load_files(stores=stores, adapter=PoliceUkAdapter(), paths=sorted(STREET.glob("*.csv.gz")), settings=settings)
        [partner] = [row["partner"] for row in overview.partners(stores=stores)]
        analyst = Principal(user_id="bench@example.org", partner=partner, role=Role.ANALYST)

        def baseline() -> None:
            overview.events_by_area(stores=stores, level="lsoa")
            overview.events_by_month(stores=stores)

        def product() -> None:
            scope = read_scope(stores=stores, principal=analyst, purpose="demand_analysis")
            published.areas(stores=stores, scope=scope, level="lsoa")
            published.months(stores=stores, scope=scope)

        baseline()
        product()  # warm both: the first query of a view plans it
        base, prod = median_seconds(baseline), median_seconds(product)
        stores.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = prod / base
    print(f"baseline (raw area and month counts): {base * 1000:.1f} ms")
    print(f"product (scope + access layer + disclosure control): {prod * 1000:.1f} ms")
    print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x); peak memory of the run {peak_mb:.0f} MB")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())

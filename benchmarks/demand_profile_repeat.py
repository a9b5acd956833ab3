"""The demand profile and repeat analysis on 10 million events: DuckDB (the product functions)
against the same computation in plain pandas, in the same run.

Ten million synthetic events in the shape of the events table (every canonical column; calls
with received, dispatched and closed times, opening and closing categories, grades, a caller
type in ``attributes``, officer-initiated flags, and heavy-tailed address and caller tokens) are
written to Parquet in a temporary folder. Each side then runs, in its own process so that its
peak memory is its own:

- the demand profile by month × opening category × source, by count and by deployment hours,
  and by hour of day × day of week: on DuckDB all from one pass (grouping sets), as the demand page
  asks for its breakdowns;
- repeat demand for locations (3 or more contacts in fixed 12-month windows): prevalence,
  repeat share, the top 20 and the Gini coefficients.

DuckDB runs ``profile_events`` and ``repeat_events`` over a view of the Parquet files; pandas
reads the columns it needs and computes the same figures, which are compared. Times include
reading the files, not importing libraries (DuckDB's client imports pandas the first time it
binds a value, so that is done before its clock starts, as on a running server). Run:
``.venv/bin/python benchmarks/demand_profile_repeat.py [events]`` (targets: DuckDB under 10 s
and 4 GB, at least 5x faster than pandas).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

EVENTS = 10_000_000
CHUNK = 1_000_000
ADDRESSES = 1_500_000
CALLERS = 1_000_000
SEED = 20260101
TARGET_SECONDS, TARGET_GB, TARGET_RATIO = 10.0, 4.0, 5.0
START = np.datetime64("2023-01-01T00:00:00", "s")
DAYS = 731
CATEGORIES = [f"category_{i:02d}" for i in range(30)]
CALLER_TYPES = ['{"caller_type":"PUBLIC"}', '{"caller_type":"HEALTH"}', '{"caller_type":"SOCIAL CARE"}',
                '{"caller_type":"OFFICER"}']
BREAKDOWNS = ["period", "category_opening", "source"]
PUBLIC, OTHER, OFFICER = 0, 1, 2  # the pandas side's source codes


# -- the synthetic events ------------------------------------------------------------------------

def write_events(folder: Path, count: int) -> None:
    """``count`` events as Parquet files of ``CHUNK`` rows, every column of the events table."""
    rng = np.random.default_rng(SEED)
    address_weight = rng.gamma(0.6, 1 / 0.6, ADDRESSES)
    caller_weight = rng.gamma(0.2, 1 / 0.2, CALLERS)
    address_cdf, caller_cdf = np.cumsum(address_weight), np.cumsum(caller_weight)
    for part, first in enumerate(range(0, count, CHUNK)):
        size = min(CHUNK, count - first)
        frame = _chunk(rng, first, size, address_cdf, caller_cdf)
        pq.write_table(frame, folder / f"events-{part:03d}.parquet", compression="zstd")


def _pick(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    return np.searchsorted(cdf, rng.random(size) * cdf[-1])


def _chunk(rng: np.random.Generator, first: int, size: int, address_cdf: np.ndarray,
           caller_cdf: np.ndarray) -> pa.Table:
    from wholeplace.model.events import EVENT_SCHEMA

    received = START + rng.integers(0, DAYS * 86_400, size).astype("timedelta64[s]")
    grade = rng.choice(4, size, p=[0.2, 0.4, 0.25, 0.15])
    sent = grade < 3
    dispatched = received + np.where(sent, rng.lognormal(np.log(600), 1.0, size), 0).astype("timedelta64[s]")
    closed = dispatched + rng.lognormal(np.log(3600), 0.8, size).astype("timedelta64[s]")
    officer = rng.random(size) < 0.09
    caller_type = np.where(officer, 3, rng.choice(3, size, p=[0.85, 0.1, 0.05]))
    opening = rng.choice(len(CATEGORIES), size, p=_category_shares())
    closing = np.where(rng.random(size) < 0.16, rng.choice(len(CATEGORIES), size), opening)
    caller = np.where(officer, -1, _pick(rng, caller_cdf, size))
    frame = pl.DataFrame({
        "event_id": pl.int_range(first, first + size, eager=True).cast(pl.String),
        "dataset": "bench-calls", "partner": "bench-force", "kind": "call_for_service", "load_id": "bench",
        "partition_key": "bench", "source_line": np.arange(first, first + size),
        "category": pl.Series(CATEGORIES).gather(closing), "category_opening": pl.Series(CATEGORIES).gather(opening),
        "category_closing": pl.Series(CATEGORIES).gather(closing), "mapping_version": "bench@1",
        "occurred_month": received.astype("datetime64[M]").astype("datetime64[D]"),
        "received_at": received.astype("datetime64[us]"),
        "dispatched_at": np.where(sent, dispatched, np.datetime64("NaT")).astype("datetime64[us]"),
        "closed_at": closed.astype("datetime64[us]"), "time_precision": "second", "location_status": "unlocated",
        "address_token": pl.Series(_pick(rng, address_cdf, size)).cast(pl.String),
        "caller_token": pl.Series(caller).cast(pl.String).replace("-1", None),
        "flag_self_initiated": officer, "priority": pl.Series(["G1", "G2", "G3", "G4"]).gather(grade),
        "attributes": pl.Series(CALLER_TYPES).gather(caller_type),
    })
    table = frame.to_arrow()
    return pa.Table.from_arrays([table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(size, f.type)
                                 for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)


def _category_shares() -> np.ndarray:
    shares = 1 / np.arange(1, len(CATEGORIES) + 1)
    return shares / shares.sum()


# -- DuckDB: the product functions -----------------------------------------------------------------

def run_duckdb(folder: Path) -> dict[str, Any]:
    import duckdb

    from wholeplace.demand.profile import profile_events_sets
    from wholeplace.demand.repeat import repeat_events

    # DuckDB's Python client imports pandas, numpy and pyarrow (about a second) the first time it
    # binds a value to a query; a running product pays that once, long before, just as each side
    # here has imported its libraries before its clock starts.
    duckdb.connect().execute("SELECT $warm_up", {"warm_up": 0})
    started = time.perf_counter()
    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    con.execute("SET memory_limit = '4GB'")
    con.execute(f"CREATE VIEW events_stored AS SELECT * FROM read_parquet('{folder}/*.parquet')")
    by_category, by_clock = profile_events_sets(con=con, sets=[BREAKDOWNS, ["hour", "weekday"]],
                                                measures=["count", "hours"])
    counts, hours, clock = by_category["count"], by_category["hours"], by_clock["count"]
    repeat = repeat_events(con=con, entity="location", window="12m", top=20)
    seconds = time.perf_counter() - started
    assert repeat.concentration is not None
    return {
        "seconds": seconds, "peak_mb": _peak_mb(),
        "cells": counts.frame.height, "totals": counts.totals, "hours_all": hours.totals["all"],
        "clock_cells": clock.frame.height, "clock_public": clock.totals["public"],
        "repeat": [repeat.entities, repeat.repeat_entities, repeat.contacts, repeat.repeat_contacts],
        "top": repeat.top["contacts"].to_list(), "gini": repeat.concentration.gini,
        "generalized_gini_unbiased": repeat.concentration.generalized_gini_unbiased,
    }


# -- pandas: the same computation --------------------------------------------------------------

def run_pandas(folder: Path) -> dict[str, Any]:
    import pandas as pd

    from wholeplace.demand.concentration import generalized_gini, gini

    started = time.perf_counter()
    columns = ["occurred_month", "received_at", "dispatched_at", "closed_at", "category_opening",
               "flag_self_initiated", "attributes", "address_token"]
    # Written for speed, as a pandas user would: months as datetime64 rather than Python dates, and the
    # source as a small integer code named only in the totals.
    frame = pd.read_parquet(folder, columns=columns, to_pandas_kwargs={"date_as_object": False})
    codes, uniques = pd.factorize(frame["attributes"])
    caller_types = np.array([str(json.loads(u).get("caller_type", "")).strip().upper() for u in uniques])
    other = ~np.isin(caller_types, ["PUBLIC", "OFFICER", ""])
    frame["source"] = np.where(frame["flag_self_initiated"], np.int8(OFFICER),
                               np.where(other[codes], np.int8(OTHER), np.int8(PUBLIC))).astype(np.int8)
    frame["hours"] = ((frame["closed_at"] - frame["dispatched_at"]).dt.total_seconds() / 3600).fillna(0.0)
    keys = ["occurred_month", "category_opening", "source"]
    both = frame.groupby(keys)["hours"].agg(["size", "sum"])  # count and hours in one pass, as DuckDB does
    counts, hours = both["size"], both["sum"]
    clock = frame.groupby([frame["received_at"].dt.hour, frame["received_at"].dt.day_of_week]).size()
    public = frame["source"] != OFFICER
    totals = {"all": float(len(frame)), "public": float(public.sum()),
              "other_agency": float((frame["source"] == OTHER).sum()),
              "officer_initiated": float((~public).sum())}
    repeat, top, per_entity = _pandas_repeat(frame[public])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds, "peak_mb": _peak_mb(),
        "cells": int(counts.size), "totals": totals, "hours_all": float(hours.sum()),
        "clock_cells": int(clock.size), "clock_public": float(public.sum()),
        "repeat": repeat, "top": top, "gini": gini(per_entity),
        "generalized_gini_unbiased": generalized_gini(per_entity, unbiased=True),
    }


def _pandas_repeat(calls: Any) -> tuple[list[int], list[int], np.ndarray]:
    calls = calls[calls["address_token"].notna()]
    month = calls["occurred_month"].astype("datetime64[s]")
    first = month.min()
    window = ((month.dt.year - first.year) * 12 + month.dt.month - first.month) // 12
    per_window = calls.groupby([calls["address_token"], window]).size()
    repeat_window = per_window[per_window >= 3]
    per_entity = per_window.groupby(level=0).sum()
    repeaters = repeat_window.index.get_level_values(0).nunique()
    top = per_entity.sort_values(ascending=False).head(20).tolist()
    figures = [int(per_entity.size), int(repeaters), int(per_entity.sum()), int(repeat_window.sum())]
    return figures, [int(t) for t in top], per_entity.to_numpy()


# -- the comparison -------------------------------------------------------------------------------

def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM rather than ru_maxrss, which a child started
    by fork and exec inherits from the parent that generated the data."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _side(name: str, folder: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--side", name, str(folder)], check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _same(duck: dict[str, Any], pandas: dict[str, Any]) -> bool:
    exact = ("cells", "totals", "clock_cells", "clock_public", "repeat", "top")
    close = ("hours_all", "gini", "generalized_gini_unbiased")
    return all(duck[k] == pandas[k] for k in exact) and all(
        abs(duck[k] - pandas[k]) <= 1e-6 * max(1.0, abs(duck[k])) for k in close)


def main(count: int) -> int:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        started = time.perf_counter()
        write_events(folder, count)
        size = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 1e6
        print(f"generated {count:,} events ({size:.0f} MB of Parquet) in {time.perf_counter() - started:.1f} s")
        duck, pandas = _side("duckdb", folder), _side("pandas", folder)
    ratio = pandas["seconds"] / duck["seconds"]
    same = _same(duck, pandas)
    print(f"DuckDB (profile_events_sets + repeat_events): {duck['seconds']:.2f} s, peak memory "
          f"{duck['peak_mb']:.0f} MB")
    print(f"pandas (the same computation):               {pandas['seconds']:.2f} s, peak memory "
          f"{pandas['peak_mb']:.0f} MB")
    print(f"ratio {ratio:.1f}x faster (target >= {TARGET_RATIO:g}x); DuckDB target < {TARGET_SECONDS:g} s and "
          f"< {TARGET_GB:g} GB; same answers: {'yes' if same else 'NO'}")
    print(f"repeat locations: {duck['repeat'][1]:,} of {duck['repeat'][0]:,} addresses repeat, making "
          f"{duck['repeat'][3] / duck['repeat'][2]:.1%} of {duck['repeat'][2]:,} contacts; Gini {duck['gini']:.3f}")
    met = (duck["seconds"] < TARGET_SECONDS and duck["peak_mb"] < TARGET_GB * 1024 and ratio >= TARGET_RATIO)
    return 0 if met and same else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--side":
        side = run_duckdb if sys.argv[2] == "duckdb" else run_pandas
        print(json.dumps(side(Path(sys.argv[3]))))
        sys.exit(0)
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS))

"""The directory search API under load: 20,000 services, the real server, a real HTTP load generator.

The program writes 20,000 generated Open Referral UK services (``directory_search_data``), imports
them into a temporary data folder with ``import_directory``, starts ``wholeplace serve`` on a free
loopback port as a subprocess, and drives ``GET /oruk/services`` with ``wrk`` at 20 concurrent
connections for 30 seconds. A Lua script rotates through a few hundred realistic queries drawn from the
data: words from service names, taxonomy terms, postcode with proximity, age, day and times, later
pages, and combinations. Each query is first sent once from one client and timed (cold: the first time a
query names a postcode or a page of services they are read from the database); the load then measures the
server warm, as it runs. It prints the median and 95th-percentile latency, the throughput and the
server's peak memory (target: p95 under 50 ms on this machine).

In the same run it measures the alternative: the same queries answered straight from the search
tables in SQL (``query.matching_by_sql``, the search without the in-memory index), one after another
in this process, against the in-memory index doing the same; it checks both give the same services
and prints the ratio of their median times.

``wrk`` is Debian's package ``wrk``; when it is missing and this runs as root, the program installs
it with apt-get, otherwise it says how to. Run:

    .venv/bin/python benchmarks/directory_search.py [--services 20000] [--seconds 30] [--workers 1]
        [--keep-data FOLDER]

The queries ask for the API's default page (``per_page`` 50, every service fully nested: about 350 KB a
page). ``--workers`` is passed to ``wholeplace serve``; ``--keep-data`` writes and imports the services
into FOLDER once and reuses them on later runs. The load average of the machine is printed before and
after the load, since other work on it changes the latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).parent))

from directory_search_data import write_services

from wholeplace.directory import query as search
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.store import directory_session
from wholeplace.settings import Settings
from wholeplace.store import open_stores

CONNECTIONS = 20
TARGET_P95_MS = 50.0
QUERIES = 400
SEED = 20260101
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LUA = """
local paths = {%s}
local counter = 0
function init(args)
  counter = math.random(#paths)
end
function request()
  counter = (counter %% #paths) + 1
  return wrk.format("GET", paths[counter])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def realistic_queries(services: list[dict[str, Any]], count: int = QUERIES) -> list[dict[str, str]]:
    """Query parameter sets a frontline search would send, drawn from the data (seeded)."""
    rng = random.Random(SEED)
    words = [w for s in services for w in re.findall(r"[a-z]{4,}", str(s["name"]).lower())]
    terms = [a["taxonomy_term_id"] for s in services for a in s.get("attributes", []) if a.get("taxonomy_term_id")]
    postcodes = [a["postal_code"] for s in services for at in s.get("service_at_locations", [])
                 for a in (at.get("location") or {}).get("addresses", []) if a.get("postal_code")]
    kinds = [
        lambda: {"search": rng.choice(words)},
        lambda: {"search": f"{rng.choice(words)} {rng.choice(words)}"},
        lambda: {"taxonomy_term_id": rng.choice(terms)},
        lambda: {"postcode": rng.choice(postcodes), "proximity": str(rng.choice((500, 1000, 2000, 5000)))},
        lambda: {"age": str(rng.randint(0, 90))},
        lambda: {"day": rng.choice(DAYS), "start_time": "09:00", "end_time": "17:00"},
        lambda: {"page": str(rng.randint(2, 40))},
        lambda: {"postcode": rng.choice(postcodes), "proximity": "3000", "taxonomy_term_id": rng.choice(terms)},
        lambda: {"search": rng.choice(words), "age": str(rng.randint(0, 90)), "page": "2"},
        lambda: {"minimum_age": "0", "maximum_age": "18", "day": rng.choice(DAYS)},
    ]
    return [rng.choice(kinds)() for _ in range(count)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        print("installing wrk (Debian package) ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"})
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("This benchmark needs wrk: install it with `sudo apt-get install wrk`.")


def start_server(data_dir: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "wholeplace"), "serve", "--data-dir", str(data_dir),
               "--port", str(port), "--host", "127.0.0.1", "--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"the server did not start: {server.stderr.read().decode() if server.stderr else ''}")


def peak_memory_mb(pid: int) -> float:
    """The peak resident memory of the server: of each worker process added up when there are several."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    processes = [pid] + [int(child) for child in children
                         if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()]
    total = 0.0
    for process in processes:
        status = Path(f"/proc/{process}/status").read_text()
        total += int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024  # type: ignore[index]
    return total


def run_wrk(port: int, paths: list[str], seconds: int, folder: Path) -> dict[str, float]:
    script = folder / "rotate.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    command = [wrk_path(), "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
               f"http://127.0.0.1:{port}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    fields = next(line for line in output.splitlines() if line.startswith("RESULT")).split()[1:]
    p50, p95, p99, worst, requests, duration, bad_status, failed = map(int, fields)
    return {"p50_ms": p50 / 1000, "p95_ms": p95 / 1000, "p99_ms": p99 / 1000, "max_ms": worst / 1000,
            "requests": requests, "per_second": requests / (duration / 1e6), "bad_status": bad_status,
            "failed": failed}


def compare_in_process(data_dir: Path, queries: list[dict[str, str]]) -> tuple[float, float]:
    """Median milliseconds a query for the in-memory index and for SQL over the search tables, after
    checking both choose the same services in the same order."""
    stores = open_stores(Settings(data_dir=data_dir))
    now = datetime.now(search.LONDON)
    indexed, by_sql = [], []
    with directory_session(stores) as session:
        search.search_index(session)  # built once, as the server does on its first search
        for params in queries:
            query = search.parse_query(params)
            started = time.perf_counter()
            fast = search._matching(session, query, now)
            middle = time.perf_counter()
            slow = search.matching_by_sql(session, query, now)
            indexed.append(middle - started)
            by_sql.append(time.perf_counter() - middle)
            if [key for key, _ in fast] != [key for key, _ in slow]:
                sys.exit(f"the in-memory index and SQL disagree on {params}")
    stores.close()
    return statistics.median(indexed) * 1000, statistics.median(by_sql) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep-data", type=Path, default=None)
    args = parser.parse_args()
    wrk_path()
    with tempfile.TemporaryDirectory(prefix="directory-bench-") as temporary:
        folder = args.keep_data or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        services = prepare(folder, args.services)
        queries = realistic_queries(services)
        del services
        paths = [f"/oruk/services?{urlencode(q)}" for q in queries]
        port = free_port()
        server = start_server(folder / "data", port, args.workers)
        try:
            cold = first_pass(port, paths, args.workers)
            before = os.getloadavg()
            load = run_wrk(port, paths, args.seconds, folder)
            load["load_before"], load["load_after"] = before[0], os.getloadavg()[0]
            memory = peak_memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        indexed_ms, sql_ms = compare_in_process(folder / "data", queries)
    report(load, memory, indexed_ms, sql_ms, len(queries), args.workers, cold)


def first_pass(port: int, paths: list[str], workers: int) -> list[float]:
    """Every query once, one at a time, timed (ms): the first search in each worker builds its index, and
    the first time a query names a postcode or a page of services they are read from the database. The
    load that follows is then measured warm, as a running server is; these times say what cold costs."""
    for path in paths[:workers]:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read()
    times = []
    for _ in range(workers):  # each worker sees each query about once
        for path in paths:
            started = time.perf_counter()
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read()
            times.append((time.perf_counter() - started) * 1000)
    return times


def prepare(folder: Path, count: int) -> list[dict[str, Any]]:
    """The generated services, written and imported into ``folder`` unless a run with as many did so."""
    source, done = folder / "services.json", folder / f"imported-{count}"
    if not done.exists():
        started = time.perf_counter()
        write_services(source, count=count)
        print(f"wrote {count:,} services in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        stores = open_stores(Settings(data_dir=folder / "data"))
        result = import_directory(stores=stores, path=source)
        stores.close()
        done.write_text(f"{result.records}\n")
        print(f"imported {result.records:,} records in {time.perf_counter() - started:.1f} s", flush=True)
    return json.loads(source.read_text(encoding="utf-8"))


def report(load: dict[str, float], memory: float, indexed_ms: float, sql_ms: float, queries: int,
           workers: int, cold: list[float]) -> None:
    cold_p95 = statistics.quantiles(cold, n=20)[-1]
    print(f"\nFirst pass, every query once from one client (cold: read from the database): median "
          f"{statistics.median(cold):.1f} ms, 95th percentile {cold_p95:.1f} ms, slowest {max(cold):.1f} ms")
    print(f"\nThen warm: GET /oruk/services, {CONNECTIONS} concurrent connections (wrk), {queries} rotating "
          f"queries, default page size (per_page {search.DEFAULT_PER_PAGE}), {workers} server process(es):")
    print(f"  median latency      {load['p50_ms']:.1f} ms")
    print(f"  95th percentile     {load['p95_ms']:.1f} ms   (target under {TARGET_P95_MS:.0f} ms: "
          f"{'met' if load['p95_ms'] < TARGET_P95_MS else 'MISSED'})")
    print(f"  99th percentile     {load['p99_ms']:.1f} ms; slowest {load['max_ms']:.1f} ms")
    print(f"  throughput          {load['per_second']:.0f} requests/s ({load['requests']:,.0f} requests; "
          f"{load['bad_status']:.0f} non-2xx, {load['failed']:.0f} socket errors)")
    print(f"  server peak memory  {memory:.0f} MB")
    print(f"  load average (1 min) {load['load_before']:.2f} before, {load['load_after']:.2f} after, on "
          f"{os.cpu_count()} cores")
    print("\nChoosing the matching services, one query at a time in this process (median):")
    print(f"  in-memory index     {indexed_ms:.2f} ms")
    print(f"  SQL over the search tables (no in-memory index)  {sql_ms:.2f} ms")
    print(f"  ratio               {sql_ms / indexed_ms:.1f}x")


if __name__ == "__main__":
    main()

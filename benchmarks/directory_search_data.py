"""Data for the directory search benchmark: the demo directory generator at scale.

``write_services(path)`` writes 20,000 full Open Referral UK services (a JSON list, as
``GET /services/{id}`` returns each) for the demo place, repeating neighbourhood services at
new venues so that proximity and open-now searches meet realistic densities. Run directly to
write the file and print how long it took:

    .venv/bin/python benchmarks/directory_search_data.py /tmp/services.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from wholeplace.synth.directory import directory_services
from wholeplace.synth.place import build_place

SEED = 20260101
NEIGHBOURHOOD_SERVICES_PER_COPY = 150  # a lower bound, so one pass always gives enough


def write_services(path: Path, count: int = 20_000, seed: int = SEED) -> Path:
    """Write ``count`` generated services to ``path`` and return it."""
    place = build_place(seed, (2024,))
    copies = max(1, -(-count // NEIGHBOURHOOD_SERVICES_PER_COPY))
    services = directory_services(place, seed, copies=copies)[:count]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(services, ensure_ascii=False), encoding="utf-8")
    return path


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "directory-services.json")
    started = time.perf_counter()
    write_services(target)
    print(f"wrote 20,000 services to {target} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

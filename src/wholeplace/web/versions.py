"""Versions of the vendored front-end packages, written by scripts/build-assets."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

VERSIONS_FILE = Path(__file__).parent / "static" / "vendor" / "versions.json"


@cache
def vendored_versions() -> dict[str, str]:
    return json.loads(VERSIONS_FILE.read_text())

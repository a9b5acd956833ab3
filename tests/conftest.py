"""Fixtures shared by every kind of test.

Each test gets its own temporary stores. Tests that need the public data in ``../shared``
fail (never skip) when ``CI=true`` and the data is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHOLEPLACE_SHARED_DIR", REPO.parent / "shared"))


def require_shared(relative: str) -> Path:
    """Path of a file or folder in ../shared; fails under CI when missing, else skips."""
    path = SHARED / relative
    if not path.exists():
        message = f"{path} is missing: the shared public data must sit beside the repository"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared() -> Path:
    return require_shared(".")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", partnership_key_file=None)


@pytest.fixture
def stores(settings: Settings) -> Stores:
    return open_stores(settings)

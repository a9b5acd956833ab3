"""Fixtures shared by every kind of test.

Each test gets its own temporary stores. Tests that need the public data in ``../shared``
fail (never skip) when ``CI=true`` and the data is missing.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_server import PostgresServer, find_bin
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores
from wholeplace.synth.demo import DemoResult, build_demo

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
def stores(settings: Settings) -> Iterator[Stores]:
    opened = open_stores(settings)
    yield opened
    opened.close()


DEMO_SEED, DEMO_SCALE = 20260101, 0.1


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The demo place at a tenth of full volume, built once for the tests that only read it (the tests
    that write to it, or that test building it, build their own)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("small-demo") / "data", partnership_key_file=None)
    return build_demo(settings=settings, seed=DEMO_SEED, scale=DEMO_SCALE)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run; fails under CI when it cannot start."""
    bindir = find_bin()
    if bindir is None:
        message = "PostgreSQL is not installed (scripts/setup --test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


_database_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def operational_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The operational store on each engine: SQLite in a temp folder, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'operational.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"wholeplace_test_{os.getpid()}_{next(_database_numbers)}")


@pytest.fixture
def stores_on_each_engine(operational_url: str, tmp_path: Path) -> Iterator[Stores]:
    opened = open_stores(Settings(data_dir=tmp_path / "data", database_url=operational_url))
    yield opened
    opened.close()

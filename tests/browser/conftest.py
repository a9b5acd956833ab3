"""A real Chromium (Debian's, never a downloaded one) and each test place served on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

from tests.support.places import PLACES, Place, settings_in
from tests.support.web_client import PURPOSE, add_user, live_server
from wholeplace import provenance
from wholeplace.governance.users import create_token, find_user
from wholeplace.web.app import create_app
from wholeplace.web.sessions import COOKIE, start_session

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = Path("/tmp/wp-shots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Served:
    place: Place
    base_url: str
    session_id: str = ""  # a signed-in analyst's session, for the browser's cookie
    token: str = ""  # the same analyst's API token

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Wholeplace-Purpose": PURPOSE}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class PlaceServers:
    """Every test place, built in the background as soon as the run starts and served on request.

    Building runs in worker threads (the heavy parts are DuckDB, polars and shapely, which release
    the GIL) while the first tests drive the browser, which keeps the whole run short. Each place
    is built once and only read by the tests.
    """

    def __init__(self, root: Path) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="place")
        self.built = {name: self.pool.submit(self._build, name, root / name) for name in PLACES}
        self.servers: dict[str, Served] = {}
        self.stack = ExitStack()

    @staticmethod
    def _build(name: str, folder: Path) -> Place:
        return PLACES[name](settings_in(folder), folder)

    def get(self, name: str) -> Served:
        if name not in self.servers:
            place = self.built[name].result()  # re-raises a builder's skip or failure in the test
            app = create_app(place.settings)
            self.stack.callback(app.state.stores.close)
            # an analyst of the place's first partner, whose own data they read, with a purpose declared
            owners = [row["partner"] for row in provenance.list_datasets(stores=app.state.stores)]
            partner = "police-testshire-police" if "police-testshire-police" in owners or not owners else owners[0]
            email = add_user(app, role="analyst", partner=partner)
            session = start_session(stores=app.state.stores, user_id=find_user(stores=app.state.stores, email=email).id,
                                    data={"purpose": PURPOSE})
            _, token = create_token(stores=app.state.stores, email=email, name="browser tests")
            self.servers[name] = Served(place, self.stack.enter_context(live_server(app)), session.id, token)
        return self.servers[name]

    def close(self) -> None:
        self.stack.close()
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def place_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaceServers]:
    servers = PlaceServers(tmp_path_factory.mktemp("places"))
    yield servers
    servers.close()


@pytest.fixture(params=list(PLACES))
def served(request: pytest.FixtureRequest, place_servers: PlaceServers) -> Served:
    """Each test place in turn (add a place to ``PLACES`` and every page test runs on it)."""
    return place_servers.get(request.param)


@pytest.fixture
def squares(place_servers: PlaceServers) -> Served:
    """The small place whose every count is known, for tests that need exact names."""
    return place_servers.get("squares")


class RecordedPage:
    """A page that remembers every request it made."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.requests.append(request.url)

    def external_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(("http://127.0.0.1:", "data:", "blob:"))]


def open_page(browser: Browser, viewport: dict[str, int], request: pytest.FixtureRequest, *,
              javascript: bool = True) -> Iterator[RecordedPage]:
    """A fresh browser context, signed in to the place the test uses (``served`` or ``squares``)."""
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)  # type: ignore[arg-type]
    place = next((name for name in ("served", "squares") if name in request.fixturenames), None)
    if place is not None:
        target: Served = request.getfixturevalue(place)
        context.add_cookies([{"name": COOKIE, "value": target.session_id, "url": target.base_url}])
    try:
        yield RecordedPage(context.new_page())
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser, request: pytest.FixtureRequest) -> Iterator[RecordedPage]:
    yield from open_page(browser, DESKTOP, request)


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[RecordedPage]:
    yield from open_page(browser, PHONE, request)


@pytest.fixture
def no_javascript(browser: Browser, request: pytest.FixtureRequest) -> Iterator[RecordedPage]:
    yield from open_page(browser, DESKTOP, request, javascript=False)


@pytest.fixture
def signed_out(browser: Browser) -> Iterator[RecordedPage]:
    """A phone-sized browser that has not signed in anywhere."""
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    try:
        yield RecordedPage(context.new_page())
    finally:
        context.close()

"""The demand profile and response pages in headless Chromium over the demo place (scale 0.1): accessible (WCAG 2.2
AA by axe), fitting a 390 px phone, every chart and the map drawn, and nothing fetched from outside.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import PHONE, SHOTS, RecordedPage
from tests.browser.test_pages import axe_violations, fits_the_screen, open_and_draw
from tests.support.web_client import add_user, live_server
from wholeplace.governance.users import find_user
from wholeplace.settings import Settings
from wholeplace.synth.demo import build_demo
from wholeplace.web.app import create_app
from wholeplace.web.sessions import COOKIE, start_session

pytestmark = pytest.mark.browser

PURPOSE = "csp_strategic_assessment"


@dataclass
class DemandServer:
    base_url: str
    session_id: str  # a police viewer of the demo place, purpose declared


@pytest.fixture(scope="module")
def demand_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemandServer]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demand-demo") / "data", partnership_key_file=None)
    app = create_app(build_demo(settings=settings, seed=20260101, scale=0.1).settings)
    stores = app.state.stores
    email = add_user(app, role="viewer", partner="police-wenlow-vale-constabulary", email="viewer@demand.example")
    session = start_session(stores=stores, user_id=find_user(stores=stores, email=email).id, data={"purpose": PURPOSE})
    with live_server(app) as base_url:
        yield DemandServer(base_url, session.id)
    stores.close()


@pytest.fixture
def viewer_phone(browser: Browser, demand_server: DemandServer) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    context.add_cookies([{"name": COOKIE, "value": demand_server.session_id, "url": demand_server.base_url}])
    try:
        yield RecordedPage(context.new_page())
    finally:
        context.close()


def check(phone: RecordedPage, url: str, shot: str) -> None:
    open_and_draw(phone.page, url)
    phone.page.screenshot(path=SHOTS / f"demand-{shot}-phone.png", full_page=True)
    assert axe_violations(phone.page) == []
    assert fits_the_screen(phone.page)
    assert phone.external_requests() == []


def test_the_profile_page_is_accessible_and_fits_a_phone(demand_server: DemandServer, viewer_phone: RecordedPage):
    check(viewer_phone, demand_server.base_url + "/demand/profile?level=msoa", "profile")
    page = viewer_phone.page
    assert page.locator("[data-wp-chart][data-rendered=true]").count() == 3  # period, category, heat map
    assert page.locator("#demand-map path.leaflet-interactive").count() == 11  # every neighbourhood
    assert "Counts from 1 to 7 are hidden" in page.locator("#disclosure-rule").inner_text()


def test_the_response_page_is_accessible_and_fits_a_phone(demand_server: DemandServer, viewer_phone: RecordedPage):
    check(viewer_phone, demand_server.base_url + "/demand/response", "response")
    page = viewer_phone.page
    assert page.locator("[data-wp-chart][data-rendered=true]").count() == 1
    assert "exactly one" in page.locator("#summary").evaluate("e => e.nextElementSibling.innerText")

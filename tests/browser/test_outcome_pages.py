"""The shared-outcomes pages in headless Chromium over the demo place (scale 0.1): the place dashboard, an
indicator page with its map, and the public page for residents are accessible (WCAG 2.2 AA), fit a 390 px phone,
draw every chart and map, and fetch nothing from outside.
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
PILOT = "mh-police-incidents"


@dataclass
class OutcomesServer:
    base_url: str
    session_id: str  # a police analyst of the demo place, purpose declared
    pilot_area: str  # the neighbourhood (msoa) with most mental health incidents


@pytest.fixture(scope="module")
def outcomes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutcomesServer]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("outcomes-demo") / "data", partnership_key_file=None)
    built = build_demo(settings=settings, seed=20260101, scale=0.1)
    app = create_app(built.settings)
    stores = app.state.stores
    email = add_user(app, role="analyst", partner="police-wenlow-vale-constabulary", email="analyst@outcomes.example")
    session = start_session(stores=stores, user_id=find_user(stores=stores, email=email).id, data={"purpose": PURPOSE})
    busiest = stores.connect().execute(
        "SELECT a.code FROM events e JOIN area_lookups l ON l.from_code = e.area_code AND l.to_level = 'msoa' "
        "JOIN areas a ON a.level = 'msoa' AND a.code = l.to_code WHERE e.flag_mental_health AND e.dataset = "
        "'demo-police-calls' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()
    with live_server(app) as base_url:
        yield OutcomesServer(base_url, session.id, busiest[0])
    stores.close()


def _page(browser: Browser, server: OutcomesServer | None) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    if server is not None:
        context.add_cookies([{"name": COOKIE, "value": server.session_id, "url": server.base_url}])
    try:
        yield RecordedPage(context.new_page())
    finally:
        context.close()


@pytest.fixture
def analyst_phone(browser: Browser, outcomes_server: OutcomesServer) -> Iterator[RecordedPage]:
    yield from _page(browser, outcomes_server)


@pytest.fixture
def resident_phone(browser: Browser) -> Iterator[RecordedPage]:
    yield from _page(browser, None)


def check(phone: RecordedPage, url: str, shot: str) -> None:
    open_and_draw(phone.page, url)
    phone.page.screenshot(path=SHOTS / f"outcomes-{shot}-phone.png", full_page=True)
    assert axe_violations(phone.page) == []
    assert fits_the_screen(phone.page)
    assert phone.external_requests() == []


def test_the_place_dashboard_is_accessible_and_fits_a_phone(outcomes_server: OutcomesServer,
                                                            analyst_phone: RecordedPage):
    check(analyst_phone, outcomes_server.base_url + "/outcomes", "dashboard")
    page = analyst_phone.page
    assert page.locator(".wp-outcome-card").count() == 22  # every indicator of the demo framework
    assert page.locator("[data-wp-chart][data-rendered=true]").count() >= 15  # small multiples, drawn
    assert page.locator("#card-mh-police-incidents [data-icon]").count() >= 1  # the variation icon, in words too
    assert "Common cause" in page.locator("#card-mh-police-incidents").inner_text() or \
        "Special cause" in page.locator("#card-mh-police-incidents").inner_text()


def test_the_indicator_page_is_accessible_and_fits_a_phone(outcomes_server: OutcomesServer,
                                                           analyst_phone: RecordedPage):
    url = f"{outcomes_server.base_url}/outcomes/indicators/{PILOT}?level=msoa&area={outcomes_server.pilot_area}"
    check(analyst_phone, url, "indicator")
    page = analyst_phone.page
    assert page.locator("#indicator-map path.leaflet-interactive").count() == 11  # every neighbourhood
    assert "Turning the curve" in page.locator("#indicator-chart-turning").inner_text()
    assert "byar" in page.locator("#lineage").evaluate("e => e.nextElementSibling.innerText").lower() or \
        "Byar" in page.content()


def test_the_public_page_needs_no_sign_in_and_is_accessible(outcomes_server: OutcomesServer,
                                                            resident_phone: RecordedPage):
    check(resident_phone, outcomes_server.base_url + "/public/outcomes", "public")
    text = resident_phone.page.locator("#disclosure-rule").inner_text()
    assert "Counts from 1 to 7 are hidden" in text

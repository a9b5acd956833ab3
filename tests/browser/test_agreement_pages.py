"""The agreement pages in headless Chromium: accessible (WCAG 2.2 AA), phone-sized, offline.

They run over a place of their own holding the demo place's agreements, signed in as an
information governance officer, so the edit and new-agreement forms are there too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP, PHONE, SHOTS, RecordedPage
from tests.browser.test_pages import axe_violations, fits_the_screen
from tests.support.places import settings_in
from tests.support.web_client import add_user, live_server
from wholeplace.governance.registry import load_example_agreements
from wholeplace.governance.users import find_user
from wholeplace.web.app import create_app
from wholeplace.web.sessions import COOKIE, start_session

pytestmark = pytest.mark.browser

CSP = "wenlow-csp-strategic-assessment"
PAGES = {
    "agreements": "/agreements",
    "agreement": f"/agreements/{CSP}",
    "agreement-edit": f"/agreements/{CSP}/edit",
    "agreement-new": "/agreements/new",
}


@dataclass
class AgreementsServer:
    base_url: str
    session_id: str  # an information governance officer's session


@pytest.fixture(scope="module")
def agreements_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgreementsServer]:
    folder = tmp_path_factory.mktemp("agreements")
    app = create_app(settings_in(folder))
    stores = app.state.stores
    try:
        load_example_agreements(stores=stores)
        email = add_user(app, role="ig_officer", partner="council-wenlow-vale")
        user = find_user(stores=stores, email=email)
        assert user is not None
        session = start_session(stores=stores, user_id=user.id)
        with live_server(app) as base_url:
            yield AgreementsServer(base_url, session.id)
    finally:
        stores.close()


def signed_in_page(browser: Browser, server: AgreementsServer, viewport: dict[str, int]) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.add_cookies([{"name": COOKIE, "value": server.session_id, "url": server.base_url}])
    try:
        yield RecordedPage(context.new_page())
    finally:
        context.close()


@pytest.fixture
def officer_phone(browser: Browser, agreements_server: AgreementsServer) -> Iterator[RecordedPage]:
    yield from signed_in_page(browser, agreements_server, PHONE)


@pytest.fixture
def officer_desktop(browser: Browser, agreements_server: AgreementsServer) -> Iterator[RecordedPage]:
    yield from signed_in_page(browser, agreements_server, DESKTOP)


@pytest.mark.parametrize("name", list(PAGES))
def test_agreement_pages_are_accessible_and_fit_a_phone(agreements_server: AgreementsServer,
                                                        officer_phone: RecordedPage, name: str):
    page = officer_phone.page
    response = page.goto(agreements_server.base_url + PAGES[name])
    assert response is not None and response.status == 200
    assert axe_violations(page) == []
    assert fits_the_screen(page)
    page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True)
    assert officer_phone.external_requests() == []


def test_the_detail_page_is_accessible_on_a_desktop(agreements_server: AgreementsServer,
                                                    officer_desktop: RecordedPage):
    page = officer_desktop.page
    page.goto(agreements_server.base_url + PAGES["agreement"])
    for heading in ("Parties", "Datasets", "Output rules", "Sign-offs", "Version history", "Change the status"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=SHOTS / "agreement-desktop.png", full_page=True)
    assert officer_desktop.external_requests() == []


def test_an_edit_with_problems_shows_an_accessible_error_summary(agreements_server: AgreementsServer,
                                                                 officer_phone: RecordedPage):
    page = officer_phone.page
    page.goto(agreements_server.base_url + PAGES["agreement-edit"])
    text = page.locator("#agreement").input_value()
    page.fill("#agreement", text.replace("access: aggregate", "access: identifiable", 1))
    page.get_by_role("button", name="Save version 2").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("CDA1998_s17A covers aggregate data only")
    expect(summary).to_contain_text("Enter what changed and why")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    assert axe_violations(page) == []
    assert fits_the_screen(page)
    page.screenshot(path=SHOTS / "agreement-edit-errors-phone.png", full_page=True)
    assert officer_phone.external_requests() == []

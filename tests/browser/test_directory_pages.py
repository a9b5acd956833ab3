"""The directory pages in headless Chromium on a phone (390×844): search by need and postcode, open a
service, the pathways; accessible (WCAG 2.2 AA), fitting the screen, nothing fetched from elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PHONE, SHOTS, RecordedPage
from tests.browser.test_pages import axe_violations, fits_the_screen
from tests.support.places import settings_in
from tests.support.web_client import add_user, live_server
from wholeplace.governance.users import find_user
from wholeplace.synth.demo import _add_directory
from wholeplace.web.app import create_app
from wholeplace.web.sessions import COOKIE, start_session

pytestmark = pytest.mark.browser


@dataclass
class DirectoryServer:
    base_url: str
    session_id: str  # a practitioner's session


@pytest.fixture(scope="module")
def directory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectoryServer]:
    folder = tmp_path_factory.mktemp("directory-browser")
    app = create_app(settings_in(folder))
    stores = app.state.stores
    try:
        _add_directory(stores, folder / "demo-source", 20260101)
        user = find_user(stores=stores, email=add_user(app, role="practitioner", partner="council-wenlow-vale"))
        assert user is not None
        session = start_session(stores=stores, user_id=user.id)
        with live_server(app) as base_url:
            yield DirectoryServer(base_url, session.id)
    finally:
        stores.close()


@pytest.fixture
def phone(browser: Browser, directory_server: DirectoryServer) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    context.add_cookies([{"name": COOKIE, "value": directory_server.session_id, "url": directory_server.base_url}])
    try:
        yield RecordedPage(context.new_page())
    finally:
        context.close()


def checked(recorded: RecordedPage, name: str) -> None:
    assert axe_violations(recorded.page) == []
    assert fits_the_screen(recorded.page)
    recorded.page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True)


def test_search_by_need_and_postcode_then_open_a_service(directory_server: DirectoryServer, phone: RecordedPage):
    page = phone.page
    page.goto(directory_server.base_url + "/directory")
    checked(phone, "directory-search")
    page.select_option("#need", label="Somewhere to sleep tonight")
    page.fill("#postcode", "XV5 1BR")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results-heading")).to_contain_text("found")
    expect(page.locator("#where-rule")).to_contain_text("XV5 1BR")
    checked(phone, "directory-results")
    page.get_by_role("link", name="Wenlow Night Shelter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wenlow Night Shelter")
    expect(page.locator("#refer-link")).to_have_attribute("href", f"/referrals/new?service={page.url.split('/')[-1]}")
    expect(page.locator("#last-checked")).to_contain_text("Last checked")
    checked(phone, "directory-service")
    assert phone.external_requests() == []


def test_the_pathway_pages_fit_a_phone(directory_server: DirectoryServer, phone: RecordedPage):
    page = phone.page
    page.goto(directory_server.base_url + "/directory/pathways")
    checked(phone, "directory-pathways")
    page.goto(directory_server.base_url + "/directory/pathways/mental-health-crisis?locality=Wenlow&time=in_hours")
    expect(page.locator("#threshold-questions li")).to_have_count(4)
    checked(phone, "directory-pathway")
    page.get_by_role("link", name="Edit this pathway").click()
    checked(phone, "directory-pathway-edit")
    assert phone.external_requests() == []


def test_the_editor_pages_fit_a_phone(directory_server: DirectoryServer, phone: RecordedPage):
    """A provider proposes a closure alert on a phone; the editor approves it from the queue and the service
    page shows it; the review reminders and duplicates pages too: accessible and fitting the screen."""
    page = phone.page
    page.goto(directory_server.base_url + "/directory")
    page.select_option("#need", label="Somewhere to sleep tonight")
    page.fill("#postcode", "XV5 1BR")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Wenlow Night Shelter").click()
    service_url = page.url
    page.get_by_role("link", name="Propose a change").click()
    checked(phone, "directory-propose")
    page.fill("#alert", "Closed for refurbishment until 1 June")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.locator("#sent-status")).to_contain_text("will check your change")
    checked(phone, "directory-propose-sent")
    page.goto(directory_server.base_url + "/directory/proposals")
    expect(page.get_by_text("Closed for refurbishment until 1 June")).to_be_visible()
    checked(phone, "directory-proposals")
    page.get_by_role("button", name="Approve").first.click()
    page.goto(service_url)
    expect(page.get_by_text("Closed for refurbishment until 1 June")).to_be_visible()
    for name in ("reviews", "duplicates"):
        page.goto(f"{directory_server.base_url}/directory/{name}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        checked(phone, f"directory-{name}")
    assert phone.external_requests() == []

"""The closed loop in headless Chromium on a phone (390×844): a police practitioner searches the
directory by need and postcode, opens a council service and refers a person to it; a council
practitioner opens and accepts the referral; the police practitioner sees it accepted. Every page on
the way passes axe (WCAG 2.2 AA), fits the screen and fetches nothing from elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PHONE, SHOTS, RecordedPage
from tests.browser.test_pages import axe_violations, fits_the_screen
from tests.support.places import settings_in
from tests.support.web_client import add_user, live_server
from wholeplace.directory.search import SearchForm, load_needs, search_services
from wholeplace.directory.store import directory_session
from wholeplace.governance.users import find_user
from wholeplace.referrals.parties import receiver_for
from wholeplace.synth.demo import _add_directory
from wholeplace.web.app import create_app
from wholeplace.web.sessions import COOKIE, start_session

pytestmark = pytest.mark.browser

REFERRER, RECEIVER = "police-wenlow-vale-constabulary", "council-wenlow-vale"
POSTCODE = "XV5 1BR"


@dataclass
class Loop:
    base_url: str
    sessions: dict[str, str]  # partner -> a practitioner's session id
    need: str  # the need's label in the search form
    service: str  # the name of a council service the search finds


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    folder = tmp_path_factory.mktemp("referral-browser")
    app = create_app(settings_in(folder))
    stores = app.state.stores
    try:
        _add_directory(stores, folder / "demo-source", 20260101)
        need, service = _council_service_near(stores)
        sessions = {}
        for partner in (REFERRER, RECEIVER):
            user = find_user(stores=stores, email=add_user(app, role="practitioner", partner=partner))
            assert user is not None
            sessions[partner] = start_session(stores=stores, user_id=user.id).id
        with live_server(app) as base_url:
            yield Loop(base_url, sessions, need, service)
    finally:
        stores.close()


def _council_service_near(stores: object) -> tuple[str, str]:
    """A need whose search near POSTCODE finds a service the council runs (so the loop stays in the app)."""
    for need in load_needs():
        found = search_services(stores=stores, form=SearchForm(need=need.id, postcode=POSTCODE))  # type: ignore[arg-type]
        with directory_session(stores) as session:  # type: ignore[arg-type]
            for result in found.results:
                if receiver_for(session, result.id).partner == RECEIVER:
                    return need.label, result.name
    raise AssertionError("no need finds a council service near " + POSTCODE)


@pytest.fixture
def as_partner(browser: Browser, loop: Loop) -> Iterator[object]:
    contexts = []

    def open_as(partner: str) -> RecordedPage:
        context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
        context.add_cookies([{"name": COOKIE, "value": loop.sessions[partner], "url": loop.base_url}])
        contexts.append(context)
        return RecordedPage(context.new_page())

    yield open_as
    for context in contexts:
        context.close()


def checked(recorded: RecordedPage, name: str) -> None:
    assert axe_violations(recorded.page) == []
    assert fits_the_screen(recorded.page)
    recorded.page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True)


def test_refer_from_a_search_and_see_the_receiver_accept(loop: Loop, as_partner) -> None:  # type: ignore[no-untyped-def]
    referrer: RecordedPage = as_partner(REFERRER)
    page = referrer.page
    page.goto(loop.base_url + "/directory")
    page.select_option("#need", label=loop.need)
    page.fill("#postcode", POSTCODE)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=loop.service).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(loop.service)
    page.locator("#refer-link").click()
    checked(referrer, "referral-new")
    page.fill("#person_name", "Ada Example")
    page.fill("#person_contact", "07700 900123")
    page.fill("#needs", "Needs somewhere safe to stay tonight")
    page.locator("input[name=urgency]").first.check()
    page.locator("#consent").check()  # the first consent choice: they consented
    page.fill("#consent_by", "Ada Example")
    page.locator("input[name=consent_how]").first.check()
    page.fill("#consent_at", "2026-12-01")
    page.get_by_role("button", name="Send referral").click()
    expect(page.locator("#status")).to_contain_text("New")
    checked(referrer, "referral-sent")
    address = page.url.split("?")[0]

    receiver: RecordedPage = as_partner(RECEIVER)
    receiver.page.goto(loop.base_url + "/referrals")
    # on a phone the navigation sits behind its menu button, so its text is checked, not its visibility
    expect(receiver.page.locator(".govuk-service-navigation")).to_contain_text("Referrals (1 new)")
    expect(receiver.page.get_by_role("cell", name="Ada Example")).to_be_visible()
    checked(receiver, "referrals-received")
    receiver.page.goto(address)
    expect(receiver.page.locator("#status")).to_contain_text("Opened")
    receiver.page.locator("#action-accepted").click()
    expect(receiver.page.locator("#status")).to_contain_text("Accepted")
    checked(receiver, "referral-accepted")

    page.goto(address)
    expect(page.locator("#status")).to_contain_text("Accepted")
    checked(referrer, "referral-seen-accepted")
    assert referrer.external_requests() == [] and receiver.external_requests() == []

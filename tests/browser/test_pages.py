"""The pages of every test place in headless Chromium: offline, drawn, accessible, phone-sized."""

from __future__ import annotations

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import SHOTS, RecordedPage, Served
from tests.support.web_client import PASSWORD

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]}}
PAGES = {"overview": "/", "data": "/data"}
OTHER_PAGES = {  # checked on the squares place, whose names are known
    "dataset": "/datasets/police-uk-street-testshire-police",
    "records": "/datasets/police-uk-street-testshire-police/records?justification=checking+the+records+page",
    "records-asking-why": "/datasets/police-uk-street-testshire-police/records?justification=short",
    "purpose": "/purpose",
    "accessibility": "/accessibility",
    "api-docs": "/api/docs",
    "not-found": "/no-such-page",
    "invalid-filter": "/?level=county",
}


def open_and_draw(page: Page, url: str) -> None:
    """Open a page and wait until its maps and charts have drawn."""
    page.goto(url)
    for selector in ("[data-wp-map]", "[data-wp-chart]"):
        for element in page.locator(selector).all():
            expect(element).to_have_attribute("data-rendered", "true", timeout=15_000)


def finest_level_areas(served: Served) -> int:
    levels = httpx.get(f"{served.base_url}/api/v1/levels", headers=served.auth_headers).json()["data"]
    return levels[0]["features"] if levels else 0


def axe_violations(page: Page) -> list[str]:
    results = Axe().run(page, options=WCAG)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)" for v in results.response["violations"]]


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_overview_is_accessible_on_a_phone(squares: Served, phone: RecordedPage):
    open_and_draw(phone.page, squares.base_url + "/")
    assert axe_violations(phone.page) == []


@pytest.mark.parametrize("name", list(OTHER_PAGES))
def test_other_pages_are_accessible_and_fit_a_phone(squares: Served, phone: RecordedPage, name: str):
    open_and_draw(phone.page, squares.base_url + OTHER_PAGES[name])
    assert axe_violations(phone.page) == []
    assert fits_the_screen(phone.page)
    phone.page.screenshot(path=SHOTS / f"squares-{name}-phone.png", full_page=True)
    assert phone.external_requests() == []


def test_htmx_filters_swap_only_the_results(squares: Served, desktop: RecordedPage):
    page = desktop.page
    open_and_draw(page, squares.base_url + "/")
    page.evaluate("window.notReloaded = true")
    page.select_option("#partner", "police-testshire-police")
    expect(page.locator("#results-heading")).to_contain_text("Testshire Police")
    expect(page.locator("#area-map")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#area-summary")).to_contain_text("3 of the 4 areas had a small number, hidden as [REDACTED]")
    page.focus("#level")
    page.select_option("#level", "ward")
    expect(page.locator("#results-heading")).to_contain_text("by WARD area")
    expect(page.locator("#area-map")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#area-map path.leaflet-interactive")).to_have_count(1)
    expect(page.locator("#results-status")).to_contain_text("Results updated")
    assert page.evaluate("window.notReloaded") is True
    assert "partner=police-testshire-police" in page.url and "level=ward" in page.url
    expect(page.locator("#level")).to_be_focused()  # the swap left focus on the filter
    assert desktop.external_requests() == []


def test_filters_work_without_javascript(squares: Served, no_javascript: RecordedPage):
    page = no_javascript.page
    page.goto(squares.base_url + "/")
    page.select_option("#partner", "police-testshire-police")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**partner=police-testshire-police**")
    expect(page.locator("#results-heading")).to_contain_text("Testshire Police")
    expect(page.locator("#area-summary")).to_contain_text("hidden as [REDACTED]")


def test_overview_draws_map_chart_and_tables_accessibly_without_leaving_the_machine(
        served: Served, desktop: RecordedPage):
    page = desktop.page
    open_and_draw(page, served.base_url + "/")
    expect(page.locator("#area-map path.leaflet-interactive")).to_have_count(finest_level_areas(served))
    expect(page.locator("#month-chart svg").first).to_be_visible()
    assert page.locator("table.govuk-table").count() >= 2
    if served.place.name == "squares":  # every count of the squares place is small, so hidden
        expect(page.locator("#area-summary")).to_contain_text("hidden as [REDACTED]")
        expect(page.locator("#month-summary")).to_contain_text("hidden as [REDACTED]")
    else:
        expect(page.locator("#area-summary")).to_contain_text("Most events were in")
        expect(page.locator("#month-summary")).to_contain_text("The busiest month was")
    if served.place.busiest_area and served.place.name != "squares":
        expect(page.locator("#area-summary")).to_contain_text(served.place.busiest_area)
    page.screenshot(path=SHOTS / f"{served.place.name}-overview-desktop.png", full_page=True)
    assert axe_violations(page) == []
    assert desktop.external_requests() == []


def test_data_page_shows_its_tables_accessibly_without_leaving_the_machine(served: Served, desktop: RecordedPage):
    page = desktop.page
    open_and_draw(page, served.base_url + "/data?justification=checking+the+loads+of+this+place")
    for heading in ("Datasets", "Loads", "Quarantined rows", "Area disagreements", "Geography levels"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert page.locator("table.govuk-table").count() >= 3
    page.screenshot(path=SHOTS / f"{served.place.name}-data-desktop.png", full_page=True)
    assert axe_violations(page) == []
    assert desktop.external_requests() == []


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_fit_a_phone_without_scrolling_sideways(served: Served, phone: RecordedPage, name: str):
    open_and_draw(phone.page, served.base_url + PAGES[name])
    assert fits_the_screen(phone.page)
    phone.page.screenshot(path=SHOTS / f"{served.place.name}-{name}-phone.png", full_page=True)
    assert phone.external_requests() == []


def test_sign_in_page_is_accessible_and_signs_in_with_the_form(squares: Served, signed_out: RecordedPage):
    page = signed_out.page
    page.goto(squares.base_url + "/data")
    page.wait_for_url("**/sign-in?next=%2Fdata")
    assert axe_violations(page) == []
    page.fill("#email", "analyst@police-testshire-police.example.org")
    page.fill("#password", "not the right password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a correct email address and password")
    assert axe_violations(page) == []
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/purpose?next=%2Fdata")  # every read declares a purpose first
    assert axe_violations(page) == []
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the purpose of your work")
    page.get_by_label("Demand analysis").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/data")
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
    expect(page.locator("#declared-purpose")).to_contain_text("Demand analysis")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    assert signed_out.external_requests() == []


def test_audit_page_is_accessible_and_fits_a_phone(squares: Served, signed_out: RecordedPage):
    from wholeplace.governance.users import create_user, find_user
    from wholeplace.store import open_stores

    email = "ig_officer@council-testshire.example.org"
    stores = open_stores(squares.place.settings)
    if find_user(stores=stores, email=email) is None:
        create_user(stores=stores, email=email, partner="council-testshire", role="ig_officer", password=PASSWORD)
    stores.close()
    page = signed_out.page
    page.goto(squares.base_url + "/audit")
    page.wait_for_url("**/sign-in?next=%2Faudit")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/audit")
    expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    expect(page.locator("#chain-status")).to_contain_text("Intact")
    assert axe_violations(page) == []
    assert fits_the_screen(page)
    page.screenshot(path=str(SHOTS / "squares-audit-phone.png"), full_page=True)
    assert signed_out.external_requests() == []

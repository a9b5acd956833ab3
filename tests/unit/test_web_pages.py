"""Pages rendered by the app in memory over a temporary store (no server, no browser)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.places import Place, build_squares
from tests.support.web_client import AppClient, signed_in
from wholeplace.settings import Settings
from wholeplace.web.app import create_app


@pytest.fixture
def squares(settings: Settings, tmp_path: Path) -> Place:
    return build_squares(settings, tmp_path)


@pytest.fixture
def client(squares: Place) -> Iterator[AppClient]:
    with signed_in(create_app(squares.settings)) as opened:
        yield opened


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_overview_shows_headlines_map_chart_tables_and_summaries(client: AppClient):
    response = client.get("/")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "12 events" in text and "2 partners" in text and "3 months covered" in text
    assert 'data-wp-map="area-map-data"' in response.text and 'data-wp-chart="month-chart-spec"' in response.text
    assert "Most events were in Squareton 001A (5 of the 11 in LSOA areas, 45.5%)." in text
    assert "The busiest month was January 2021, with 7 events" in text
    assert "Events in each LSOA area" in text and "Events by month and partner" in text


def test_filters_by_partner_and_level_with_a_plain_get(client: AppClient):
    text = text_of(client.get("/?level=ward&partner=police-otherton-police").text)
    assert "Showing events from Otherton Police by WARD area." in text
    assert "Most Otherton Police's events were in Squareton Ward (3 of the 3" in text


def test_htmx_request_gets_only_the_results_block(client: AppClient):
    response = client.get("/?partner=police-otherton-police", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="results"')
    assert "<html" not in response.text and "Otherton Police" in response.text
    assert "HX-Request" in response.headers["vary"]


def test_empty_store_says_nothing_is_loaded_and_how_to_load(settings: Settings):
    with signed_in(create_app(settings)) as client:
        text = text_of(client.get("/").text)
    assert "Nothing is loaded yet" in text
    assert "wholeplace load police-uk" in text and "wholeplace demo" in text


def test_two_apps_over_two_stores_show_their_own_place(client: AppClient, tmp_path: Path):
    with signed_in(create_app(Settings(data_dir=tmp_path / "other", partnership_key_file=None))) as empty:
        assert "Nothing is loaded yet" in empty.get("/").text
    assert "Nothing is loaded yet" not in client.get("/").text


def test_data_page_lists_datasets_loads_quarantine_disagreements_and_levels(client: AppClient):
    text = text_of(client.get("/data").text)
    for expected in ("Testshire Police: data.police.uk street-level crime", "2021-01-testshire-street.csv",
                     "Month is not a YYYY-MM month", "E01000004", "squares.geojson", "LSOA (lsoa)", "WARD (ward)"):
        assert expected in text
    filtered = text_of(client.get("/data?dataset=police-uk-street-otherton-police").text)
    assert "Month is not a YYYY-MM month" not in filtered and "Showing 1 to 1 of 1" not in filtered


def test_dataset_page_shows_provenance_categories_and_fields(client: AppClient):
    text = text_of(client.get("/datasets/police-uk-street-testshire-police").text)
    assert "Testshire Police (police)" in text
    assert "burglary Burglary 5" in text and "anti_social_behaviour Anti-social behaviour 2" in text
    assert "occurred_month (month) The first day" not in text  # meanings are the declared ones
    assert "First day of the month the event happened in. 100.0%" in text


def test_unknown_page_and_dataset_are_404_error_pages_with_an_error_summary(client: AppClient):
    for url in ("/no-such-page", "/datasets/no-such-dataset"):
        response = client.get(url)
        assert response.status_code == 404
        assert 'class="govuk-error-summary"' in response.text and "There is a problem" in response.text
    assert "There is no dataset 'no-such-dataset'" in text_of(client.get("/datasets/no-such-dataset").text)


def test_invalid_filters_are_422_error_pages_naming_the_problem(client: AppClient):
    unknown = client.get("/?level=county")
    assert unknown.status_code == 422
    assert "There is no level 'county' in this place." in text_of(unknown.text)
    assert "Choose one of: lsoa, ward." in unknown.text
    bad_page = client.get("/data?quarantine_page=0")
    assert bad_page.status_code == 422 and "quarantine_page" in bad_page.text


def test_accessibility_statement_and_health(client: AppClient):
    assert "Accessibility statement for Wholeplace" in client.get("/accessibility").text
    assert client.get("/health").json() == {"status": "ok"}

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


def test_overview_shows_published_headlines_map_chart_tables_and_summaries(client: AppClient):
    """A Testshire analyst sees Testshire's own 9 events, published under the opensafely rule."""
    response = client.get("/")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Purpose: Demand analysis" in text
    assert "10 events" in text and "1 partners" in text and "2 months covered" in text  # 9 rounded to 10
    assert 'data-wp-map="area-map-data"' in response.text and 'data-wp-chart="month-chart-spec"' in response.text
    assert "3 of the 4 areas had a small number, hidden as [REDACTED]." in text
    assert "Squareton 001A E01000001 [REDACTED] —" in text and "Squareton 001D E01000004 0" in text
    assert "January 2021 [REDACTED] February 2021 0 March 2021 [REDACTED]" in text
    assert "Counts from 1 to 7 are hidden and shown as [REDACTED]" in text
    assert "Events in each LSOA area" in text and "Events by month and partner" in text
    assert re.search(r"\b[1-7] events\b", text) is None


def test_filters_by_partner_and_level_with_a_plain_get(client: AppClient):
    text = text_of(client.get("/?level=ward&partner=police-testshire-police").text)
    assert "Showing events from Testshire Police by WARD area." in text
    assert "Squareton Ward E05000001 10" in text  # 9 events in the one ward, rounded
    refused = client.get("/?partner=police-otherton-police")
    assert refused.status_code == 422
    assert "There is no partner 'police-otherton-police' whose data is shared with you" in text_of(refused.text)


def test_without_a_purpose_a_page_asks_for_one_then_returns(squares: Place):
    with signed_in(create_app(squares.settings), purpose=None) as client:
        asked = client.get("/datasets/police-uk-street-testshire-police")
        assert asked.status_code == 303 and asked.headers["location"].startswith("/purpose?next=%2Fdatasets%2F")
        form = client.get(asked.headers["location"])
        assert "What is the purpose of your work?" in text_of(form.text)
        bad = client.post("/purpose", data={"purpose": "", "csrf_token": client.csrf_token("/purpose")})
        assert bad.status_code == 422 and "Choose the purpose of your work" in text_of(bad.text)
        chosen = client.post("/purpose", data={"purpose": "evaluation", "next": "/datasets/x",
                                               "csrf_token": client.csrf_token("/purpose")})
        assert chosen.status_code == 303 and chosen.headers["location"] == "/datasets/x"
        assert "Purpose: Service evaluation" in text_of(client.get("/").text)
        offsite = client.post("/purpose", data={"purpose": "evaluation", "next": "//evil.example",
                                                "csrf_token": client.csrf_token("/purpose")})
        assert offsite.headers["location"] == "/"


def test_htmx_request_gets_only_the_results_block(client: AppClient):
    response = client.get("/?partner=police-testshire-police", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="results"')
    assert "<html" not in response.text and "Testshire Police" in response.text
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


def test_data_page_lists_datasets_loads_and_levels_and_records_after_a_justification(client: AppClient):
    text = text_of(client.get("/data").text)
    for expected in ("Testshire Police: data.police.uk street-level crime", "2021-01-testshire-street.csv",
                     "squares.geojson", "LSOA (lsoa)", "WARD (ward)", "Why do you need to see these rows?"):
        assert expected in text
    assert "Otherton" not in text  # not shared with Testshire
    assert "Month is not a YYYY-MM month" not in text  # records only after a justification
    short = client.get("/data?justification=because")
    assert short.status_code == 422 and "at least 10 characters" in text_of(short.text)
    shown = text_of(client.get("/data?justification=checking+the+January+load").text)
    assert "Month is not a YYYY-MM month" in shown and "E01000004" in shown
    refused = client.get("/data?dataset=police-uk-street-otherton-police&justification=checking+the+load")
    assert refused.status_code == 403 and "may not read 'police-uk-street-otherton-police'" in text_of(refused.text)


def test_dataset_page_shows_provenance_and_published_categories_and_fields(client: AppClient):
    text = text_of(client.get("/datasets/police-uk-street-testshire-police").text)
    assert "Testshire Police (police)" in text and "Rows in store 10" in text
    assert "burglary Burglary [REDACTED]" in text and "anti_social_behaviour Anti-social behaviour [REDACTED]" in text
    assert "occurred_month (month) The first day" not in text  # meanings are the declared ones
    assert "First day of the month the event happened in. 100.0%" in text
    assert "Records of this dataset" in text
    assert client.get("/datasets/police-uk-street-otherton-police").status_code == 403


def test_records_page_asks_why_then_shows_records_and_audits_the_view(client: AppClient, squares: Place):
    url = "/datasets/police-uk-street-testshire-police/records"
    asked = text_of(client.get(url).text)
    assert "Why do you need to see these records?" in asked and "event_id" not in asked
    shown = client.get(url + "?justification=reviewing+repeat+burglary+locations")
    assert shown.status_code == 200 and "Showing 1 to 9 of 9" in text_of(shown.text)
    from wholeplace.governance import audit

    stores = squares.stores()
    try:
        [entry], _ = audit.search(stores=stores, action="consultation", limit=5)
    finally:
        stores.close()
    assert entry.justification == "reviewing repeat burglary locations" and entry.purpose == "demand_analysis"


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
    bad_page = client.get("/data?quarantine_page=0&justification=checking+the+load")
    assert bad_page.status_code == 422 and "quarantine_page" in bad_page.text


def test_accessibility_statement_and_health(client: AppClient):
    assert "Accessibility statement for Wholeplace" in client.get("/accessibility").text
    assert client.get("/health").json() == {"status": "ok"}


def test_downloads_are_published_tables_stating_the_rule_and_recorded_as_disclosures(client: AppClient, squares: Place):
    import zipfile
    from io import BytesIO

    from wholeplace.governance import audit

    areas = client.get("/exports/areas.csv?level=lsoa")
    assert areas.status_code == 200 and areas.headers["content-type"].startswith("text/csv")
    lines = areas.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "area_code,area_name,events" and "E01000001,Squareton 001A,[REDACTED]" in lines
    assert "E01000004,Squareton 001D,0" in lines and ",Total,0" in lines
    assert any(line.lstrip("\"").startswith("Disclosure control: Counts from 1 to 7 are hidden") for line in lines)
    months = client.get("/exports/months.xlsx")
    assert months.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(BytesIO(months.content)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "[REDACTED]" in strings and "opensafely rule" in strings and "police-testshire-police" in strings
    assert client.get("/exports/months.docx").status_code == 422
    stores = squares.stores()
    try:
        disclosures, _ = audit.search(stores=stores, action="disclosure", limit=10)
    finally:
        stores.close()
    assert {e.what["export"] for e in disclosures} == {"events by area", "events by month"}


def test_pdf_download_is_a_tagged_pdf_of_the_published_table(client: AppClient, tmp_path: Path):
    import subprocess

    response = client.get("/exports/areas.pdf?level=lsoa")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    (tmp_path / "areas.pdf").write_bytes(response.content)
    info = subprocess.run(["pdfinfo", str(tmp_path / "areas.pdf")], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE) and "Title:           Events by lsoa" in info
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "areas.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Squareton 001A" in text and "[REDACTED]" in text and "opensafely rule" in text
    assert re.search(r"E01000001\s+Squareton 001A\s+\[REDACTED\]", text)

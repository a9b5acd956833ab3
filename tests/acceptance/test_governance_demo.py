"""Governance acceptance in the demo place: agreements decide who sees police records, and nothing published shows a
small count.

1. An NHS analyst with no agreement covering police person-level data cannot get it through any page or API route,
   whatever purpose they declare; once the police-NHS case work agreement is active and they declare its purpose,
   they can, and each access is in the audit log with its justification and the agreement's version.
2. Under the opensafely rule (the demo agreements' preset, and the default for a partner's own data) no page or API
   response shows a count from 1 to 7, for any role of any partner.
"""

from __future__ import annotations

import csv
import html
import io
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.support.web_client import AppClient
from wholeplace.governance import audit
from wholeplace.governance.access import Role
from wholeplace.governance.agreements import AgreementStatus
from wholeplace.governance.registry import set_status
from wholeplace.settings import Settings
from wholeplace.synth.demo import DEMO_PASSWORD, build_demo, demo_email
from wholeplace.web.app import create_app

SCALE = 0.1
POLICE = "demo-police-calls"
NHS = "acute-wenlow-general"
CASE_WORK = "wenlow-police-nhs-case-work"
WHY = "justification=joint+review+of+a+frequent+caller+case"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("governed") / "data", partnership_key_file=None)
    build_demo(settings=settings, scale=SCALE)
    built = create_app(settings)
    yield built
    built.state.stores.close()


def client_for(app: FastAPI, role: Role, partner: str, purpose: str) -> AppClient:
    client = AppClient(app)
    assert client.sign_in(demo_email(role, partner), DEMO_PASSWORD).status_code == 303
    client.declare_purpose(purpose)
    return client


def police_person_level_reads(client: AppClient) -> dict[str, int]:
    """Every route that can show police records: page, API and record views of loads."""
    urls = [f"/datasets/{POLICE}/records?{WHY}", f"/datasets/{POLICE}/records.csv?{WHY}",
            f"/data?dataset={POLICE}&{WHY}", f"/api/v1/datasets/{POLICE}/records?{WHY}",
            f"/api/v1/quarantine?dataset={POLICE}&{WHY}", f"/api/v1/area-disagreements?dataset={POLICE}&{WHY}"]
    return {url: client.get(url).status_code for url in urls}


def test_nhs_analyst_gets_police_records_only_under_an_active_agreement_for_its_purpose(app: FastAPI):
    stores = app.state.stores
    for purpose in ("multi_agency_case_work", "demand_analysis", "csp_strategic_assessment", "evaluation"):
        refused = police_person_level_reads(client_for(app, Role.ANALYST, NHS, purpose))
        assert set(refused.values()) == {403}, (purpose, refused)
        listed = client_for(app, Role.ANALYST, NHS, purpose).get("/api/v1/loads").json()
        assert all(load["dataset"] != POLICE for load in listed["data"])
    message = client_for(app, Role.ANALYST, NHS, "multi_agency_case_work").get(
        f"/api/v1/datasets/{POLICE}/records?{WHY}").json()["error"]["message"]
    assert f"agreement '{CASE_WORK}' (version 1) is draft, not active" in message
    refusals, _ = audit.search(stores=stores, action="refusal", actor=demo_email(Role.ANALYST, NHS), limit=100)
    assert len(refusals) >= 20

    set_status(stores=stores, agreement_id=CASE_WORK, status=AgreementStatus.ACTIVE, actor="ig-officer",
               note="signed off by all parties")
    allowed = client_for(app, Role.ANALYST, NHS, "multi_agency_case_work")
    page = allowed.get(f"/datasets/{POLICE}/records?{WHY}")
    assert page.status_code == 200 and "subject_token" in page.text and "caller_token" not in page.text
    body = allowed.get(f"/api/v1/datasets/{POLICE}/records?{WHY}&limit=3").json()
    assert body["fields"] == ["event_id", "occurred_month", "category_opening", "category_closing", "received_at",
                              "subject_token", "flag_mental_health", "flag_domestic_abuse", "outcome"]
    assert len(body["data"]) == 3 and body["count"] > 1000
    download = allowed.get(f"/datasets/{POLICE}/records.csv?{WHY}")
    assert download.status_code == 200 and download.text.splitlines()[0].lstrip("\ufeff").startswith("event_id,")
    # the same analyst, for another purpose, is still refused: the agreement covers case work only
    assert set(police_person_level_reads(client_for(app, Role.ANALYST, NHS, "demand_analysis")).values()) == {403}

    consulted, _ = audit.search(stores=stores, action="consultation", actor=demo_email(Role.ANALYST, NHS), limit=10)
    assert len(consulted) == 3  # the page, the API and the download
    for entry in consulted:
        assert entry.justification == "joint review of a frequent caller case"
        assert (entry.purpose, entry.agreement_id, entry.agreement_version) == ("multi_agency_case_work", CASE_WORK, 2)
        assert POLICE in str(entry.what)
    assert audit.verify(stores=stores).ok


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


NUMERIC_CELL = re.compile(r'class="govuk-table__cell govuk-table__cell--numeric">\s*([^<]*?)\s*<')
HEADLINE = re.compile(r'<span class="wp-headline__value">([^<]*)</span>\s*<span class="wp-headline__label">events')
COUNT_KEYS = {"events", "total", "rows_in_store", "rows_quarantined", "events_placed", "filled"}


LOADS_SECTION = re.compile(r'<h2 class="govuk-heading-l" id="loads">.*?(?=<h2)', re.DOTALL)
LEVELS_SECTION = re.compile(r'<h2 class="govuk-heading-l" id="levels">.*', re.DOTALL)  # numbers of areas, not people


def small_counts_on_page(page: str) -> list[str]:
    """Counts from 1 to 7 in a page's tables and headline. Loads are left out: they describe files, and are listed
    only to those who may see the records themselves."""
    page = LEVELS_SECTION.sub("", LOADS_SECTION.sub("", page))
    cells = NUMERIC_CELL.findall(page) + HEADLINE.findall(page)
    return [c for c in cells if c.replace(",", "").isdigit() and 1 <= int(c.replace(",", "")) <= 7]


def small_counts_in_json(value: Any, key: str | None = None) -> list[tuple[str, int]]:
    if isinstance(value, dict):  # loads describe files, listed only to record-level readers (see above)
        return [found for k, v in value.items() if k != "loads" for found in small_counts_in_json(v, k)]
    if isinstance(value, list):
        return [found for item in value for found in small_counts_in_json(item, key)]
    if key in COUNT_KEYS and isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return [(key, value)]
    return []


@pytest.mark.parametrize(("role", "partner"), [(Role.VIEWER, "police-wenlow-vale-constabulary"), (Role.ANALYST, NHS)])
def test_no_page_or_api_response_shows_a_count_from_1_to_7(app: FastAPI, partner: str, role: Role):
    client = client_for(app, role, partner, "csp_strategic_assessment")
    datasets = client.get("/api/v1/datasets").json()["data"]
    assert len(datasets) == 6  # the CSP agreement shares every partner's events (police: two datasets), as counts
    levels = [row["level"] for row in client.get("/api/v1/levels").json()["data"]]
    partners = [row["partner"] for row in client.get("/api/v1/partners").json()["data"]]
    pages = ["/", "/data", *(f"/datasets/{row['dataset']}" for row in datasets),
             *(f"/?level={level}" for level in levels), *(f"/?partner={p}" for p in partners),
             *(f"/?level={levels[-1]}&partner={p}" for p in partners)]
    apis = ["/api/v1/overview/summary", "/api/v1/partners", "/api/v1/datasets", "/api/v1/status",
            *(f"/api/v1/overview/areas?level={level}" for level in levels),
            *(f"/api/v1/overview/areas?level={level}&partner={p}" for level in levels for p in partners),
            "/api/v1/overview/months", *(f"/api/v1/overview/months?partner={p}" for p in partners),
            *(f"/api/v1/datasets/{row['dataset']}/categories" for row in datasets)]
    exports = ["/exports/months.csv", *(f"/exports/areas.csv?level={level}" for level in levels),
               *(f"/exports/areas.csv?level={levels[0]}&partner={p}" for p in partners),
               *(f"/datasets/{row['dataset']}/categories.csv" for row in datasets)]
    hidden = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert small_counts_on_page(response.text) == [], url
        hidden += response.text.count("[REDACTED]")
    for url in apis:
        response = client.get(url)
        assert response.status_code == 200, url
        assert small_counts_in_json(response.json()) == [], url
    for url in exports:
        response = client.get(url)
        assert response.status_code == 200, url
        counts = [row[-1].replace(",", "") for row in csv.reader(io.StringIO(response.text)) if row]
        assert [c for c in counts if c.isdigit() and 1 <= int(c) <= 7] == [], url
        hidden += response.text.count("[REDACTED]")
    pdf = client.get(f"/exports/areas.pdf?level={levels[0]}")
    assert pdf.status_code == 200
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content, check=True,
                          capture_output=True).stdout.decode()
    rows = [line for line in text.splitlines() if not re.search(r"Page \d+ of \d+", line)]  # not the page footer
    last = [m.group(1) for line in rows if (m := re.search(r"\s(\d{1,3})\s*$", line))]
    assert len(rows) > 20 and [n for n in last if 1 <= int(n) <= 7] == []
    assert hidden > 0  # small counts exist in the demo, and were hidden rather than never shown

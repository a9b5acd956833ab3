"""The demand pages, API and downloads over the demo place (scale 0.1), through the real app: every page renders
for an analyst and a viewer with disclosure control applied (no count from 1 to 7, counts rounded to 5), the
busiest repeat entities only with record-level access and a justification, the API answers the same tables,
downloads are audited, and a sample is drawn, coded and reported with its interval.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from tests.support.web_client import AppClient, signed_in, with_token
from wholeplace.governance import audit_search
from wholeplace.settings import Settings
from wholeplace.synth.demo import build_demo
from wholeplace.web.app import create_app

PURPOSE = "csp_strategic_assessment"
POLICE = "police-wenlow-vale-constabulary"
SECTIONS = ("profile", "repeat", "rcrp", "failure", "response", "forecast")
MARKER = "[REDACTED]"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demand-pages") / "data", partnership_key_file=None)
    built = create_app(build_demo(settings=settings, seed=20260101, scale=0.1).settings)
    yield built
    built.state.stores.close()


@pytest.fixture(scope="module")
def analyst(app: FastAPI) -> AppClient:
    return signed_in(app, role="analyst", partner=POLICE, purpose=PURPOSE)


@pytest.fixture(scope="module")
def viewer(app: FastAPI) -> AppClient:
    return signed_in(app, role="viewer", partner=POLICE, purpose=PURPOSE)


@pytest.fixture(scope="module")
def api(app: FastAPI) -> AppClient:
    return with_token(app, role="ig_officer", partner=POLICE, purpose=PURPOSE)


def _published(value: int | None) -> bool:
    return value is None or value == 0 or (value > 7 and value % 5 == 0)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_page_renders_for_a_viewer_with_the_rule_stated(viewer: AppClient, section: str):
    page = viewer.get(f"/demand/{section}")
    assert page.status_code == 200, page.text
    assert "Counts from 1 to 7 are hidden" in page.text
    assert page.text.count("data-wp-chart=") >= (0 if section == "failure" else 1)
    assert 'href="/demand"' in page.text  # the navigation names the demand pages


def test_the_profile_shows_public_demand_apart_from_officer_initiated(viewer: AppClient):
    page = viewer.get("/demand/profile?level=msoa&measure=hours")
    assert page.status_code == 200
    assert "Officer-initiated (shown, not public demand)" in page.text
    assert "anonymised snap point" in page.text and 'id="demand-map"' in page.text
    assert "Hours, public demand" in page.text
    assert "is not available for this dataset" in page.text  # said, never shown as zeros


def test_api_tables_are_published(api: AppClient):
    body = api.get("/api/v1/demand/profile?level=lsoa").json()
    assert body["disclosure"]["preset"] == "opensafely"
    area = next(t for t in body["tables"] if t["key"] == "area")
    assert area["count"] == len(area["data"]) > 100
    values = [row["public"] for row in area["data"]] + [row["officer_initiated"] for row in area["data"]]
    assert all(_published(v) for v in values)
    hidden = [row for row in area["data"] if row["officer_initiated"] is None]
    assert hidden and {row["officer_initiated_display"] for row in hidden} == {MARKER}


def test_the_api_answers_every_section(api: AppClient):
    for section in SECTIONS:
        body = api.get(f"/api/v1/demand/{section}").json()
        assert body["section"] == section and body["tables"], body
    rcrp = api.get("/api/v1/demand/rcrp").json()
    categories = next(t for t in rcrp["tables"] if t["key"] == "categories")
    assert {r["rcrp_category"] for r in categories["data"]} >= {"concern_for_welfare", "medical"}
    assert all(_published(r["incidents"]) for r in categories["data"])
    response = api.get("/api/v1/demand/response").json()
    statuses = {r["status"]: r for r in next(t for t in response["tables"] if t["key"] == "statuses")["data"]}
    assert set(statuses) == {"valid", "invalid", "censored"}
    scenario = api.get("/api/v1/demand/scenario?percent=30&level=msoa").json()
    places = next(t for t in scenario["tables"] if t["key"] == "by_place")
    assert places["count"] == 11 and all(r["police_hours_released"] is None or r["police_hours_released"] > 0
                                         for r in places["data"])
    assert api.get("/api/v1/demand/scenario?percent=130").status_code == 422


def test_the_busiest_tokens_need_record_level_access_and_a_justification(app: FastAPI, analyst: AppClient,
                                                                         viewer: AppClient):
    assert "Show the busiest" not in viewer.get("/demand/repeat").text
    assert "person-level data" in viewer.get("/demand/repeat").text
    refused = viewer.get("/demand/repeat?justification=checking+repeat+callers")
    assert 'id="table-top"' not in refused.text
    page = analyst.get("/demand/repeat")
    assert "Show the busiest" in page.text and 'id="table-top"' not in page.text
    before = audit_search.search(stores=app.state.stores, action="consultation", limit=1)[1]
    shown = analyst.get("/demand/repeat?justification=reviewing+repeat+locations")
    assert 'id="table-top"' in shown.text
    assert audit_search.search(stores=app.state.stores, action="consultation", limit=1)[1] > before


def test_downloads_are_published_and_audited(app: FastAPI, viewer: AppClient):
    before = audit_search.search(stores=app.state.stores, action="disclosure", limit=1)[1]
    csv = viewer.get("/demand/profile.csv?table=area&level=lsoa")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("area_name,area,public,officer_initiated")
    assert any(MARKER in line for line in lines) and any("Disclosure control" in line for line in lines)
    workbook = zipfile.ZipFile(io.BytesIO(viewer.get("/demand/rcrp.xlsx?table=categories").content))
    assert 'name="data"' in workbook.read("xl/tables/table1.xml").decode()
    table = pq.read_table(io.BytesIO(viewer.get("/demand/response.parquet?table=statuses").content))
    assert str(table.schema.field("incidents").type) == "int64" and table.num_rows == 3
    assert viewer.get("/demand/profile.csv?table=nothing").status_code == 400
    assert audit_search.search(stores=app.state.stores, action="disclosure", limit=1)[1] == before + 3


def test_a_sample_is_drawn_coded_and_reported(app: FastAPI, analyst: AppClient, viewer: AppClient):
    token = analyst.csrf_token("/demand/failure")
    drawn = analyst.post("/demand/failure/samples", data={"size": "10", "seed": "7", "name": "check",
                                                           "csrf_token": token})
    assert drawn.status_code == 303
    url = drawn.headers["location"]
    why = "justification=coding+failure+demand+sample"
    page = analyst.get(f"{url}?{why}")
    events = re.findall(r'name="event_id" value="([^"]+)"', page.text)
    assert len(events) == 10
    for i, event in enumerate(events[:4]):
        posted = analyst.post(f"{url}/codings", data={"event_id": event, "classification": "failure" if i < 1
                                                      else "value", "justification": why.split("=")[1],
                                                      "csrf_token": token})
        assert posted.status_code == 303
    result = analyst.get(url).text
    assert "1 of 4 coded contacts were judged failure" in result and "25.0%" in result
    refused = viewer.post("/demand/failure/samples", data={"size": "5", "seed": "1",
                                                           "csrf_token": viewer.csrf_token("/demand/failure")})
    assert refused.status_code == 403
    bad = analyst.post("/demand/failure/samples", data={"size": "ten", "seed": "1", "csrf_token": token})
    assert bad.status_code == 422 and "Enter a whole number" in bad.text


def test_the_report_section_renders_to_a_pdf_whose_text_can_be_read(app: FastAPI, tmp_path_factory:
                                                                     pytest.TempPathFactory):
    import shutil
    import subprocess

    from wholeplace.governance.scope import read_scope
    from wholeplace.governance.users import find_user, principal
    from wholeplace.reports.demand_section import demand_section, document, to_pdf

    user = find_user(stores=app.state.stores, email=f"viewer@{POLICE}.example.org")
    scope = read_scope(stores=app.state.stores, principal=principal(user), purpose=PURPOSE)
    report = demand_section(stores=app.state.stores, scope=scope)
    assert report.charts >= 6 and report.html.count("<figure>") == report.charts
    assert report.sections[0] == "Demand profile" and "Counts from 1 to 7 are hidden" in report.html
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: scripts/setup --test installs poppler-utils")
    pdf = tmp_path_factory.mktemp("demand-pdf") / "demand.pdf"
    pdf.write_bytes(to_pdf(document(report.html)))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Right Care, Right Person" in text and "Response and time lost" in text


def test_the_report_downloads_as_a_page_and_a_tagged_pdf_and_each_is_audited(app: FastAPI, viewer: AppClient):
    import shutil
    import subprocess

    before = audit_search.search(stores=app.state.stores, action="disclosure", limit=1)[1]
    page = viewer.get("/demand/report.html")
    assert page.status_code == 200 and "Demand profile" in page.text and "data:image/svg+xml;base64," in page.text
    assert "/demand/report.pdf" in viewer.get("/demand").text
    pdf = viewer.get("/demand/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    if shutil.which("pdfinfo") is None:
        pytest.fail("pdfinfo is missing: scripts/setup --test installs poppler-utils")
    info = subprocess.run(["pdfinfo", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert re.search(r"Tagged:\s+yes", info)
    assert audit_search.search(stores=app.state.stores, action="disclosure", limit=1)[1] == before + 2

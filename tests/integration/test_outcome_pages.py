"""The shared-outcomes pages, exports and API over the demo place (scale 0.1), through the real app: what each
reader sees is published (no count from 1 to 7, values from published counts), the public pages need no sign-in
and never show small areas, downloads are audited as disclosures, and the framework editor keeps versions.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import polars as pl
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from tests.support.web_client import AppClient, signed_in, with_token
from wholeplace.governance import audit_search
from wholeplace.outcomes.framework import framework_versions
from wholeplace.settings import Settings
from wholeplace.synth.demo import build_demo
from wholeplace.web.app import create_app

PURPOSE = "csp_strategic_assessment"
POLICE = "police-wenlow-vale-constabulary"
INDICATORS = 22


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("outcome-pages") / "data", partnership_key_file=None)
    built = create_app(build_demo(settings=settings, seed=20260101, scale=0.1).settings)
    yield built
    built.state.stores.close()


@pytest.fixture(scope="module")
def analyst(app: FastAPI) -> AppClient:
    return signed_in(app, role="analyst", partner=POLICE, purpose=PURPOSE)


@pytest.fixture(scope="module")
def api(app: FastAPI) -> AppClient:
    return with_token(app, role="ig_officer", partner=POLICE, purpose=PURPOSE)


@pytest.fixture(scope="module")
def msoa_values(api: AppClient) -> pl.DataFrame:
    client = api
    rows, page = [], 1
    while True:
        body = client.get(f"/api/v1/outcomes/values?level=msoa&period_type=month&per_page=1000&page={page}").json()
        rows += body["data"]
        if len(rows) >= body["count"]:
            return pl.DataFrame(rows, infer_schema_length=None)
        page += 1


def test_the_dashboard_shows_every_outcome_and_indicator(analyst: AppClient):
    page = analyst.get("/outcomes")
    assert page.status_code == 200
    assert page.text.count('class="wp-outcome-card"') == INDICATORS
    assert "People in a mental health crisis get the right help" in page.text
    assert "Counts from 1 to 7 are hidden" in page.text


def test_no_published_count_is_small_and_values_come_from_published_counts(msoa_values: pl.DataFrame):
    shown = msoa_values.filter(pl.col("numerator").is_not_null())
    assert ((shown["numerator"] == 0) | (shown["numerator"] >= 10)).all()  # 1-7 hidden, the rest rounded to 5
    assert (shown["numerator"] % 5 == 0).all()
    hidden = msoa_values.filter(pl.col("numerator").is_null())
    assert hidden.height > 0 and hidden["value"].is_null().all()
    assert set(hidden["numerator_display"]) == {"[REDACTED]"}
    rates = shown.filter(pl.col("indicator") == "mh-police-incidents")
    assert (rates["value"] - rates["numerator"] / rates["denominator"] * 1000).abs().max() < 1e-9


def test_peer_values_are_hidden_when_a_peer_count_is(msoa_values: pl.DataFrame):
    tables = msoa_values.filter(pl.col("peer_group").is_not_null()).group_by("indicator", "period", "peer_group").agg(
        pl.col("numerator").null_count().alias("hidden"), pl.len().alias("n"), pl.col("peer_value").null_count())
    # a group with two or more hidden counts: every member has a hidden peer, so no peer value is shown
    assert (tables.filter(pl.col("hidden") >= 2)["peer_value"] == tables.filter(pl.col("hidden") >= 2)["n"]).all()


def test_the_public_pages_need_no_sign_in_and_never_show_small_areas(app: FastAPI):
    resident = AppClient(app)
    page = resident.get("/public/outcomes")
    assert page.status_code == 200 and "Counts from 1 to 7 are hidden" in page.text
    assert "board-pack" not in page.text and "/api/v1/areas" not in page.text
    assert resident.get("/public/outcomes/indicators/violent-crime").status_code == 200
    lsoa = app.state.stores.connect().execute("SELECT code FROM areas WHERE level = 'lsoa' LIMIT 1").fetchone()[0]
    refused = resident.get(f"/public/outcomes/places/lsoa/{lsoa}")
    assert refused.status_code == 404 and "not published for residents" in refused.text
    assert resident.get("/outcomes").status_code == 303  # the signed-in pages still need sign-in


def test_a_reader_without_the_data_sees_why(app: FastAPI):
    council = signed_in(app, role="analyst", partner="council-wenlow-vale", purpose="evaluation")
    page = council.get("/outcomes")
    assert page.status_code == 200
    assert "needs data you may not read for this purpose" in page.text


def test_downloads_are_published_and_audited(app: FastAPI, analyst: AppClient):
    before = audit_search.search(stores=app.state.stores, action="disclosure", limit=1)[1]
    csv = analyst.get("/outcomes/exports/values.csv?level=msoa&indicator=mh-police-incidents")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    header = csv.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("indicator,indicator_title,unit,level,area_code")
    workbook = zipfile.ZipFile(io.BytesIO(analyst.get("/outcomes/exports/values.xlsx?indicator=burglary").content))
    assert 'name="data"' in workbook.read("xl/tables/table1.xml").decode()  # a real Excel table
    table = pq.read_table(io.BytesIO(analyst.get("/outcomes/exports/values.parquet?level=lad").content))
    assert str(table.schema.field("numerator").type) == "int64" and table.num_rows > 0
    assert analyst.get("/outcomes/board-pack.html").status_code == 200
    after = audit_search.search(stores=app.state.stores, action="disclosure", limit=10)
    assert after[1] == before + 4
    assert any("outcomes board pack" in str(entry.what) for entry in after[0])


def test_the_api_lists_indicators_and_signals(api: AppClient):
    client = api
    indicators = client.get("/api/v1/outcomes/indicators").json()
    assert indicators["count"] == INDICATORS
    first = client.get("/api/v1/outcomes/values?per_page=5&page=1").json()
    second = client.get("/api/v1/outcomes/values?per_page=5&page=2").json()
    assert first["count"] == second["count"] > 10 and first["data"] != second["data"]
    signals = client.get("/api/v1/outcomes/indicators/mh-police-incidents/signals?level=msoa").json()
    assert signals["count"] == 11
    assert {row["turning_the_curve"] for row in signals["data"]} <= {
        "improving", "worsening", "mixed", "no_signal", "no_baseline", None}


def test_the_framework_editor_saves_versions_and_names_bad_keys(app: FastAPI, analyst: AppClient):
    stores = app.state.stores
    admin = signed_in(app, role="administrator", partner=POLICE, purpose=PURPOSE)
    text = framework_versions(stores=stores, code="wenlow-vale")[-1].content
    token = admin.csrf_token("/outcomes/framework")
    wrong = text.replace("polarity: decrease", "polarity: sideways", 1)
    bad = admin.post("/outcomes/framework", data={"framework_text": wrong, "note": "testing", "csrf_token": token})
    assert bad.status_code == 422 and "govuk-error-summary" in bad.text
    assert "outcomes[0].indicators[0].polarity" in bad.text and "sideways" in bad.text
    versions = len(framework_versions(stores=stores, code="wenlow-vale"))
    relabelled = text.replace('version: "2024.1"', 'version: "2024.2"')
    good = admin.post("/outcomes/framework", data={"framework_text": relabelled, "note": "new label",
                                                   "csrf_token": token})
    assert good.status_code == 303
    assert len(framework_versions(stores=stores, code="wenlow-vale")) == versions + 1
    refused = analyst.post("/outcomes/framework", data={"framework_text": text, "note": "x",
                                                        "csrf_token": analyst.csrf_token("/outcomes/framework")})
    assert refused.status_code == 403

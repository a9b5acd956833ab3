"""The JSON API over real stores: the squares place (known counts) and the Lancashire data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.support.places import Place, build_lancashire, build_squares, settings_in
from tests.support.web_client import AppClient, with_token
from wholeplace import overview
from wholeplace.cli import app as cli
from wholeplace.settings import Settings
from wholeplace.web.app import create_app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TESTSHIRE = "police-uk-street-testshire-police"


@pytest.fixture
def squares(settings: Settings, tmp_path: Path) -> Place:
    return build_squares(settings, tmp_path)


@pytest.fixture
def api(squares: Place) -> Iterator[AppClient]:
    with with_token(create_app(squares.settings)) as client:
        yield client


@pytest.fixture(scope="module")
def lancashire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppClient]:
    folder = tmp_path_factory.mktemp("lancashire")
    place = build_lancashire(settings_in(folder), folder)
    app = create_app(place.settings)
    [partner] = [row["partner"] for row in overview.partners(stores=app.state.stores)]
    with with_token(app, partner=partner) as client:
        yield client


def test_status_is_the_cli_report_within_what_is_shared(api: AppClient, squares: Place):
    """A Testshire analyst with no agreement sees Testshire's own loads, and datasets with published counts."""
    body = api.get("/api/v1/status").json()
    result = CliRunner().invoke(cli, ["status", "--json", "--data-dir", str(squares.settings.data_dir)])
    assert result.exit_code == 0, result.output
    cli_report = json.loads(result.output)
    own = {load["load_id"] for load in cli_report["loads"] if load["dataset"] == TESTSHIRE}
    assert {load["load_id"] for load in body["loads"]} == own and len(own) == 1
    assert [row["dataset"] for row in body["datasets"]] == [TESTSHIRE]
    assert [level["level"] for level in body["levels"]] == ["lsoa", "ward"]


def test_lists_are_data_and_count_and_counts_are_published(api: AppClient):
    datasets = api.get("/api/v1/datasets").json()
    assert datasets["count"] == 1
    [row] = datasets["data"]
    # 9 rows stored and 1 quarantined: under the opensafely rule 9 is rounded to 10 and 1 is hidden
    assert (row["rows_in_store"], row["rows_quarantined"], row["rows_quarantined_display"]) == (10, None, "[REDACTED]")
    assert row["record_level"] is True
    loads = api.get("/api/v1/loads").json()
    assert loads["count"] == 1 and [r["file"] for r in loads["data"]] == ["2021-01-testshire-street.csv"]
    assert api.get("/api/v1/levels").json()["count"] == 2
    partners = api.get("/api/v1/partners").json()
    assert [(r["partner"], r["events"], r["display"]) for r in partners["data"]] == [
        ("police-testshire-police", 10, "10")]
    assert partners["disclosure"]["preset"] == "opensafely" and "1 to 7" in partners["disclosure"]["statement"]


def test_service_counts_are_exact_before_publication(squares: Place):
    """The published figures are made from exact counts: these are checked against the place's planted facts."""
    from wholeplace import overview

    stores = squares.stores()
    try:
        by_area = {r["area_code"]: r["events"] for r in overview.events_by_area(stores=stores, level="lsoa")}
        assert by_area == squares.facts["by_area"]
        ward = overview.events_by_area(stores=stores, level="ward", partner="police-otherton-police")
        assert ward == [{"area_code": "E05000001", "area_name": "Squareton Ward", "events": 3}]
        months = overview.events_by_month(stores=stores, partner="police-testshire-police")
        assert [(r["month"], r["events"]) for r in months] == [("2021-01", 7), ("2021-02", 0), ("2021-03", 2)]
        summary = overview.summary(stores=stores)
        assert (summary["events"], summary["events_placed"], summary["partners"], summary["months"]) == (12, 11, 2, 3)
        assert {r["partner"]: r["events"] for r in overview.partners(stores=stores)} == {
            "police-otherton-police": 3, "police-testshire-police": 9}
        only = overview.summary(stores=stores, datasets=[TESTSHIRE])
        assert (only["events"], only["partners"]) == (9, 1)
    finally:
        stores.close()


def test_record_routes_need_a_justification_and_are_audited(api: AppClient, squares: Place):
    refused = api.get(f"/api/v1/quarantine?dataset={TESTSHIRE}")
    assert refused.status_code == 422 and "Say why" in refused.json()["error"]["message"]
    why = "justification=checking%20the%20January%20load"
    body = api.get(f"/api/v1/quarantine?dataset={TESTSHIRE}&limit=1&offset=0&{why}").json()
    assert body["count"] == 1
    [row] = body["data"]
    assert (Path(row["file"]).name, row["line"], row["column"]) == ("2021-01-testshire-street.csv", 10, "Month")
    assert api.get(f"/api/v1/quarantine?limit=1&offset=1&{why}").json() == {"data": [], "count": 1}
    other = api.get(f"/api/v1/quarantine?dataset=police-uk-street-otherton-police&{why}")
    assert other.status_code == 403
    assert "may not read 'police-uk-street-otherton-police'" in other.json()["error"]["message"]
    from wholeplace.governance import audit

    stores = squares.stores()
    try:
        consulted, _ = audit.search(stores=stores, action="consultation", limit=10)
        refusals, _ = audit.search(stores=stores, action="refusal", limit=10)
    finally:
        stores.close()
    assert {e.justification for e in consulted} == {"checking the January load"} and len(consulted) == 2
    assert any("otherton" in str(e.what) for e in refusals)


def test_records_of_a_dataset(api: AppClient):
    why = "justification=reviewing%20repeat%20locations"
    body = api.get(f"/api/v1/datasets/{TESTSHIRE}/records?limit=5&{why}").json()
    assert body["count"] == 9 and len(body["data"]) == 5
    assert body["fields"][:2] == ["event_id", "occurred_month"] and "load_id" not in body["fields"]


def test_area_disagreements(api: AppClient):
    body = api.get("/api/v1/area-disagreements?justification=checking%20area%20codes").json()
    assert body["count"] == 1
    row = body["data"][0]
    assert (row["source_area_code"], row["computed_area_code"], row["source_level"]) == ("E01000004", "E01000003",
                                                                                        "lsoa")


def test_overview_areas_publish_small_counts_as_hidden(api: AppClient):
    finest = api.get("/api/v1/overview/areas").json()
    # Testshire's 9 events fall 1 to 7 per area: every non-zero count is hidden, and the total of published cells is 0
    non_zero = [row for row in finest["data"] if row["display"] != "0"]
    assert non_zero and all(row["events"] is None and row["display"] == "[REDACTED]" for row in non_zero)
    assert finest["total"] == 0 and finest["disclosure"]["preset"] == "opensafely"
    refused = api.get("/api/v1/overview/areas?level=ward&partner=police-otherton-police")
    assert refused.status_code == 422 and "police-testshire-police" in str(refused.json()["error"]["detail"])


def test_overview_months_fill_quiet_months_with_zero(api: AppClient):
    body = api.get("/api/v1/overview/months?partner=police-testshire-police").json()
    assert [(row["month"], row["events"], row["display"]) for row in body["data"]] == [
        ("2021-01", None, "[REDACTED]"), ("2021-02", 0, "0"), ("2021-03", None, "[REDACTED]")]


def test_summary(api: AppClient):
    body = api.get("/api/v1/overview/summary").json()
    assert (body["events"], body["events_placed"], body["partners"], body["months"]) == (10, 10, 1, 2)
    assert (body["first_month"], body["last_month"], body["areas"]) == ("2021-01-01", "2021-03-01", 4)
    assert body["preset"] == "opensafely" and body["statement"].startswith("Counts from 1 to 7 are hidden")


def test_every_read_declares_a_known_purpose(squares: Place):
    app = create_app(squares.settings)
    with with_token(app, purpose=None) as client:
        missing = client.get("/api/v1/overview/summary")
        assert missing.status_code == 400 and "Declare the purpose" in missing.json()["error"]["message"]
        unknown = client.get("/api/v1/overview/summary?purpose=curiosity")
        assert unknown.status_code == 403 and "unknown purpose 'curiosity'" in unknown.json()["error"]["message"]
        assert client.get("/api/v1/overview/summary?purpose=demand_analysis").status_code == 200
        purposes = client.get("/api/v1/purposes").json()
        assert {p["code"]: p["datasets"] for p in purposes["data"]}["demand_analysis"] == 1


def test_areas_are_geojson_of_the_level(api: AppClient):
    response = api.get("/api/v1/areas?level=lsoa")
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in body["features"]) == [f"E0100000{i}" for i in range(1, 5)]
    assert all(f["geometry"]["type"] == "Polygon" for f in body["features"])


@pytest.mark.parametrize(("url", "status", "words"), [
    ("/api/v1/nothing-here", 404, "There is nothing at this address."),
    ("/api/v1/overview/areas?level=county", 422, "There is no level 'county' in this place."),
    ("/api/v1/overview/months?partner=nobody", 422, "There is no partner 'nobody' in this place."),
    ("/api/v1/overview/areas?level=ward&purpose=nope", 403, None),
    ("/api/v1/datasets/nothing/records?justification=a%20good%20reason", 404,
     "There is no dataset 'nothing' in this place."),
    ("/api/v1/quarantine?limit=0", 422, "Some of the values given are not valid."),
    ("/api/v1/area-disagreements?offset=-1", 422, "Some of the values given are not valid."),
])
def test_every_error_has_the_one_json_shape(api: AppClient, url: str, status: int, words: str | None):
    response = api.get(url)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "detail"}
    assert body["error"]["status"] == status and (words is None or body["error"]["message"] == words)


def test_unknown_choice_detail_lists_the_choices(api: AppClient):
    detail = api.get("/api/v1/areas?level=county").json()["error"]["detail"]
    assert detail["choices"] == ["lsoa", "ward"] and detail["field"] == "level"


def test_no_levels_loaded_is_a_404_that_says_what_to_load(settings: Settings):
    with with_token(create_app(settings)) as client:
        body = client.get("/api/v1/overview/areas").json()
    assert body["error"]["status"] == 404
    assert "wholeplace load boundaries" in body["error"]["detail"]["hint"]


def test_openapi_documents_every_route_and_the_docs_page_and_api_md_list_them(api: AppClient):
    spec = api.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/v1/status", "/api/v1/quarantine", "/api/v1/areas", "/api/v1/overview/months", "/health"} <= paths
    assert "ErrorResponse" in spec["components"]["schemas"]
    docs_page = api.get("/api/docs").text
    documented = set(re.findall(r"`GET (/[^`?\s]*)", DOCS.read_text()))
    for path in paths:
        assert path in docs_page
        assert path in documented, f"{path} is missing from docs/api.md"
    assert "swagger" not in docs_page.lower()


@pytest.mark.shared
def test_lancashire_published_counts_add_up(lancashire: AppClient):
    """Published totals are the sums of the published cells (opensafely), and stay close to the true counts."""
    summary = lancashire.get("/api/v1/overview/summary").json()
    areas = lancashire.get("/api/v1/overview/areas?level=lsoa").json()
    assert areas["count"] == summary["areas"] == 941
    shown = [row["events"] for row in areas["data"] if row["events"] is not None]
    assert sum(shown) == areas["total"] and all(n % 5 == 0 for n in shown)
    assert abs(areas["total"] - summary["events_placed"]) <= 2.5 * len(shown) + 7 * (941 - len(shown))
    assert 0.9 < summary["events_placed"] / summary["events"] < 1
    months = lancashire.get("/api/v1/overview/months").json()
    assert [row["month"] for row in months["data"]] == ["2021-01", "2021-02", "2021-03"]
    assert sum(row["events"] for row in months["data"] if row["events"] is not None) == months["total"]
    assert months["total"] == summary["events"]  # both are sums of rounded cells of one partner's months


def test_area_counts_agree_with_the_shared_aggregation_for_located_events(squares: Place):
    """The overview's own count and ``geography.aggregate`` must agree wherever both apply, so the
    overview can move onto the shared aggregation without changing a number."""
    from wholeplace import overview
    from wholeplace.geography.aggregate import aggregate_events

    stores = squares.stores()
    try:
        for level in ("lsoa", "ward"):
            ours = {row["area_code"]: row["events"] for row in overview.events_by_area(stores=stores, level=level)}
            shared = aggregate_events(con=stores.connect(), level=level).frame
            theirs = {code: int(n) for code, n in shared.group_by("area_code").agg(pl.col("events").sum()).iter_rows()}
            assert {code: n for code, n in ours.items() if n} == theirs
    finally:
        stores.close()

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
    with with_token(create_app(place.settings)) as client:
        yield client


def test_status_is_the_same_report_as_the_cli(api: AppClient, squares: Place):
    body = api.get("/api/v1/status").json()
    result = CliRunner().invoke(cli, ["status", "--json", "--data-dir", str(squares.settings.data_dir)])
    assert result.exit_code == 0, result.output
    cli_report = json.loads(result.output)
    assert {load["load_id"] for load in body["loads"]} == {load["load_id"] for load in cli_report["loads"]}
    assert body["datasets"] == cli_report["datasets"]
    assert [level["level"] for level in body["levels"]] == ["lsoa", "ward"]


def test_lists_are_data_and_count(api: AppClient):
    datasets = api.get("/api/v1/datasets").json()
    assert datasets["count"] == 2
    by_code = {row["dataset"]: row for row in datasets["data"]}
    assert by_code[TESTSHIRE]["rows_in_store"] == 9 and by_code[TESTSHIRE]["rows_quarantined"] == 1
    loads = api.get("/api/v1/loads").json()
    assert loads["count"] == 2 and {row["file"] for row in loads["data"]} == {
        "2021-01-testshire-street.csv", "2021-02-otherton-street.csv"}
    assert api.get("/api/v1/levels").json()["count"] == 2
    partners = api.get("/api/v1/partners").json()
    assert {row["partner"]: row["events"] for row in partners["data"]} == {
        "police-otherton-police": 3, "police-testshire-police": 9}


def test_quarantine_pages_and_filters_and_names_file_line_column(api: AppClient):
    body = api.get(f"/api/v1/quarantine?dataset={TESTSHIRE}&limit=1&offset=0").json()
    assert body["count"] == 1
    [row] = body["data"]
    assert (Path(row["file"]).name, row["line"], row["column"]) == ("2021-01-testshire-street.csv", 10, "Month")
    assert api.get("/api/v1/quarantine?limit=1&offset=1").json() == {"data": [], "count": 1}
    assert api.get("/api/v1/quarantine?dataset=police-uk-street-otherton-police").json()["count"] == 0


def test_area_disagreements(api: AppClient):
    body = api.get("/api/v1/area-disagreements").json()
    assert body["count"] == 1
    row = body["data"][0]
    assert (row["source_area_code"], row["computed_area_code"], row["source_level"]) == ("E01000004", "E01000003",
                                                                                        "lsoa")


def test_overview_areas_by_level_and_partner(api: AppClient, squares: Place):
    finest = api.get("/api/v1/overview/areas").json()
    assert {row["area_code"]: row["events"] for row in finest["data"]} == squares.facts["by_area"]
    assert finest["data"][0]["area_name"] == squares.busiest_area
    ward = api.get("/api/v1/overview/areas?level=ward&partner=police-otherton-police").json()
    assert ward == {"data": [{"area_code": "E05000001", "area_name": "Squareton Ward", "events": 3}], "count": 1}


def test_overview_months_fill_quiet_months_with_zero(api: AppClient):
    body = api.get("/api/v1/overview/months?partner=police-testshire-police").json()
    assert [(row["month"], row["events"]) for row in body["data"]] == [("2021-01", 7), ("2021-02", 0), ("2021-03", 2)]


def test_summary(api: AppClient, squares: Place):
    body = api.get("/api/v1/overview/summary").json()
    assert (body["events"], body["events_placed"], body["partners"], body["months"]) == (12, 11, 2, 3)
    assert (body["first_month"], body["last_month"], body["areas"]) == ("2021-01-01", "2021-03-01", 4)


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
    ("/api/v1/quarantine?limit=0", 422, "Some of the values given are not valid."),
    ("/api/v1/area-disagreements?offset=-1", 422, "Some of the values given are not valid."),
])
def test_every_error_has_the_one_json_shape(api: AppClient, url: str, status: int, words: str):
    response = api.get(url)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "detail"}
    assert body["error"]["status"] == status and body["error"]["message"] == words


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
def test_lancashire_area_counts_add_up_to_the_events_placed(lancashire: AppClient):
    summary = lancashire.get("/api/v1/overview/summary").json()
    areas = lancashire.get("/api/v1/overview/areas?level=lsoa").json()
    assert areas["count"] == summary["areas"] == 941
    assert sum(row["events"] for row in areas["data"]) == summary["events_placed"]
    assert 0.9 < summary["events_placed"] / summary["events"] < 1
    months = lancashire.get("/api/v1/overview/months").json()
    assert [row["month"] for row in months["data"]] == ["2021-01", "2021-02", "2021-03"]
    assert sum(row["events"] for row in months["data"]) == summary["events"]


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

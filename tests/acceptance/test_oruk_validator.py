"""The Open Referral UK API checked as the ORUK validator checks a feed, made stricter: every list
item and service validated against the UK 3.0 schemas (formats enforced), pagination walked, level-2
endpoints validated, unknown ids 404, and each search filter finding planted services (v1 feature
tests). The same checks classify the validator's own mock feeds: Default passes, Fail fails."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.conftest import require_shared
from tests.support.web_client import AppClient
from tests.unit.test_directory_seed import FOOD, seeded_services, uid
from wholeplace.directory.hsds_io import import_directory
from wholeplace.settings import Settings
from wholeplace.web.app import create_app

pytestmark = pytest.mark.shared
PER_PAGE = 10


def uk(relative: str) -> dict[str, Any]:
    return json.loads((require_shared("reference/hsds/oruk-uk-profile-3.0/schema") / relative).read_text())


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    folder = require_shared("reference/hsds/oruk-uk-profile-3.0/schema")
    registry = Registry().with_resources(
        (p.name, DRAFT202012.create_resource(json.loads(p.read_text()))) for p in folder.glob("*.json"))
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def problems(schema: dict[str, Any], document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(schema).iter_errors(document)]


def root_problems(body: dict[str, Any]) -> list[str]:
    schema = json.loads(require_shared("reference/hsds/oruk-validator/schemas/V3.0-UK/api_details.json").read_text())
    found = problems(schema, body)
    return found + ([] if body.get("version") == "HSDS-UK-3.0" else ["version is not HSDS-UK-3.0"])


def page_problems(page: dict[str, Any], item_schema: str) -> list[str]:
    keys = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"}
    found = [f"page lacks {k}" for k in sorted(keys - set(page))]
    schema = uk(item_schema)
    for i, item in enumerate(page.get("contents", [])):
        found += [f"contents[{i}].{p}" for p in problems(schema, item)]
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppClient]:
    folder = tmp_path_factory.mktemp("oruk")
    app = create_app(Settings(data_dir=folder / "data", partnership_key_file=None))
    feed = folder / "services.json"
    feed.write_text(json.dumps(seeded_services(filler=40)))
    import_directory(stores=app.state.stores, path=feed)
    with AppClient(app) as test_client:
        yield test_client


def get(client: AppClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    return response.json()


def names(client: AppClient, query: str, path: str = "/oruk/services") -> set[str]:
    page = get(client, f"{path}?per_page=1000&{query}")
    return {item["name"] if "name" in item and path.endswith("services") else item["location"]["name"]
            for item in page["contents"]}


def test_root_declares_the_uk_profile(client: AppClient):
    assert root_problems(get(client, "/oruk/")) == []


def test_services_paginate_like_the_validator_walks_them(client: AppClient):
    first = get(client, f"/oruk/services?page=1&per_page={PER_PAGE}")
    pages = first["total_pages"]
    assert first["total_items"] == 43 and pages == math.ceil(43 / PER_PAGE) == 5
    assert first["first_page"] and not first["last_page"] and first["size"] == PER_PAGE == len(first["contents"])
    seen = [item["id"] for n in range(1, pages + 1)
            for item in get(client, f"/oruk/services?page={n}&per_page={PER_PAGE}")["contents"]]
    assert len(seen) == len(set(seen)) == 43
    middle, last = (get(client, f"/oruk/services?page={n}&per_page={PER_PAGE}") for n in (pages // 2, pages))
    assert not middle["first_page"] and not middle["last_page"] and last["last_page"] and last["size"] == 3
    for page in (first, middle, last):
        assert page_problems(page, "compiled/service_list.json") == []


def test_ten_random_services_validate(client: AppClient):
    ids = [item["id"] for item in get(client, "/oruk/services?per_page=100")["contents"]]
    schema = uk("compiled/service.json")
    for service_id in random.Random(7).sample(ids, 10):
        service = get(client, f"/oruk/services/{service_id}")
        assert service["id"] == service_id and problems(schema, service) == []


@pytest.mark.parametrize(("path", "item_schema"), [
    ("taxonomies", "taxonomy.json"), ("taxonomy_terms", "taxonomy_term.json"),
    ("service_at_locations", "compiled/service_at_location_list.json"),
    ("organizations", "compiled/organization_list.json")])
def test_level_two_endpoints_validate(client: AppClient, path: str, item_schema: str):
    page = get(client, f"/oruk/{path}")
    assert page["total_items"] > 0 and page_problems(page, item_schema) == []
    single = item_schema.replace("_list", "")
    for item in page["contents"][:3]:
        assert problems(uk(single), get(client, f"/oruk/{path}/{item['id']}")) == []
    assert get(client, f"/oruk/{path}/{uid('nobody')}", 404)["error"]["status"] == 404


def test_unknown_service_is_a_json_404(client: AppClient):
    assert "No service" in get(client, f"/oruk/services/{uid('nothing')}", 404)["error"]["message"]


@pytest.mark.parametrize(("query", "expected_in", "expected_out"), [
    ("search=harbour+food", "Harbour Food Bank", "Far Hills Food Club"),
    (f"taxonomy_term_id={FOOD['id']}", "Far Hills Food Club", "Advice point 01"),
    (f"taxonomy_id={FOOD['taxonomy_id']}&search=hills", "Far Hills Food Club", "Harbour Food Bank"),
    ("minimum_age=16&maximum_age=65", "Harbour Food Bank", "Advice point 01"),
    ("day=TU&start_time=09:00&end_time=15:00", "Harbour Food Bank", "Advice point 01"),
    ("postcode=PR1+2AA&proximity=1000", "Harbour Food Bank", "Far Hills Food Club"),
    ("latitude=54.12&longitude=-2.70&proximity=2000", "Far Hills Food Club", "Harbour Food Bank"),
    # combined filters act as AND: food near PR1 2AA is the food bank, not the advice desk beside it
    (f"taxonomy_term_id={FOOD['id']}&postcode=PR1+2AA&proximity=1000", "Harbour Food Bank", "Harbour Advice Desk"),
    ("day=TU&postcode=PR1+2AA&proximity=1000", "Harbour Food Bank", "Far Hills Food Club"),
])
def test_filters_find_planted_services(client: AppClient, query: str, expected_in: str, expected_out: str):
    found = names(client, query)
    assert expected_in in found and expected_out not in found


def test_service_at_locations_by_postcode_and_proximity(client: AppClient):
    found = names(client, "postcode=PR1+2AA&proximity=100", "/oruk/service_at_locations")
    assert found == {"Harbour Food Bank hall", "Harbour Advice Desk hall"}


def mock(feed: str, name: str) -> Any:
    return json.loads(require_shared(f"reference/hsds/oruk-validator/mocks/{feed}/{name}").read_text())


def test_the_validator_mocks_are_classified_as_the_validator_classifies_them():
    def feed_problems(feed: str) -> list[str]:
        full = "service_full.json"
        return (root_problems(mock(feed, "api_details.json"))
                + page_problems(mock(feed, "service_list.json"), "compiled/service_list.json")
                + problems(uk("compiled/service.json"), mock(feed, full)))

    assert feed_problems("V3.0-UK-Default") == []
    failing = feed_problems("V3.0-UK-Fail")
    assert any("profile" in p for p in failing) and any("email" in p for p in failing)


def test_shared_schemas_are_where_the_test_expects(tmp_path: Path):
    assert uk("compiled/service.json")["required"] == ["id", "name", "status"]

"""The directory store on SQLite and PostgreSQL: loads are atomic and repeatable, search rows follow
the records, bad input is refused with its place, and duplicates are found and merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_directory_seed import FOOD, seeded_services, uid
from wholeplace.directory.duplicates import find_duplicates, merge_organizations, merges
from wholeplace.directory.hsds_io import import_directory, stored_records
from wholeplace.directory.query import get_service, parse_query, service_page
from wholeplace.errors import InputError, NotFoundError, UserError
from wholeplace.store.stores import Stores


def feed(tmp_path: Path, services: list[dict], name: str = "feed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(services))
    return path


def test_load_is_repeatable_and_searchable(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    path = feed(tmp_path, seeded_services(filler=5))
    first = import_directory(stores=stores, path=path)
    again = import_directory(stores=stores, path=path)
    assert first.services == again.services == 8
    assert len(stored_records(stores=stores, kind="service")) == 8
    page = service_page(stores=stores, query=parse_query({"taxonomy_term_id": FOOD["id"], "minimum_age": "16"}))
    assert {s["name"] for s in page["contents"]} == {"Harbour Food Bank", "Far Hills Food Club"}
    service = get_service(stores=stores, service_id=uid("s-Harbour Food Bank"))
    assert service["capacities"][0]["available"] == 3  # HSDS 3.1 service_capacity kept under its 3.1 name
    assert service["service_at_locations"][0]["location"]["external_identifier_type"] == "UPRN"


def test_a_bad_feed_changes_nothing(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    import_directory(stores=stores, path=feed(tmp_path, seeded_services(filler=1)))
    broken = seeded_services(filler=2)
    del broken[3]["name"]
    broken[4]["status"] = "open"
    with pytest.raises(InputError) as caught:
        import_directory(stores=stores, path=feed(tmp_path, broken, "broken.json"))
    assert "[3].name" in str(caught.value) and "[4].status: 'open'" in str(caught.value)
    assert len(stored_records(stores=stores, kind="service")) == 4


def test_duplicates_are_found_and_merged(stores_on_each_engine: Stores, tmp_path: Path):
    stores = stores_on_each_engine
    import_directory(stores=stores, path=feed(tmp_path, seeded_services(filler=3)))
    [pair] = find_duplicates(stores=stores)
    assert {pair.first_name, pair.second_name} == {"Harbour Food Bank", "Harbour Foodbank CIO"}
    assert any("GB-CHC 1100001" in r for r in pair.reasons) and any("PR12AA" in r for r in pair.reasons)
    keep, drop = uid("o-Harbour Food Bank"), uid("o-Harbour Foodbank CIO")
    moved = merge_organizations(stores=stores, keep_id=keep, drop_id=drop, by="editor@example.org")
    assert moved == 2  # its service and its charity number
    desk = get_service(stores=stores, service_id=uid("s-Harbour Advice Desk"))
    assert desk["organization_id"] == keep and desk["organization"]["name"] == "Harbour Food Bank"
    assert find_duplicates(stores=stores) == []
    assert merges(stores=stores)[0]["merged_by"] == "editor@example.org"
    with pytest.raises(NotFoundError):
        merge_organizations(stores=stores, keep_id=keep, drop_id=drop, by="editor@example.org")


def test_bad_query_parameters_are_named():
    for params, name in (({"page": "0"}, "page"), ({"day": "someday"}, "day"),
                         ({"start_time": "9am"}, "start_time"), ({"minimum_age": "old"}, "minimum_age"),
                         ({"modified_after": "soon"}, "modified_after")):
        with pytest.raises(UserError, match=name):
            parse_query(params)

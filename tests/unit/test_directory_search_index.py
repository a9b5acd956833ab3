"""The in-memory search index answers every filter exactly as SQL over the search tables does (the
reference), in the same order, by service and by place; the API's JSON bytes equal the page."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.unit.test_directory_seed import FOOD, MONEY, TAXONOMY, seeded_services, uid
from wholeplace.directory import query as search
from wholeplace.directory.hsds_io import import_directory
from wholeplace.directory.store import directory_session
from wholeplace.store.stores import Stores

NOW = datetime(2025, 6, 3, 11, 0, tzinfo=search.LONDON)  # a Tuesday, 11:00
QUERIES = [
    {}, {"search": "harbour"}, {"search": "FOOD bank"}, {"search": "a"}, {"search": "nothing-like-this"},
    {"search": "o"}, {"search": "harbour advice"}, {"taxonomy_term_id": FOOD["id"]},
    {"taxonomy_id": TAXONOMY["id"]}, {"taxonomy_term_id": MONEY["id"], "taxonomy_id": TAXONOMY["id"]},
    {"taxonomy_term_id": FOOD["id"], "taxonomy_id": "other"}, {"organization_id": uid("o-Advice network 3")},
    {"minimum_age": "16"}, {"maximum_age": "65"}, {"age": "70"}, {"age": "10", "search": "advice"},
    {"day": "TU"}, {"day": "MO", "start_time": "09:00", "end_time": "17:00"}, {"start_time": "10:00"},
    {"end_time": "14:00"}, {"open_now": "true"}, {"modified_after": "2025-06-01T12:00:00Z"},
    {"modified_after": "2025-06-01T12:00:01Z"}, {"postcode": "PR1 2AA"}, {"postcode": "PR1 2AA", "proximity": "10"},
    {"postcode": "PR1 2AA", "proximity": "3000", "taxonomy_term_id": MONEY["id"]},
    {"latitude": "53.76", "longitude": "-2.70", "proximity": "50000"}, {"page": "2", "per_page": "7"},
]


@pytest.fixture
def stores(stores_on_each_engine: Stores, tmp_path: Path) -> Stores:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(seeded_services(filler=40)))
    import_directory(stores=stores_on_each_engine, path=path)
    return stores_on_each_engine


@pytest.mark.parametrize("by_place", [False, True])
def test_the_index_agrees_with_sql_on_every_filter(stores: Stores, by_place: bool):
    with directory_session(stores) as session:
        for params in QUERIES:
            query = search.parse_query(params)
            fast = search._matching(session, query, NOW, by_place=by_place)
            assert fast == search.matching_by_sql(session, query, NOW, by_place=by_place), params
    assert len(search.service_page(stores=stores, query=search.parse_query({"search": "harbour"}),
                                   now=NOW)["contents"]) == 2


def test_the_json_bytes_are_the_page(stores: Stores):
    for params in QUERIES:
        query = search.parse_query(params)
        page = search.service_page(stores=stores, query=query, now=NOW)
        assert json.loads(search.service_page_json(stores=stores, query=query, now=NOW)) == page, params


def test_the_index_follows_a_new_load(stores: Stores, tmp_path: Path):
    query = search.parse_query({"search": "lighthouse"})
    assert search.service_page(stores=stores, query=query)["total_items"] == 0
    extra = seeded_services(filler=41)[-1] | {"name": "Lighthouse drop-in"}
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([extra]))
    import_directory(stores=stores, path=path)
    assert [s["name"] for s in search.service_page(stores=stores, query=query)["contents"]] == ["Lighthouse drop-in"]


def test_the_json_page_follows_an_edited_service(stores: Stores, tmp_path: Path):
    query = search.parse_query({})
    first = json.loads(search.service_page_json(stores=stores, query=query, now=NOW))["contents"][0]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps([first | {"description": "Edited: now open on Saturdays"}]))
    import_directory(stores=stores, path=path)
    again = json.loads(search.service_page_json(stores=stores, query=query, now=NOW))["contents"][0]
    assert again["id"] == first["id"]
    assert again["description"] == "Edited: now open on Saturdays"
    assert again == search.service_page(stores=stores, query=query, now=NOW)["contents"][0]


def test_the_answer_from_memory_is_the_databases_and_steps_aside_when_the_directory_changes(
        stores: Stores, tmp_path: Path):
    """The API answers from memory only what it would answer from the database, and a change made in this
    process is seen at once (the next answer comes from the database again)."""
    for params in QUERIES:
        query = search.parse_query(params)
        page = search.service_page_json(stores=stores, query=query, now=NOW)  # reads what memory lacked
        assert search.service_page_json_from_memory(stores=stores, query=query, now=NOW) == page, params
    unplaced = search.parse_query({"postcode": "PR1 9ZZ"})
    assert search.service_page_json_from_memory(stores=stores, query=unplaced, now=NOW) is None
    query = search.parse_query({"search": "lighthouse"})
    assert json.loads(search.service_page_json_from_memory(stores=stores, query=query) or b"")["total_items"] == 0
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([seeded_services(filler=41)[-1] | {"name": "Lighthouse drop-in"}]))
    import_directory(stores=stores, path=path)
    assert search.service_page_json_from_memory(stores=stores, query=query) is None
    assert json.loads(search.service_page_json(stores=stores, query=query))["total_items"] == 1
    assert json.loads(search.service_page_json_from_memory(stores=stores, query=query) or b"")["total_items"] == 1


def test_a_change_by_another_process_is_seen_within_the_recheck_interval(
        stores: Stores, monkeypatch: pytest.MonkeyPatch):
    """Another process (here: SQL on a connection of its own, which this process's hooks never see) bumps
    the directory's generation: searches in this process trust their index for RECHECK_SECONDS, then read
    the generation again and build a new index."""
    from sqlalchemy import create_engine, text

    from wholeplace.directory import store

    monkeypatch.setattr(store, "RECHECK_SECONDS", 0.3)
    query = search.parse_query({"search": "advice"})
    search.service_page_json(stores=stores, query=query, now=NOW)
    first = search._INDEXES[stores.engine]
    other = create_engine(stores.engine.url.render_as_string(hide_password=False))
    with other.begin() as connection:
        connection.execute(text("UPDATE directory_generation SET number = number + 1 WHERE id = 1"))
    other.dispose()
    assert search.service_page_json_from_memory(stores=stores, query=query, now=NOW) is not None  # trusted still
    time.sleep(0.35)
    assert search.service_page_json_from_memory(stores=stores, query=query, now=NOW) is None  # time to look again
    search.service_page_json(stores=stores, query=query, now=NOW)
    assert search._INDEXES[stores.engine][0] == first[0] + 1 and search._INDEXES[stores.engine][1] is not first[1]


def test_the_service_at_location_json_pages_equal_the_nested_pages_and_follow_a_load(stores: Stores, tmp_path: Path):
    for params in QUERIES:
        query = search.parse_query(params)
        page = search.service_at_location_page(stores=stores, query=query, now=NOW)
        assert json.loads(search.service_at_location_page_json(stores=stores, query=query, now=NOW)) == page, params
    query = search.parse_query({"search": "lighthouse"})
    assert json.loads(search.service_at_location_page_json(stores=stores, query=query))["total_items"] == 0
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([seeded_services(filler=41)[-1] | {"name": "Lighthouse drop-in"}]))
    import_directory(stores=stores, path=path)
    found = json.loads(search.service_at_location_page_json(stores=stores, query=query))
    assert found == search.service_at_location_page(stores=stores, query=query) and found["total_items"] >= 1

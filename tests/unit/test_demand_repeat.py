"""Repeat demand on hand-made events whose answers are worked out by hand, and a brute-force
oracle for rolling windows; the events sit in an in-memory DuckDB view shaped like the store's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from wholeplace.demand.repeat import parse_window, repeat_events
from wholeplace.errors import UserError
from wholeplace.model.events import EVENT_SCHEMA
from wholeplace.overview import UnknownChoiceError

CALLS = "calls"
STREET = "police-uk-street-somewhere"


def _event(n: int, **values: Any) -> dict[str, Any]:
    at = values.pop("at", None)
    row = {"event_id": f"e{n}", "dataset": CALLS, "partner": "force", "kind": "call_for_service", "load_id": "l",
           "partition_key": "p", "source_line": n, "category": "other", "mapping_version": "calls@1",
           "time_precision": "second", "location_status": "unlocated", "flag_self_initiated": False,
           "received_at": at, "occurred_month": (at or datetime(2023, 1, 1)).date().replace(day=1)}
    return row | values


def _connect(rows: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    table = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)
    con = duckdb.connect()
    con.register("events_stored", table)
    return con


def _calls(address: str, *days: int, start: datetime = datetime(2023, 1, 1, 12), **values: Any) -> list[dict]:
    return [{"address_token": address, "at": start + timedelta(days=d)} | values for d in days]


def _events(*groups: list[dict]) -> duckdb.DuckDBPyConnection:
    return _connect([_event(i, **row) for i, row in enumerate(r for g in groups for r in g)])


def test_fixed_windows_count_repeat_contacts_only_in_windows_that_reach_the_minimum() -> None:
    con = _events(
        _calls("A", 0, 10, 20, 400),  # 2023: three contacts (repeat); 2024: one
        _calls("B", 0, 200, 370),  # two in 2023 and one in 2024: never three in one window
        _calls("C", 5),
    )
    result = repeat_events(con=con, entity="location", top=10)
    assert (result.entities, result.repeat_entities, result.contacts, result.repeat_contacts) == (3, 1, 8, 3)
    assert result.repeat_entity_share == pytest.approx(1 / 3)
    assert result.repeat_demand_share == pytest.approx(3 / 8)
    top = {row["entity"]: row for row in result.top.iter_rows(named=True)}
    assert (top["A"]["contacts"], top["A"]["repeat_contacts"], top["A"]["most_in_window"]) == (4, 3, 3)
    assert top["B"]["is_repeat"] is False
    assert result.windows is not None
    windows = result.windows.select("window_start", "entities", "repeat_entities", "contacts", "repeat_contacts")
    assert windows.rows() == [(date(2023, 1, 1), 3, 1, 6, 3), (date(2024, 1, 1), 2, 0, 2, 0)]
    assert result.definition == "3 or more contacts in a fixed 12-month window"
    assert result.concentration is not None and result.concentration.units == 3


def test_a_six_month_window_and_a_lower_minimum_change_who_repeats() -> None:
    con = _events(_calls("B", 0, 200, 370))
    assert repeat_events(con=con, entity="location").repeat_entities == 0
    assert repeat_events(con=con, entity="location", min_contacts=2).repeat_contacts == 2  # days 0 and 200
    assert repeat_events(con=con, entity="location", min_contacts=2, window="24m").repeat_contacts == 3
    # 2023-01 to 2023-06, 2023-07 to 2023-12 (day 200), 2024-01 to 2024-06 (day 370)
    assert repeat_events(con=con, entity="location", min_contacts=2, window="6m").repeat_contacts == 0


def test_rolling_windows_mark_the_contacts_inside_a_qualifying_stretch() -> None:
    con = _events(
        _calls("A", 0, 20, 28, 100),  # days 0, 20, 28 lie within 28 days (inclusive); day 100 does not
        _calls("B", 0, 15, 30, 45),  # every 28-day stretch holds two at most
    )
    r28 = repeat_events(con=con, entity="location", window="28d", top=5)
    top = {row["entity"]: row for row in r28.top.iter_rows(named=True)}
    assert (top["A"]["repeat_contacts"], top["A"]["most_in_window"]) == (3, 3)
    assert (top["B"]["repeat_contacts"], top["B"]["most_in_window"]) == (0, 2)
    r90 = repeat_events(con=con, entity="location", window="90d", top=5)
    top90 = {row["entity"]: row for row in r90.top.iter_rows(named=True)}
    # Within 90 days: days 0-28 and days 20, 28, 100 each make three, so all four of A's contacts repeat.
    assert (top90["A"]["repeat_contacts"], top90["B"]["repeat_contacts"]) == (4, 4)
    assert r90.windows is None and r90.definition == "3 or more contacts in a rolling 90-day window"


def _brute_force_repeat_contacts(days: np.ndarray, span: int, least: int) -> int:
    """Contacts lying in some stretch [s, s + span] (s a contact day) holding ``least`` contacts."""
    days = np.sort(days)
    marked = np.zeros(len(days), dtype=bool)
    for start in days:
        inside = (days >= start) & (days <= start + span)
        if inside.sum() >= least:
            marked |= inside
    return int(marked.sum())


def test_rolling_windows_agree_with_a_brute_force_count() -> None:
    rng = np.random.default_rng(11)
    groups, expected = [], 0
    for entity in range(60):
        days = rng.integers(0, 365, rng.integers(1, 9))
        seconds = rng.integers(0, 86_400, len(days))
        times = [datetime(2023, 1, 1) + timedelta(seconds=int(s)) for s in days * 86_400 + seconds]
        groups.append([{"caller_token": f"c{entity}", "at": at} for at in times])
        expected += _brute_force_repeat_contacts(days * 86_400 + seconds, 28 * 86_400, 3)
    result = repeat_events(con=_events(*groups), entity="caller", window="28d")
    assert result.repeat_contacts == expected
    assert result.contacts == sum(len(g) for g in groups)


def test_officer_initiated_events_are_left_out_unless_asked_for_and_events_without_a_key_are_counted() -> None:
    con = _events(_calls("A", 0, 1), _calls("A", 2, flag_self_initiated=True), _calls(None, 3))  # type: ignore[arg-type]
    left_out = repeat_events(con=con, entity="location")
    assert (left_out.repeat_entities, left_out.contacts, left_out.officer_initiated_left_out) == (0, 2, 1)
    assert left_out.events_without_entity == 1
    counted = repeat_events(con=con, entity="location", include_officer_initiated=True)
    assert (counted.repeat_entities, counted.contacts, counted.officer_initiated_left_out) == (1, 3, 0)


def test_police_uk_locations_are_snap_points_said_plainly_and_have_no_rolling_windows() -> None:
    rows = [_event(i, dataset=STREET, mapping_version="police-uk@1+abc", time_precision="month",
                   occurred_month=date(2023, 1 + i % 3, 1), location_status="point", longitude=-2.5, latitude=53.75,
                   location_text="On or near Park Road") for i in range(4)]
    con = _connect(rows)
    result = repeat_events(con=con, entity="location")
    assert result.basis.startswith("police.uk snap point") and "not an address" in result.basis
    assert any("snap point" in c and "not an address" in c for c in result.caveats)
    assert result.top.row(0, named=True)["entity"] == "snap:-2.500000,53.750000"
    assert result.top.row(0, named=True)["snap_point_text"] == "On or near Park Road"
    rolling = repeat_events(con=con, entity="location", window="28d")
    assert rolling.contacts == 0 and "only the month" in rolling.not_available[STREET]
    assert "records no caller" in repeat_events(con=con, entity="caller").not_available[STREET]


def test_address_tokens_never_come_with_location_text() -> None:
    con = _events(_calls("A", 0, 1, 2, location_text="Mill Lane, Wenlow"))
    result = repeat_events(con=con, entity="location")
    assert "snap_point_text" not in result.top.columns
    assert "location_text" not in result.top.columns
    assert result.basis.startswith("address")


def test_person_repeats_carry_the_lower_bound_caveat() -> None:
    con = _events([{"subject_token": "p1", "at": datetime(2023, 3, d)} for d in (1, 2, 3)])
    result = repeat_events(con=con, entity="person")
    assert result.repeat_entities == 1 and "lower bound" in result.caveats[0]


@pytest.mark.parametrize("text", ["12", "0m", "13w", "121m", "3661d", ""])
def test_bad_windows_are_user_errors_naming_the_forms(text: str) -> None:
    with pytest.raises(UserError, match="12m"):
        parse_window(text)


def test_bad_choices_are_user_errors() -> None:
    con = _events(_calls("A", 0))
    with pytest.raises(UnknownChoiceError, match="location, caller, person"):
        repeat_events(con=con, entity="address")
    with pytest.raises(UserError, match="at least 2"):
        repeat_events(con=con, entity="location", min_contacts=1)
    with pytest.raises(UnknownChoiceError, match="calls"):
        repeat_events(con=con, entity="location", dataset="other")
    with pytest.raises(UserError, match="YYYY-MM"):
        repeat_events(con=con, entity="location", month_from="last spring")


def test_the_reader_s_datasets_limit_what_is_counted() -> None:
    con = _events(_calls("A", 0, 1, 2))
    result = repeat_events(con=con, entity="location", datasets=["something-else"])
    assert (result.entities, result.contacts, result.concentration) == (0, 0, None)
    assert result.lorenz.height == 0 and result.top.height == 0
    assert "entity" in result.top.columns

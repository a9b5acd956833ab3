"""Whatever a file looks like, a load either refuses it and changes nothing, or accounts for every row.

Hypothesis mutates small valid files (fields deleted or duplicated, garbage bytes, blank lines,
stray quotes, truncation) and loads each into a fresh store.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.mapped_files import CALLS_HEADER, call_row, write_mapping
from tests.support.police_files import HEADER as POLICE_HEADER
from tests.support.police_files import street_row
from wholeplace import provenance
from wholeplace.errors import UserError
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import Adapter, load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

BOUNDED = settings(max_examples=30, deadline=None)


def _delete_field(lines: list[bytes], line: int, field: int) -> list[bytes]:
    fields = lines[line].split(b",")
    del fields[field % len(fields)]
    return [*lines[:line], b",".join(fields), *lines[line + 1:]]


def _duplicate_field(lines: list[bytes], line: int, field: int) -> list[bytes]:
    fields = lines[line].split(b",")
    fields.insert(field % len(fields), fields[field % len(fields)])
    return [*lines[:line], b",".join(fields), *lines[line + 1:]]


def _insert(lines: list[bytes], line: int, at: int, text: bytes) -> list[bytes]:
    target = lines[line]
    at %= len(target) + 1
    return [*lines[:line], target[:at] + text + target[at:], *lines[line + 1:]]


def _blank_line(lines: list[bytes], line: int) -> list[bytes]:
    return [*lines[:line], b"", *lines[line:]]


MUTATIONS: list[st.SearchStrategy[Callable[[list[bytes], int], list[bytes]]]] = [
    st.builds(lambda f: lambda ls, n: _delete_field(ls, n, f), st.integers(0, 20)),
    st.builds(lambda f: lambda ls, n: _duplicate_field(ls, n, f), st.integers(0, 20)),
    st.builds(lambda a, t: lambda ls, n: _insert(ls, n, a, t), st.integers(0, 200), st.binary(min_size=1, max_size=6)),
    st.builds(lambda a: lambda ls, n: _insert(ls, n, a, b'"'), st.integers(0, 200)),
    st.just(_blank_line),
]


@st.composite
def mutated(draw: st.DrawFn, content: bytes) -> bytes:
    """``content`` with one to four mutations, each on a line, then perhaps truncated."""
    lines = content.split(b"\n")
    for mutation in draw(st.lists(st.one_of(*MUTATIONS), min_size=1, max_size=4)):
        lines = mutation(lines, draw(st.integers(0, len(lines) - 1)))
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _snapshot(stores: Stores) -> tuple[dict[str, Any], set[str]]:
    data_dir = stores.settings.data_dir
    return provenance.status_report(stores=stores), {str(p) for p in data_dir.rglob("*") if p.is_file()}


def _check_load(make_adapter: Callable[[Path], Adapter], good: bytes, data: bytes) -> None:
    """Load a good file, then the mutated one: refused with nothing changed, or every row accounted for."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        adapter = make_adapter(folder)
        stores = open_stores(Settings(data_dir=folder / "data"))
        (folder / "good.csv").write_bytes(good)
        load_files(stores=stores, adapter=adapter, paths=[folder / "good.csv"], settings=stores.settings)
        before = _snapshot(stores)
        (folder / "mutated.csv").write_bytes(data)
        try:
            results = load_files(stores=stores, adapter=adapter, paths=[folder / "mutated.csv"],
                                 settings=stores.settings)
        except UserError:
            assert _snapshot(stores) == before
            return
        assert all(r.rows_read == r.rows_stored + r.rows_quarantined for r in results)
        stored = sum(load["rows_stored"] for load in provenance.list_loads(stores=stores))
        assert stores.connect().execute("SELECT count(*) FROM events").fetchone() == (stored,)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    return text.getvalue().encode()


POLICE_GOOD = _csv(POLICE_HEADER, [street_row("2021-01", crime_id=f"c{i}") for i in range(3)])
POLICE_BASE = _csv(POLICE_HEADER, [
    street_row("2021-01"), street_row("2021-02", "Anti-social behaviour"), street_row("2021-02", lon="", lat=""),
    street_row("2021-03", "Drugs", lsoa=""), street_row("2021-03", "Vehicle crime"),
])
CALLS_GOOD = _csv(CALLS_HEADER, [call_row(str(i)) for i in range(3)])
CALLS_BASE = _csv(CALLS_HEADER, [
    call_row("1"), call_row("2", received="01/03/2024 10:05", call_type="MH", source="ONVIEW"),
    call_row("3", lon="", lat="", beat="-1", notes='said "hello", left'), call_row("4", arrived=""),
    call_row("5", call_type="PARKING", street=""),
])


@BOUNDED
@given(data=mutated(POLICE_BASE))
def test_police_uk_loads_refuse_or_account_for_every_row(data: bytes) -> None:
    _check_load(lambda folder: PoliceUkAdapter(), POLICE_GOOD, data)


@BOUNDED
@given(data=mutated(CALLS_BASE))
def test_mapped_loads_refuse_or_account_for_every_row(data: bytes) -> None:
    _check_load(lambda folder: MappedAdapter.from_file(write_mapping(folder / "mapping")), CALLS_GOOD, data)

"""Tampering with the audit log directly in the database is detected, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from wholeplace.cli.audit import audit_app
from wholeplace.governance import audit
from wholeplace.store import Stores

runner = CliRunner()


def _fill(stores: Stores, count: int = 10) -> list[audit.AuditEntry]:
    return [audit.record(stores=stores, action="disclosure", actor=f"user{i % 3}", partner="nhs",
                         purpose="demand_analysis", what={"dataset": "calls", "rows": i}) for i in range(count)]


def _sql(stores: Stores, *statements: str, **values: object) -> None:
    with stores.engine.begin() as con:
        for statement in statements:
            con.execute(text(statement), values)


def _cli_verify(stores: Stores, monkeypatch: pytest.MonkeyPatch, *extra: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WHOLEPLACE_DATABASE_URL", stores.settings.operational_url)
    return runner.invoke(audit_app, ["verify", "--data-dir", str(stores.settings.data_dir), *extra])


def test_an_untouched_chain_passes(stores_on_each_engine: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = _fill(stores_on_each_engine)
    result = audit.verify(stores=stores_on_each_engine)
    assert (result.ok, result.entries_checked, result.first_bad) == (True, 10, None)
    cli = _cli_verify(stores_on_each_engine, monkeypatch)
    assert cli.exit_code == 0, cli.output
    assert f"10:{entries[-1].entry_hash}" in cli.output
    again = _cli_verify(stores_on_each_engine, monkeypatch, "--expect", f"4:{entries[3].entry_hash}")
    assert again.exit_code == 0, again.output


def _alter(stores: Stores) -> None:
    _sql(stores, "UPDATE audit_log SET actor = 'someone-else' WHERE sequence = 4")


def _alter_what(stores: Stores) -> None:
    _sql(stores, "UPDATE audit_log SET what = :what WHERE sequence = 4", what='{"dataset":"calls","rows":0}')


def _delete(stores: Stores) -> None:
    _sql(stores, "DELETE FROM audit_log WHERE sequence = 4")


def _delete_and_renumber(stores: Stores) -> None:
    _sql(stores, "DELETE FROM audit_log WHERE sequence = 4",
         *(f"UPDATE audit_log SET sequence = {n - 1} WHERE sequence = {n}" for n in range(5, 11)),
         "UPDATE audit_anchor SET sequence = 9")


def _swap(stores: Stores) -> None:
    _sql(stores, "UPDATE audit_log SET sequence = -1 WHERE sequence = 4",
         "UPDATE audit_log SET sequence = 4 WHERE sequence = 5",
         "UPDATE audit_log SET sequence = 5 WHERE sequence = -1")


def _swap_contents(stores: Stores) -> None:
    """Swap every column but the sequence: the rows keep their places, their contents trade."""
    columns = "recorded_at, action, actor, partner, purpose, what, justification, agreement_id, " \
              "agreement_version, outcome, previous_hash, entry_hash"
    _sql(stores, f"CREATE TABLE swap AS SELECT sequence, {columns} FROM audit_log WHERE sequence IN (4, 5)",
         "UPDATE audit_log SET entry_hash = 'x' || sequence WHERE sequence IN (4, 5)",
         *(f"UPDATE audit_log SET ({columns}) = (SELECT {columns} FROM swap WHERE sequence = {9 - n}) "
           f"WHERE sequence = {n}" for n in (4, 5)),
         "DROP TABLE swap")


@pytest.mark.parametrize(("tamper", "first_bad", "words"), [
    (_alter, 4, "altered"),
    (_alter_what, 4, "altered"),
    (_delete, 4, "missing"),
    (_delete_and_renumber, 4, "does not follow"),
    (_swap, 4, "does not follow"),
    (_swap_contents, 4, "does not follow"),
])
def test_altered_removed_or_reordered_entries_are_found(
    stores_on_each_engine: Stores, monkeypatch: pytest.MonkeyPatch,
    tamper: Callable[[Stores], None], first_bad: int, words: str,
) -> None:
    _fill(stores_on_each_engine)
    tamper(stores_on_each_engine)
    result = audit.verify(stores=stores_on_each_engine)
    assert (result.ok, result.first_bad, result.entries_checked) == (False, first_bad, first_bad - 1)
    assert words in result.problem and f"entry {first_bad}" in result.problem
    cli = _cli_verify(stores_on_each_engine, monkeypatch)
    assert cli.exit_code == 1
    assert f"First bad entry: {first_bad}." in cli.output


def test_a_cut_tail_is_found_by_the_anchor_row(stores_on_each_engine: Stores) -> None:
    _fill(stores_on_each_engine)
    _sql(stores_on_each_engine, "DELETE FROM audit_log WHERE sequence >= 8")
    result = audit.verify(stores=stores_on_each_engine)
    assert (result.ok, result.first_bad) == (False, 8)
    assert "entries 8 to 10 were removed from the end" in result.problem
    later = audit.record(stores=stores_on_each_engine, action="sign_in", actor="ann")
    assert later.sequence == 11  # appending continues past the gap rather than hiding it
    assert audit.verify(stores=stores_on_each_engine).first_bad == 8


def test_a_forged_entry_added_at_the_end_is_found(stores_on_each_engine: Stores) -> None:
    entries = _fill(stores_on_each_engine, 3)
    _sql(stores_on_each_engine, "INSERT INTO audit_log (sequence, recorded_at, action, actor, what, outcome, "
         f"previous_hash, entry_hash) VALUES (4, '2026-11-22 10:00:00', 'sign_in', 'x', 'null', 'allowed', "
         f"'{entries[-1].entry_hash}', '{'f' * 64}')")
    result = audit.verify(stores=stores_on_each_engine)
    assert (result.ok, result.first_bad) == (False, 4)


def test_a_rewritten_chain_is_found_by_the_anchor_file(stores_on_each_engine: Stores, tmp_path: Path) -> None:
    """Rewriting entries 3 to 6 with fresh hashes and a fresh anchor row still differs from the file outside."""
    entries = _fill(stores_on_each_engine, 6)
    _sql(stores_on_each_engine, "DELETE FROM audit_log WHERE sequence >= 3",
         f"UPDATE audit_anchor SET sequence = 2, entry_hash = '{entries[1].entry_hash}'")
    rewriter = Stores(stores_on_each_engine.settings.model_copy(update={"data_dir": tmp_path / "elsewhere"}))
    for entry in entries[2:]:
        changed = {**entry.what, "rows": 99} if entry.sequence == 3 else entry.what
        assert audit.record(stores=rewriter, action=entry.action, actor=entry.actor, partner=entry.partner,
                            purpose=entry.purpose, what=changed).sequence == entry.sequence
    assert audit.verify(stores=rewriter).ok  # the chain and anchor row alone look intact
    result = audit.verify(stores=stores_on_each_engine)
    assert (result.ok, result.first_bad) == (False, 6)
    assert "differs from the anchor file" in result.problem
    assert audit.verify(stores=rewriter, checkpoint=(2, entries[1].entry_hash)).ok  # untouched before the rewrite
    kept_elsewhere = audit.verify(stores=rewriter, checkpoint=(4, entries[3].entry_hash))
    assert (kept_elsewhere.ok, kept_elsewhere.first_bad) == (False, 4)
    rewriter.close()


def test_two_writers_at_once_leave_a_valid_chain(stores_on_each_engine: Stores) -> None:
    failures: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for i in range(200):
                audit.record(stores=stores_on_each_engine, action="consultation", actor=name, partner="nhs",
                             what={"dataset": "calls", "n": i}, justification="case review")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = audit.verify(stores=stores_on_each_engine)
    assert (result.ok, result.entries_checked, result.head_sequence) == (True, 400, 400)
    assert audit.search(stores=stores_on_each_engine, actor="bob")[1] == 200

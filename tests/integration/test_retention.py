"""Retention on stores built through the real ingest path, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.police_files import street_row, write_street_file
from wholeplace import provenance
from wholeplace.cli.audit import retention_app
from wholeplace.errors import InputError, UserError
from wholeplace.governance import audit
from wholeplace.governance.pseudonymise import create_key_file
from wholeplace.governance.retention import apply_retention, cut_off, read_policy
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

POLICE = "police-uk-street-test-constabulary"
TODAY = date(2026, 11, 22)
REFERRALS_MAPPING = """\
mapping: test-referrals
version: 1
partner: {code: council-test, name: Test Council, kind: council}
dataset: {code: test-referrals, kind: referral, title: Test referrals}
event_kind: referral
timestamps:
  occurred_at: {column: when, formats: ["%Y-%m-%d %H:%M"]}
category: {column: reason, table: reasons.csv}
identifiers:
  subject:
    forename: {column: first_name}
    surname: {column: last_name}
    date_of_birth: {column: dob}
"""


def _police(stores: Stores, tmp_path: Path) -> None:
    files = [write_street_file(tmp_path / f"{m}.csv", [street_row(m)] * n) for m, n in
             (("2025-10", 3), ("2025-11", 4), ("2026-10", 5))]
    files.insert(0, write_street_file(tmp_path / "2025-09.csv", [street_row("2025-09")] * 6 + [street_row("x")]))
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=files, settings=stores.settings)


def _counts(stores: Stores) -> tuple[int, int, int]:
    con = stores.connect()
    return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                 for t in ("events", "quarantine", "person_keys"))


def test_the_cut_off_keeps_whole_months() -> None:
    assert cut_off(TODAY, 12) == date(2025, 11, 1)
    assert cut_off(date(2026, 1, 1), 1) == date(2025, 12, 1)
    assert cut_off(date(2026, 3, 31), 26) == date(2024, 1, 1)


def test_old_months_go_with_their_quarantine_and_the_erasure_is_recorded(
    stores_on_each_engine: Stores, tmp_path: Path
) -> None:
    stores = stores_on_each_engine
    _police(stores, tmp_path)
    assert _counts(stores) == (18, 1, 0)
    result = apply_retention(stores=stores, policy={POLICE: 12, "not-loaded": 6}, today=TODAY)
    [erasure] = result.datasets
    assert (erasure.events_deleted, erasure.quarantine_deleted, erasure.segments_removed) == (9, 1, 3)
    assert result.not_in_store == ["not-loaded"]
    con = stores.connect()
    assert con.execute("SELECT min(occurred_month) FROM events").fetchone()[0] == date(2025, 11, 1)
    assert _counts(stores) == (9, 0, 0)
    active = sorted(load["file"] for load in provenance.list_loads(stores=stores))
    assert active == ["2025-11.csv", "2026-10.csv"]
    [entry], _ = audit.search(stores=stores, action="erasure")
    assert (entry.sequence, entry.actor) == (erasure.audit_sequence, "retention-job")
    assert entry.partner == "police-test-constabulary"
    assert entry.what["rows_deleted"] == {"events": 9, "person_keys": 0, "quarantine": 1}
    assert entry.what["cut_off"] == "2025-11-01" and len(entry.what["loads_erased"]) == 2
    assert audit.verify(stores=stores).ok
    again = apply_retention(stores=stores, policy={POLICE: 12}, today=TODAY)
    assert again.rows_deleted == 0 and again.datasets[0].audit_sequence is None
    assert audit.search(stores=stores, action="erasure")[1] == 1
    assert _counts(stores) == (9, 0, 0)


def test_a_mixed_segment_is_rewritten_and_person_keys_follow(tmp_path: Path) -> None:
    key = create_key_file(tmp_path / "secrets" / "partnership.key")
    stores = open_stores(Settings(data_dir=tmp_path / "data", partnership_key_file=key))
    folder = tmp_path / "referrals"
    folder.mkdir()
    (folder / "reasons.csv").write_text("source_value,category\nwelfare,concern_for_welfare\n")
    (folder / "mapping.yaml").write_text(REFERRALS_MAPPING)
    rows = [[f"{month}-03 10:00", "welfare", f"Name{i}", "Surname", "1980-01-02"]
            for i, month in enumerate(["2024-05", "2025-10", "2025-11", "2026-01", "2024-12"])]
    with (folder / "extract.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["when", "reason", "first_name", "last_name", "dob"], *rows])
    load_files(stores=stores, adapter=MappedAdapter.from_file(folder / "mapping.yaml"),
               paths=[folder / "extract.csv"], settings=stores.settings)
    assert _counts(stores) == (5, 0, 5)
    [erasure] = apply_retention(stores=stores, policy={"test-referrals": 12}, today=TODAY).datasets
    assert (erasure.events_deleted, erasure.person_keys_deleted, erasure.segments_replaced) == (3, 3, 2)
    con = stores.connect()
    kept = con.execute("SELECT e.event_id FROM events e JOIN person_keys k USING (event_id) ORDER BY 1").fetchall()
    assert [row[0].rsplit("#", 1)[1] for row in kept] == ["4", "5"]  # source lines of 2025-11 and 2026-01
    assert [load["file"] for load in provenance.list_loads(stores=stores)] == ["extract.csv"]
    files = sorted(p.name for p in stores.settings.analytic_dir.rglob("*.parquet") if "segments" in p.parts)
    assert len(files) == 2  # the replaced segments' files are gone
    stores.close()


def test_a_failure_changes_nothing(stores: Stores, tmp_path: Path) -> None:
    _police(stores, tmp_path)
    other = write_street_file(tmp_path / "other.csv", [street_row("2024-01", force="Other Police")] * 2)
    load_files(stores=stores, adapter=PoliceUkAdapter(), paths=[other], settings=stores.settings)
    broken = next((stores.settings.analytic_dir / "segments" / "events" / "police-uk-street-other-police").glob("*"))
    good = broken.read_bytes()
    broken.write_bytes(b"not parquet")
    before = (sorted(p.name for p in stores.settings.data_dir.rglob("*.parquet")), stores.active_segments())
    audit_before = audit.search(stores=stores)
    with pytest.raises(Exception, match=r"(?i)parquet"):
        apply_retention(stores=stores, policy={POLICE: 12, "police-uk-street-other-police": 12}, today=TODAY)
    assert (sorted(p.name for p in stores.settings.data_dir.rglob("*.parquet")), stores.active_segments()) == before
    assert audit.search(stores=stores) == audit_before
    assert audit_before[1] > 0 and audit.search(stores=stores, action="erasure")[1] == 0
    broken.write_bytes(good)
    assert _counts(stores) == (20, 1, 0)


def test_a_stale_segment_refuses_the_swap(stores: Stores, tmp_path: Path) -> None:
    _police(stores, tmp_path)
    with pytest.raises(UserError, match="changed while it was being rewritten"):
        stores.replace_segments({str(tmp_path / "gone.parquet"): None})
    assert _counts(stores) == (18, 1, 0)


def test_policy_months_must_be_whole_and_positive(stores: Stores, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="at least 1"):
        apply_retention(stores=stores, policy={POLICE: 0}, today=TODAY)
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"{POLICE}: 12\nother: six\nthird: 3\nthird: 4\n")
    with pytest.raises(InputError) as caught:
        read_policy(policy)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (2, "'other' must keep a whole number of months, at least 1"), (4, "'third' is given twice")]


def test_the_command_applies_a_policy_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stores = open_stores(Settings(data_dir=data))
    _police(stores, tmp_path)
    stores.close()
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"{POLICE}: 12\n")
    result = CliRunner().invoke(retention_app, ["run", "--data-dir", str(data), "--policy", str(policy),
                                                "--today", "2026-11-22"])
    assert result.exit_code == 0, result.output
    assert "deleted 9 events, 0 person keys, 1 quarantined rows (audit entry 5)" in " ".join(result.output.split())
    bad = CliRunner().invoke(retention_app, ["run", "--data-dir", str(data), "--policy", str(tmp_path / "no.yaml")])
    assert bad.exit_code == 2 and "no.yaml" in bad.output


def test_without_a_policy_file_the_agreements_give_it(stores: Stores, tmp_path: Path) -> None:
    from wholeplace.governance.registry import load_example_agreements
    from wholeplace.governance.retention import policy_from_agreements

    _police(stores, tmp_path)
    assert policy_from_agreements(stores=stores) == {}  # no agreement covers the data yet: left alone
    load_example_agreements(stores=stores)
    policy = policy_from_agreements(stores=stores)
    assert policy == {POLICE: 60}  # the longest retention of the active agreements matching by pattern

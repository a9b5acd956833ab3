"""The audit log on a temporary SQLite store: chaining, the justification rule, search, export, review."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wholeplace.errors import UserError
from wholeplace.governance import audit
from wholeplace.governance.audit_tables import GENESIS_HASH, canonical_json
from wholeplace.store import Stores


def _some(stores: Stores) -> list[audit.AuditEntry]:
    return [
        audit.record(stores=stores, action="collection", actor="loader", partner="police", what={"dataset": "calls"}),
        audit.record(stores=stores, action="consultation", actor="ann", partner="nhs", purpose="direct_care_hiu",
                     what={"dataset": "calls", "event_ids": ["calls/f#2"]}, justification="Referral 41: 100% sure",
                     agreement_id="hiu-dsa", agreement_version=2),
        audit.record(stores=stores, action="refusal", actor="ann", partner="nhs", purpose="research",
                     what={"datasets": ["calls", "ae"]}, outcome="refused"),
        audit.record(stores=stores, action="disclosure", actor="bob", partner="council",
                     purpose="csp_strategic_assessment",
                     what={"dataset": "ae", "rows": 12, "format": "csv"}),
    ]


def test_entries_form_a_chain_from_the_genesis_hash(stores: Stores) -> None:
    entries = _some(stores)
    assert [e.sequence for e in entries] == [1, 2, 3, 4]
    assert entries[0].previous_hash == GENESIS_HASH
    assert [e.previous_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    fields = {k: v for k, v in entries[1].as_dict().items() if k != "entry_hash"}
    fields["what"] = canonical_json(fields["what"])
    assert hashlib.sha256(canonical_json(fields).encode()).hexdigest() == entries[1].entry_hash
    result = audit.verify(stores=stores)
    assert (result.ok, result.entries_checked, result.first_bad) == (True, 4, None)
    assert (result.head_sequence, result.head_hash) == (4, entries[-1].entry_hash)


def test_a_person_level_view_needs_a_justification(stores: Stores) -> None:
    for justification in (None, "", "   "):
        with pytest.raises(UserError, match="needs a justification"):
            audit.record(stores=stores, action="consultation", actor="ann", purpose="direct_care_hiu",
                         what={"dataset": "calls"}, justification=justification)
    assert audit.search(stores=stores) == ([], 0)
    refused = audit.record(stores=stores, action="consultation", actor="ann", outcome="refused")
    assert refused.justification is None


def test_clear_identifiers_and_unknown_actions_are_refused(stores: Stores) -> None:
    with pytest.raises(ValueError, match="clear identifiers"):
        audit.record(stores=stores, action="disclosure", actor="bob", what={"rows": [{"nhs_number": "943"}]})
    with pytest.raises(ValueError, match="'peek'"):
        audit.record(stores=stores, action="peek", actor="bob")
    with pytest.raises(ValueError, match="actor"):
        audit.record(stores=stores, action="disclosure", actor=" ")
    assert audit.verify(stores=stores).entries_checked == 0


def test_search_filters_and_matches_text_literally(stores: Stores) -> None:
    _some(stores)
    entries, total = audit.search(stores=stores, actor="ann")
    assert ([e.sequence for e in entries], total) == ([3, 2], 2)
    assert [e.sequence for e in audit.search(stores=stores, text="REFERRAL 41")[0]] == [2]
    assert audit.search(stores=stores, text="1%")[1] == 0  # % is a literal, not a wildcard
    assert [e.sequence for e in audit.search(stores=stores, text="100%")[0]] == [2]
    assert [e.sequence for e in audit.search(stores=stores, action="disclosure", partner="council")[0]] == [4]
    page, total = audit.search(stores=stores, limit=2, offset=1)
    assert ([e.sequence for e in page], total) == ([3, 2], 4)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert audit.search(stores=stores, since=tomorrow) == ([], 0)
    assert audit.search(stores=stores, until=datetime.now(UTC).date())[1] == 4
    assert audit.search(stores=stores, text="x' OR '1'='1")[1] == 0


def test_an_export_can_be_checked_again_outside_the_platform(stores: Stores) -> None:
    entries = _some(stores)
    stream = io.StringIO()
    assert audit.export_csv(stores=stores, path_or_stream=stream) == 4
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    previous = GENESIS_HASH
    for row in rows:
        fields = {k: (None if v == "" else v) for k, v in row.items() if k != "entry_hash"}
        fields["sequence"] = int(row["sequence"])
        fields["agreement_version"] = int(row["agreement_version"]) if row["agreement_version"] else None
        assert fields["previous_hash"] == previous
        previous = hashlib.sha256(canonical_json(fields).encode()).hexdigest()
        assert previous == row["entry_hash"]
    assert previous == entries[-1].entry_hash
    assert json.loads(rows[2]["what"]) == {"datasets": ["calls", "ae"]}


def test_an_export_writes_only_the_filtered_entries_to_a_file(stores: Stores, tmp_path: Path) -> None:
    _some(stores)
    path = tmp_path / "ann.csv"
    assert audit.export_csv(stores=stores, path_or_stream=path, actor="ann") == 2
    assert [r["sequence"] for r in csv.DictReader(io.StringIO(path.read_text()))] == ["2", "3"]


def test_access_review_says_who_used_what(stores: Stores) -> None:
    entries = _some(stores)
    review = {row["actor"]: row for row in audit.access_review(stores=stores)}
    assert sorted(review) == ["ann", "bob", "loader"]
    ann = review["ann"]
    assert ann["actions"] == {"consultation": 1, "refusal": 1}
    assert ann["datasets"] == ["ae", "calls"]
    assert ann["purposes"] == ["direct_care_hiu", "research"]
    assert ann["agreements"] == ["hiu-dsa v2"]
    assert (ann["person_level_views"], ann["refusals"]) == (1, 1)
    assert (ann["first_use"], ann["last_use"]) == (entries[1].recorded_at, entries[2].recorded_at)
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert audit.access_review(stores=stores, since=later) == []

"""Walking the audit chain: the first entry altered, removed, inserted or reordered, and a cut tail.

The walk checks, in sequence order, that sequences run 1, 2, 3… without a gap, that each
entry's ``previous_hash`` is its predecessor's hash, and that each entry's hash matches
its content. It then compares the end of the chain with the anchor row (same database),
the anchor file (beside the analytic store) and any checkpoint the operator kept elsewhere.
"""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from wholeplace.errors import UserError
from wholeplace.governance.audit_tables import GENESIS_HASH, AuditAnchorRow, AuditRow, compute_hash, ensure_tables
from wholeplace.store.stores import Stores

_BATCH = 2000


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries_checked: int
    first_bad: int | None
    problem: str
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH


class _Broken(Exception):
    def __init__(self, first_bad: int | None, problem: str) -> None:
        super().__init__(problem)
        self.first_bad = first_bad
        self.problem = problem


class _Walk:
    """The chain so far, and the hashes at the sequences some checkpoint names."""

    def __init__(self, watched: set[int]) -> None:
        self.sequence = 0
        self.hash = GENESIS_HASH
        self.checked = 0
        self.watched = watched
        self.seen: dict[int, str] = {}

    def step(self, row: AuditRow) -> None:
        expected = self.sequence + 1
        if row.sequence != expected:
            raise _Broken(expected, f"entry {expected} is missing: the log goes from entry {self.sequence} "
                                    f"to entry {row.sequence} (removed, or renumbered)")
        if row.previous_hash != self.hash:
            raise _Broken(row.sequence, f"entry {row.sequence} does not follow entry {self.sequence}: its "
                                        "previous_hash is not that entry's hash (an entry was removed, inserted, "
                                        "reordered, or rewritten with a new hash)")
        if compute_hash(row) != row.entry_hash:
            raise _Broken(row.sequence, f"entry {row.sequence} was altered: its content does not match its hash")
        self.sequence, self.hash = row.sequence, row.entry_hash
        self.checked += 1
        if row.sequence in self.watched:
            self.seen[row.sequence] = row.entry_hash

    def walk(self, session: Session) -> None:
        query = select(AuditRow).where(AuditRow.sequence > self.sequence).order_by(AuditRow.sequence)
        with closing(session.scalars(query.execution_options(yield_per=_BATCH))) as rows:  # frees a server cursor
            for row in rows:
                self.step(row)
        session.expunge_all()


def verify(*, stores: Stores, checkpoint: tuple[int, str] | None = None) -> Verification:
    """Check the whole chain and report the first bad entry; ``checkpoint`` is a (sequence, hash) kept elsewhere."""
    ensure_tables(stores.engine)
    checkpoints = [("the anchor file " + str(anchor_file(stores)), *point) for point in _file_anchor(stores)]
    if checkpoint is not None:
        checkpoints.append(("the checkpoint given", *checkpoint))
    walk = _Walk({sequence for _, sequence, _ in checkpoints})
    try:
        with stores.sessions() as session:
            walk.walk(session)
            _check_anchor_row(session, walk)
        for label, sequence, digest in checkpoints:
            _check_checkpoint(walk, label, sequence, digest)
    except _Broken as broken:
        return Verification(False, walk.checked, broken.first_bad, broken.problem, walk.sequence, walk.hash)
    problem = f"all {walk.checked} entries are intact; the head is {walk.sequence}:{walk.hash}"
    return Verification(True, walk.checked, None, problem, walk.sequence, walk.hash)


def _check_anchor_row(session: Session, walk: _Walk) -> None:
    """The anchor is written in the same transaction as each entry, so it can never be behind the rows."""
    anchor = session.get(AuditAnchorRow, 1)
    if anchor is None:
        if walk.sequence:
            raise _Broken(None, "the audit_anchor row is missing, so a cut tail could not be detected")
        return
    if anchor.sequence > walk.sequence:
        walk.walk(session)  # entries appended while the walk ran
    if anchor.sequence > walk.sequence:
        raise _Broken(walk.sequence + 1, f"entries {walk.sequence + 1} to {anchor.sequence} were removed from "
                                         f"the end of the log (the anchor records entry {anchor.sequence})")
    if anchor.sequence < walk.sequence:
        raise _Broken(anchor.sequence + 1, f"entry {anchor.sequence + 1} was added outside the audit log "
                                           f"(the anchor records entry {anchor.sequence} as the last)")
    if anchor.entry_hash != walk.hash:
        raise _Broken(walk.sequence, f"entry {walk.sequence} is not the entry the anchor records")


def _check_checkpoint(walk: _Walk, label: str, sequence: int, digest: str) -> None:
    if sequence > walk.sequence:
        raise _Broken(walk.sequence + 1, f"entries {walk.sequence + 1} to {sequence} were removed from the end "
                                         f"of the log ({label} records entry {sequence})")
    if sequence and walk.seen.get(sequence) != digest:
        raise _Broken(sequence, f"entry {sequence} differs from {label}: the chain was rewritten at or "
                                "before this entry")


def anchor_file(stores: Stores) -> Path:
    """Checkpoint kept beside the analytic store, out of reach of someone who can only write the database."""
    return stores.settings.data_dir / "audit-anchor.json"


def _file_anchor(stores: Stores) -> list[tuple[int, str]]:
    path = anchor_file(stores)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
        return [(int(data["sequence"]), str(data["entry_hash"]))]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path} is not a valid audit anchor file",
                        hint="It is rewritten on every audit entry; restore it from backup or remove it.") from None


def parse_checkpoint(value: str) -> tuple[int, str]:
    """``SEQUENCE:HASH`` as printed by ``wholeplace audit verify``."""
    sequence, _, digest = value.partition(":")
    if not sequence.isdigit() or len(digest) != 64:
        raise UserError(f"{value!r} is not a checkpoint", hint="Give it as SEQUENCE:HASH, as `audit verify` prints.")
    return int(sequence), digest.lower()

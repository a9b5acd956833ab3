"""Retention: delete events older than each dataset's retention period, and record the erasure.

An event is deleted once its whole month lies more than the kept number of months in the
past: with 12 months kept, on any day of November 2026 events of October 2025 and
earlier go. Its person keys go with it, and a load's quarantined rows go when the last of
that load's events goes (or, for a load that stored no events, when its load date passes
the cut-off). Segments are rewritten without those rows and swapped in one transaction
together with one ERASURE audit entry per dataset, so a failure changes nothing.

Running it again deletes nothing more and records nothing: only a run that deletes rows
writes to the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wholeplace.errors import UserError
from wholeplace.governance import audit
from wholeplace.governance.audit_tables import AuditAction, AuditEntry
from wholeplace.governance.retention_policy import policy_from_agreements, read_policy, stored_datasets
from wholeplace.store.operational import DatasetRow, LoadRow, SegmentRow
from wholeplace.store.stores import StagedSegment, Stores

__all__ = [
    "DatasetErasure",
    "RetentionResult",
    "apply_retention",
    "cut_off",
    "policy_from_agreements",
    "read_policy",
    "stored_datasets",
]


@dataclass
class DatasetErasure:
    """What one dataset's retention deleted."""

    dataset: str
    months_kept: int
    cut_off: date
    events_deleted: int = 0
    person_keys_deleted: int = 0
    quarantine_deleted: int = 0
    segments_replaced: int = 0
    segments_removed: int = 0
    loads_erased: list[str] = field(default_factory=list)
    audit_sequence: int | None = None

    @property
    def rows_deleted(self) -> int:
        return self.events_deleted + self.person_keys_deleted + self.quarantine_deleted

    def audit_what(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "months_kept": self.months_kept,
            "cut_off": self.cut_off.isoformat(),
            "rows_deleted": {"events": self.events_deleted, "person_keys": self.person_keys_deleted,
                             "quarantine": self.quarantine_deleted},
            "segments_replaced": self.segments_replaced,
            "segments_removed": self.segments_removed,
            "loads_erased": self.loads_erased,
        }


@dataclass
class RetentionResult:
    today: date
    datasets: list[DatasetErasure]
    not_in_store: list[str]  # policy entries naming datasets the store does not hold

    @property
    def rows_deleted(self) -> int:
        return sum(d.rows_deleted for d in self.datasets)


@dataclass
class _Plan:
    erasure: DatasetErasure
    partner: str | None
    replacements: dict[str, StagedSegment | None] = field(default_factory=dict)
    erased_ids: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # load → event ids
    live_loads: set[str] = field(default_factory=set)


def cut_off(today: date, months: int) -> date:
    """First month kept: events of earlier months are deleted."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def apply_retention(
    *, stores: Stores, policy: dict[str, int], today: date | None = None, actor: str = "retention-job"
) -> RetentionResult:
    """Delete what each dataset's policy (dataset → months to keep) no longer allows, atomically."""
    today = today or datetime.now(UTC).date()
    _check_policy(policy)
    partners = _dataset_partners(stores)
    plans: list[_Plan] = []
    try:
        for dataset in sorted(set(policy) & set(partners)):
            erasure = DatasetErasure(dataset, policy[dataset], cut_off(today, policy[dataset]))
            plans.append(_plan(stores, _Plan(erasure, partners[dataset])))
    except BaseException:
        _discard(plans)
        raise
    due = [plan for plan in plans if plan.replacements]
    if due:
        _commit(stores, due, actor)
    return RetentionResult(today, [p.erasure for p in plans], sorted(set(policy) - set(partners)))


def _check_policy(policy: dict[str, int]) -> None:
    bad = [f"{name}: {months!r}" for name, months in policy.items()
           if isinstance(months, bool) or not isinstance(months, int) or months < 1]
    if bad:
        raise UserError(f"Retention must be a whole number of months, at least 1 ({'; '.join(bad)}).",
                        hint="Give each dataset the months of data to keep, for example `police-uk-street: 36`.")


def _dataset_partners(stores: Stores) -> dict[str, str | None]:
    with stores.sessions() as session:
        declared = dict(session.execute(select(DatasetRow.code, DatasetRow.partner_code)).all())
        stored = session.scalars(select(SegmentRow.dataset).where(SegmentRow.active).distinct()).all()
    return {**{code: None for code in stored}, **declared}


def _active(stores: Stores, dataset: str, table: str) -> list[SegmentRow]:
    with stores.sessions() as session:
        query = select(SegmentRow).where(SegmentRow.dataset == dataset, SegmentRow.table == table, SegmentRow.active)
        return list(session.scalars(query.order_by(SegmentRow.path)).all())


def _plan(stores: Stores, plan: _Plan) -> _Plan:
    for segment in _active(stores, plan.erasure.dataset, "events"):
        _plan_events(stores, plan, segment)
    for segment in _active(stores, plan.erasure.dataset, "person_keys"):
        _plan_person_keys(stores, plan, segment)
    _plan_quarantine(stores, plan, _active(stores, plan.erasure.dataset, "quarantine"))
    return plan


def _plan_events(stores: Stores, plan: _Plan, segment: SegmentRow) -> None:
    table = pq.read_table(segment.path)
    month = pa.scalar(plan.erasure.cut_off, pa.date32())
    due = pc.fill_null(pc.less(table["occurred_month"], month), False)
    deleted = pc.sum(due).as_py() or 0
    if deleted < table.num_rows:
        plan.live_loads.add(segment.load_id)
    if deleted:
        plan.erased_ids[segment.load_id] += table.filter(due)["event_id"].to_pylist()
        plan.erasure.events_deleted += deleted
        _replace(stores, plan, segment, table.filter(pc.invert(due)))


def _plan_person_keys(stores: Stores, plan: _Plan, segment: SegmentRow) -> None:
    erased = plan.erased_ids.get(segment.load_id)
    if not erased:
        return
    table = pq.read_table(segment.path)
    due = pc.is_in(table["event_id"], value_set=pa.array(erased, pa.string()))
    deleted = pc.sum(due).as_py() or 0
    if deleted:
        plan.erasure.person_keys_deleted += deleted
        _replace(stores, plan, segment, table.filter(pc.invert(due)))


def _plan_quarantine(stores: Stores, plan: _Plan, segments: list[SegmentRow]) -> None:
    """A quarantine segment holds one load's rejected rows; it goes whole when its load has no events left."""
    with stores.sessions() as session:
        started = dict(session.execute(select(LoadRow.id, LoadRow.started_at)).all())
    for segment in segments:
        if segment.load_id in plan.live_loads:
            continue
        began = started.get(segment.load_id)
        if segment.load_id in plan.erased_ids or (began is not None and began.date() < plan.erasure.cut_off):
            plan.erasure.quarantine_deleted += segment.rows
            _replace(stores, plan, segment, None)


def _replace(stores: Stores, plan: _Plan, segment: SegmentRow, kept: pa.Table | None) -> None:
    if kept is None or kept.num_rows == 0:
        plan.replacements[segment.path] = None
        plan.erasure.segments_removed += 1
        return
    path = stores.analytic.write_segment(segment.table, segment.dataset, kept)
    plan.replacements[segment.path] = StagedSegment(segment.table, segment.dataset, segment.partition_key, path,
                                                    kept.num_rows)
    plan.erasure.segments_replaced += 1


def _commit(stores: Stores, plans: list[_Plan], actor: str) -> None:
    entries: list[AuditEntry] = []

    def record_erasures(session: Session) -> None:
        for plan in plans:
            plan.erasure.loads_erased = sorted(set(plan.erased_ids) - plan.live_loads)
            _mark_erased(session, plan.erasure.loads_erased)
            entry = audit.record_in(session, action=AuditAction.ERASURE, actor=actor, partner=plan.partner,
                                    purpose="retention", what=plan.erasure.audit_what())
            plan.erasure.audit_sequence = entry.sequence
            entries.append(entry)

    replacements = {old: new for plan in plans for old, new in plan.replacements.items()}
    try:
        stores.replace_segments(replacements, also=record_erasures)
    except BaseException:
        _discard(plans)
        raise
    audit.write_anchor_file(stores=stores, entry=entries[-1])


def _mark_erased(session: Session, load_ids: list[str]) -> None:
    """A load none of whose events remain leaves the list of active loads; its record stays."""
    if load_ids:
        session.execute(update(LoadRow).where(LoadRow.id.in_(load_ids), LoadRow.status == "active")
                        .values(status="erased"))


def _discard(plans: list[_Plan]) -> None:
    for plan in plans:
        for new in plan.replacements.values():
            if new is not None:
                Path(new.path).unlink(missing_ok=True)

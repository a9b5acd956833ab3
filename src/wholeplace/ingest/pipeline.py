"""The one ingest pipeline every adapter shares.

read → validate → quarantine → map → pseudonymise → place → store → record provenance.

A command's files are staged first and committed together: if any file is refused, the
staged files are removed and nothing a reader can see has changed. A file whose content
and mapping version are already loaded is reported as unchanged and adds nothing.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from wholeplace.errors import InputError, Problem, UserError
from wholeplace.geography import placement
from wholeplace.governance import audit
from wholeplace.governance.pseudonymise import Pseudonymiser, load_key
from wholeplace.ingest.reading import SourceTable, file_sha256
from wholeplace.model.events import EVENT_FIELDS, EVENT_SCHEMA, PERSON_KEY_SCHEMA, QUARANTINE_SCHEMA
from wholeplace.model.fields import FieldType
from wholeplace.model.partners import Partner
from wholeplace.settings import Settings
from wholeplace.store.operational import DatasetRow, LoadRow, PartnerRow, utcnow
from wholeplace.store.stores import StagedLoad, StagedSegment, Stores

# Written out rather than converted from the Arrow schema: polars' Arrow conversion imports pandas,
# which would add seconds to every command's start.
_POLARS_TYPES: dict[FieldType, pl.DataType] = {
    FieldType.TEXT: pl.String(),
    FieldType.INTEGER: pl.Int64(),
    FieldType.DECIMAL: pl.Float64(),
    FieldType.BOOLEAN: pl.Boolean(),
    FieldType.TIMESTAMP: pl.Datetime("us"),
    FieldType.DATE: pl.Date(),
    FieldType.MONTH: pl.Date(),
}
EVENT_POLARS_SCHEMA = {spec.name: _POLARS_TYPES[spec.type] for spec in EVENT_FIELDS}
STAGES = ("read", "validate", "map", "pseudonymise", "place", "store")


@dataclass(frozen=True)
class DatasetInfo:
    code: str
    kind: str
    title: str
    description: str = ""


@dataclass
class MappedFile:
    """What an adapter makes of one source file."""

    partner: Partner
    dataset: DatasetInfo
    events: pl.DataFrame  # canonical event columns; pipeline fills load_id and dataset
    quarantine: pl.DataFrame  # file, line, column, reason, record
    person_keys: pl.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


class Adapter(ABC):
    """A source format. Subclasses read a file and map it to canonical events."""

    name: str = "adapter"

    @property
    @abstractmethod
    def mapping_version(self) -> str: ...

    @property
    def holds_identifiers(self) -> bool:
        return False

    @abstractmethod
    def read(self, path: Path) -> SourceTable: ...

    @abstractmethod
    def map(self, source: SourceTable, *, pseudonymiser: Pseudonymiser | None) -> MappedFile: ...


class Reporter:
    """Progress callbacks; the CLI shows them as Rich progress bars."""

    def start_file(self, name: str, stages: int) -> None: ...
    def stage(self, name: str) -> None: ...
    def finish_file(self) -> None: ...


@dataclass
class LoadResult:
    file: str
    status: str  # stored / unchanged
    load_id: str | None
    dataset: str | None
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_unlocated: int
    area_check: dict[str, Any]
    reasons: list[tuple[str, int, list[int]]]  # reason, count, first lines
    warnings: list[str]


@dataclass
class _Prepared:
    """A file read, validated, mapped and pseudonymised, waiting to be placed and stored."""

    source: SourceTable
    mapped: MappedFile
    events: pl.DataFrame
    load_id: str
    started: datetime


def load_files(
    *,
    stores: Stores,
    adapter: Adapter,
    paths: Sequence[Path],
    settings: Settings,
    strict: bool = False,
    reporter: Reporter | None = None,
    pseudonymiser: Pseudonymiser | None = None,
    actor: str = "system",
) -> list[LoadResult]:
    """Load files through ``adapter`` as one atomic command, recorded in the audit log as a collection.

    Files are mapped one by one; their points are then placed together (each distinct
    point once), each file's supplied areas are checked, and everything is staged and
    committed in one transaction.
    """
    reporter = reporter or Reporter()
    if adapter.holds_identifiers and pseudonymiser is None:
        pseudonymiser = load_key(settings.partnership_key_file)
    prepared: list[_Prepared] = []
    results: dict[int, LoadResult] = {}
    staged: list[StagedLoad] = []
    path = paths[0] if paths else Path(".")
    try:
        for index, path in enumerate(paths):
            reporter.start_file(path.name, len(STAGES))
            outcome = _prepare(stores, adapter, path, settings, strict, reporter, pseudonymiser)
            if isinstance(outcome, LoadResult):
                results[index] = outcome
                reporter.finish_file()
            else:
                prepared.append(outcome)
        _place_all(stores, prepared)
        staged = _stage_all(stores, adapter, prepared, reporter)
    except BaseException as exc:
        _discard(staged)
        if isinstance(exc, UserError):
            _record_failure(stores, adapter, path, exc)
        raise
    entries: list[audit.AuditEntry] = []
    stores.commit_loads(staged, also=lambda session: entries.extend(_record_collection(session, staged, actor)))
    if entries:
        audit.write_anchor_file(stores=stores, entry=entries[-1])
    stored = iter(_result(item, p.mapped) for item, p in zip(staged, prepared, strict=True))
    return [results[i] if i in results else next(stored) for i in range(len(paths))]


def _prepare(
    stores: Stores,
    adapter: Adapter,
    path: Path,
    settings: Settings,
    strict: bool,
    reporter: Reporter,
    pseudonymiser: Pseudonymiser | None,
) -> _Prepared | LoadResult:
    started = utcnow()
    if path.exists() and (previous := _already_loaded(stores, path, adapter.mapping_version)):
        return _unchanged(path, previous)
    source = adapter.read(path)
    _refuse_if_no_rows(source)
    reporter.stage("read")
    mapped = adapter.map(source, pseudonymiser=pseudonymiser)
    reporter.stage("validate")
    _refuse_if_mostly_bad(source, mapped, settings, strict)
    reporter.stage("map")
    load_id = uuid.uuid4().hex
    events = _finish_events(mapped, load_id, adapter.mapping_version)
    reporter.stage("pseudonymise")
    return _Prepared(source, mapped, events, load_id, started)


def _record_collection(session: Session, staged: list[StagedLoad], actor: str) -> list[audit.AuditEntry]:
    return [_collection_entry(session, item, actor) for item in staged]


def _collection_entry(session: Session, item: StagedLoad, actor: str) -> audit.AuditEntry:
    load = item.load
    return audit.record_in(
        session,
        action=audit.AuditAction.COLLECTION,
        actor=actor,
        partner=item.partner.code if item.partner else None,
        what={
            "dataset": load.dataset,
            "load_id": load.id,
            "file": load.file_name,
            "sha256": load.file_sha256,
            "mapping_version": load.mapping_version,
            "rows_read": load.rows_read,
            "rows_stored": load.rows_stored,
            "rows_quarantined": load.rows_quarantined,
        },
    )


def _place_all(stores: Stores, prepared: list[_Prepared]) -> None:
    if prepared:
        points = pl.concat([p.events.select("longitude", "latitude") for p in prepared])
        placement.place_points(stores=stores, points=points)


def _stage_all(stores: Stores, adapter: Adapter, prepared: list[_Prepared], reporter: Reporter) -> list[StagedLoad]:
    staged: list[StagedLoad] = []
    con = stores.connect() if prepared else None
    for item in prepared:
        reporter.stage("place")
        area_check = placement.check_source_areas(stores=stores, events=item.events, con=con)
        staged.append(
            _stage(stores, adapter, item.source, item.mapped, item.events, item.load_id, item.started, area_check)
        )
        reporter.stage("store")
        reporter.finish_file()
    return staged


def _already_loaded(stores: Stores, path: Path, mapping_version: str) -> LoadRow | None:
    sha, _ = file_sha256(path)
    with stores.sessions() as session:
        return session.scalars(
            select(LoadRow).where(
                LoadRow.file_sha256 == sha,
                LoadRow.mapping_version == mapping_version,
                LoadRow.status == "active",
            )
        ).first()


def _refuse_if_no_rows(source: SourceTable) -> None:
    """A header with no rows is almost always a failed export; loading it would replace data with nothing."""
    if source.rows_read == 0:
        raise InputError(
            [Problem(source.file, "the file has a header row but no data rows", line=2)],
            hint="Check that the export finished and covers the period you meant.",
        )


def _refuse_if_mostly_bad(source: SourceTable, mapped: MappedFile, settings: Settings, strict: bool) -> None:
    bad = mapped.quarantine.height
    read = source.rows_read
    if bad == 0 or read == 0:
        return
    if strict or bad / read > settings.max_quarantine_share:
        sample = mapped.quarantine.sort("line").head(10)
        problems = [
            Problem(source.file, str(r["reason"]), line=r["line"], column=r["column"])
            for r in sample.iter_rows(named=True)
        ]
        if bad > len(problems):
            problems.append(Problem(source.file, f"… and {bad - len(problems):,} more rows like these"))
        why = (
            "--strict refuses any file with a bad row"
            if strict
            else f"{bad:,} of {read:,} rows failed, more than the "
            f"{settings.max_quarantine_share:.0%} allowed (WHOLEPLACE_MAX_QUARANTINE_SHARE)"
        )
        raise InputError(
            problems,
            hint=f"The file was refused whole because {why}. "
            "Most rows failing usually means the wrong mapping or a changed export.",
        )


def _finish_events(mapped: MappedFile, load_id: str, mapping_version: str) -> pl.DataFrame:
    events = mapped.events.with_columns(
        pl.lit(load_id).alias("load_id"),
        pl.lit(mapped.dataset.code).alias("dataset"),
        pl.lit(mapped.partner.code).alias("partner"),
        pl.lit(mapping_version).alias("mapping_version"),
    )
    types = EVENT_POLARS_SCHEMA
    events = events.with_columns(
        pl.lit(None, dtype=types[name]).alias(name) for name in types if name not in events.columns
    )
    return events.select(pl.col(name).cast(types[name]) for name in types)


def _stage(
    stores: Stores,
    adapter: Adapter,
    source: SourceTable,
    mapped: MappedFile,
    events: pl.DataFrame,
    load_id: str,
    started: datetime,
    area_check: dict[str, Any],
) -> StagedLoad:
    dataset = mapped.dataset.code
    segments: list[StagedSegment] = []
    partitions = sorted(events["partition_key"].unique().to_list())
    for part, frame in events.partition_by("partition_key", as_dict=True).items():
        segments.append(_write(stores, "events", dataset, str(part[0]), frame, EVENT_SCHEMA.names))
    if mapped.person_keys is not None and mapped.person_keys.height:
        keys = mapped.person_keys.with_columns(pl.lit(dataset).alias("dataset"), pl.lit(load_id).alias("load_id"))
        keys = keys.join(events.select("event_id", "partition_key"), on="event_id")
        for part, frame in keys.partition_by("partition_key", as_dict=True).items():
            segments.append(_write(stores, "person_keys", dataset, str(part[0]), frame, PERSON_KEY_SCHEMA.names))
    if mapped.quarantine.height:
        quarantine = mapped.quarantine.with_columns(pl.lit(dataset).alias("dataset"), pl.lit(load_id).alias("load_id"))
        key = "quarantine:" + ("|".join(partitions) or source.path.name)
        segments.append(_write(stores, "quarantine", dataset, key, quarantine, QUARANTINE_SCHEMA.names))
    unlocated = int((events["location_status"] == "unlocated").sum())
    load = LoadRow(
        id=load_id,
        dataset=dataset,
        adapter=adapter.name,
        file_name=source.path.name,
        file_path=str(source.path.resolve()),
        file_sha256=source.sha256,
        file_bytes=source.size,
        mapping_version=adapter.mapping_version,
        status="active",
        started_at=started,
        finished_at=utcnow(),
        rows_read=source.rows_read,
        rows_stored=events.height,
        rows_quarantined=mapped.quarantine.height,
        rows_unlocated=unlocated,
        partitions=partitions,
        area_check=area_check,
        message="; ".join(mapped.warnings),
    )
    partner = PartnerRow(code=mapped.partner.code, name=mapped.partner.name, kind=str(mapped.partner.kind))
    dataset_row = DatasetRow(
        code=dataset,
        partner_code=mapped.partner.code,
        kind=mapped.dataset.kind,
        title=mapped.dataset.title,
        description=mapped.dataset.description,
    )
    return StagedLoad(load=load, segments=segments, partner=partner, dataset=dataset_row)


def _write(
    stores: Stores, table: str, dataset: str, partition: str, frame: pl.DataFrame, columns: list[str]
) -> StagedSegment:
    path = stores.analytic.write_segment(table, dataset, frame.select(columns).to_arrow())
    return StagedSegment(table, dataset, partition, path, frame.height)


def _result(item: StagedLoad, mapped: MappedFile) -> LoadResult:
    return _from_load(item.load, "stored", summarise_reasons(mapped.quarantine), mapped.warnings)


def _from_load(
    load: LoadRow, status: str, reasons: list[tuple[str, int, list[int]]], warnings: list[str]
) -> LoadResult:
    return LoadResult(
        file=load.file_name,
        status=status,
        load_id=load.id,
        dataset=load.dataset,
        rows_read=load.rows_read,
        rows_stored=load.rows_stored,
        rows_quarantined=load.rows_quarantined,
        rows_unlocated=load.rows_unlocated,
        area_check=load.area_check,
        reasons=reasons,
        warnings=warnings,
    )


def summarise_reasons(quarantine: pl.DataFrame, limit: int = 10) -> list[tuple[str, int, list[int]]]:
    if quarantine.height == 0:
        return []
    grouped = (
        quarantine.group_by("reason")
        .agg(pl.len().alias("n"), pl.col("line").sort().head(5).alias("lines"))
        .sort("n", descending=True)
        .head(limit)
    )
    return [(r["reason"], r["n"], r["lines"]) for r in grouped.iter_rows(named=True)]


def _unchanged(path: Path, previous: LoadRow) -> LoadResult:
    result = _from_load(previous, "unchanged", [], [])
    result.file = path.name
    return result


def _discard(staged: list[StagedLoad]) -> None:
    for item in staged:
        for seg in item.segments:
            seg.path.unlink(missing_ok=True)


def _record_failure(stores: Stores, adapter: Adapter, path: Path, exc: UserError) -> None:
    """Failed attempts are kept for the data page; they hold no data."""
    sha, size = file_sha256(path) if path.exists() and path.is_file() else ("", 0)
    now = utcnow()
    stores.record_failed_load(
        LoadRow(
            id=uuid.uuid4().hex,
            dataset="",
            adapter=adapter.name,
            file_name=path.name,
            file_path=str(path),
            file_sha256=sha,
            file_bytes=size,
            mapping_version=adapter.mapping_version,
            status="failed",
            started_at=now,
            finished_at=now,
            message=str(exc)[:4000],
        )
    )

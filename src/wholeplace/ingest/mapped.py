"""Any partner's event extract, loaded through a declarative mapping file.

The mapping file (docs/mapping-files.md) says which column holds what; this adapter
applies it to a whole file at once with polars. Rows that cannot be mapped (a timestamp or
coordinate that does not parse, a category not in the table, no time at all) go to
quarantine with their line, column and reason; identifier columns are pseudonymised at
the door and replaced by "[withheld]" in quarantine records.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from wholeplace.governance.pseudonymise import Pseudonymiser, load_key
from wholeplace.ingest.checks import RowChecks, quarantine_frame, ragged_frame
from wholeplace.ingest.columns import require_columns
from wholeplace.ingest.mapped_columns import map_categories, map_flags, map_location, map_times
from wholeplace.ingest.mapped_identifiers import pseudonymise_rows
from wholeplace.ingest.mapping_file import Mapping, load_mapping
from wholeplace.ingest.mapping_spec import ColumnRef, identifier_columns, missing_values, used_columns
from wholeplace.ingest.pipeline import Adapter, DatasetInfo, MappedFile
from wholeplace.ingest.reading import LINE_COLUMN, SourceTable, read_source
from wholeplace.model.partners import Partner

WITHHELD = "[withheld]"


class MappedAdapter(Adapter):
    """A source format described by a mapping file rather than by code."""

    name = "mapping"

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.spec = mapping.spec

    @classmethod
    def from_file(cls, path: Path) -> MappedAdapter:
        return cls(load_mapping(path))

    @property
    def mapping_version(self) -> str:
        return self.mapping.version

    @property
    def holds_identifiers(self) -> bool:
        return bool(identifier_columns(self.spec))

    def read(self, path: Path) -> SourceTable:
        source = read_source(path, encoding=self.spec.source.encoding, delimiter=self.spec.source.delimiter)
        what = f"The mapping '{self.spec.mapping}' ({self.mapping.path})"
        require_columns(source, used_columns(self.spec), what=what)
        return source

    def map(self, source: SourceTable, *, pseudonymiser: Pseudonymiser | None) -> MappedFile:
        if self.holds_identifiers and pseudonymiser is None:
            pseudonymiser = load_key(None)  # raises the error that says how to configure a key
        rows = _blank_missing(source.rows, missing_values(self.spec))
        checks = RowChecks(rows.height)
        columns = map_times(self.spec, rows, checks)
        columns |= map_categories(self.spec, self.mapping.tables, rows, checks)
        columns |= map_location(self.spec, rows, checks)
        columns |= map_flags(self.spec, rows, checks, columns)
        failed = checks.failed()
        good = {name: series.filter(~failed) for name, series in columns.items()}
        events, person_keys = self._events(source, rows.filter(~failed), good, pseudonymiser)
        return MappedFile(self._partner(), self._dataset(), events, self._quarantine(source, checks),
                          person_keys, self._warnings(source))

    def _partner(self) -> Partner:
        partner = self.spec.partner
        return Partner(partner.code, partner.name, partner.kind)

    def _dataset(self) -> DatasetInfo:
        dataset = self.spec.dataset
        return DatasetInfo(dataset.code, dataset.kind, dataset.title, dataset.description)

    def _events(
        self, source: SourceTable, rows: pl.DataFrame, columns: dict[str, pl.Series],
        pseudonymiser: Pseudonymiser | None,
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        spec = self.spec
        partition = (pl.Series([source.path.name] * rows.height, dtype=pl.String) if spec.partition == "file"
                     else columns["occurred_month"].dt.strftime("%Y-%m"))
        event_ids = spec.dataset.code + "/" + partition + "#" + rows[LINE_COLUMN].cast(pl.String)
        events = pl.DataFrame({
            "event_id": event_ids,
            "kind": pl.Series([str(spec.event_kind)] * rows.height, dtype=pl.String),
            "partition_key": partition,
            "source_line": rows[LINE_COLUMN],
            "source_record_id": _column(rows, spec.record_id),
            "outcome": _column(rows, spec.outcome),
            "priority": _column(rows, spec.priority),
            "attributes": _attributes(rows, self._attribute_columns(source)),
            **columns,
        })
        if pseudonymiser is None or not self.holds_identifiers:
            return events, None
        tokens, person_keys = pseudonymise_rows(spec, rows, event_ids, pseudonymiser)
        return events.with_columns(**tokens), person_keys

    def _attribute_columns(self, source: SourceTable) -> list[str]:
        if self.spec.attributes is not None:
            return self.spec.attributes
        used = set(used_columns(self.spec))
        return [name for name in source.header if name not in used]

    def _quarantine(self, source: SourceTable, checks: RowChecks) -> pl.DataFrame:
        """Failed rows as the source gave them, except identifiers, which are withheld."""
        withheld = source.rows.with_columns(
            pl.when(pl.col(name).is_not_null()).then(pl.lit(WITHHELD)).alias(name)
            for name in identifier_columns(self.spec)
        )
        return pl.concat([
            quarantine_frame(file=source.file, rows=withheld, checks=checks, record_columns=source.header),
            ragged_frame(source.file, source.ragged, withhold=self.holds_identifiers),
        ])

    def _warnings(self, source: SourceTable) -> list[str]:
        if self.spec.attributes is None:
            return []
        kept = set(used_columns(self.spec)) | set(self.spec.attributes) | set(identifier_columns(self.spec))
        dropped = [name for name in source.header if name not in kept]
        return [f"columns not named in the mapping were not kept: {', '.join(dropped)}"] if dropped else []


def _blank_missing(rows: pl.DataFrame, missing: dict[str, set[str]]) -> pl.DataFrame:
    """Values a mapping declares as meaning "not given" (such as -1) become null."""
    return rows.with_columns(
        pl.when(pl.col(name).str.strip_chars().is_in(sorted(values))).then(None).otherwise(pl.col(name)).alias(name)
        for name, values in missing.items()
    )


def _column(rows: pl.DataFrame, ref: ColumnRef | None) -> pl.Series:
    return rows[ref.column] if ref else pl.Series([None] * rows.height, dtype=pl.String)


def _attributes(rows: pl.DataFrame, names: list[str]) -> pl.Series:
    if not names:
        return pl.Series([None] * rows.height, dtype=pl.String)
    return rows.select(pl.struct(names).struct.json_encode()).to_series()

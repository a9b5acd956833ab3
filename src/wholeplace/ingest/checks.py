"""Row checks: the reasons a row is quarantined, gathered column by column."""

from __future__ import annotations

import json

import polars as pl

from wholeplace.ingest.reading import LINE_COLUMN, RaggedRow


class RowChecks:
    """Collects (failed mask, column, reason) triples and resolves them per row."""

    def __init__(self, height: int) -> None:
        self.height = height
        self._columns: list[pl.Series] = []
        self._reasons: list[pl.Series] = []

    def add(self, failed: pl.Series, column: str, reason: str | pl.Series) -> None:
        if not failed.any():
            return
        texts = reason if isinstance(reason, pl.Series) else pl.Series([reason] * self.height)
        index = len(self._reasons)
        self._reasons.append(pl.select(pl.when(failed).then(texts).otherwise(None)).to_series().alias(f"r{index}"))
        self._columns.append(
            pl.select(pl.when(failed).then(pl.lit(column)).otherwise(None)).to_series().alias(f"c{index}")
        )

    def failed(self) -> pl.Series:
        if not self._reasons:
            return pl.Series("failed", [False] * self.height, dtype=pl.Boolean)
        return pl.select(pl.any_horizontal([r.is_not_null() for r in self._reasons])).to_series()

    def resolve(self) -> pl.DataFrame:
        """Per row: the first failing column and every reason, joined."""
        if not self._reasons:
            return pl.DataFrame(
                {
                    "column": pl.Series([None] * self.height, dtype=pl.String),
                    "reason": pl.Series([None] * self.height, dtype=pl.String),
                }
            )
        return pl.DataFrame(self._columns + self._reasons).select(
            pl.coalesce([c.name for c in self._columns]).alias("column"),
            pl.concat_str([r.name for r in self._reasons], separator="; ", ignore_nulls=True).alias("reason"),
        )


def quarantine_frame(*, file: str, rows: pl.DataFrame, checks: RowChecks, record_columns: list[str]) -> pl.DataFrame:
    """Quarantine rows for the failed rows of ``rows`` (identifiers already replaced)."""
    failed = checks.failed()
    resolved = checks.resolve().filter(failed)
    bad = rows.filter(failed)
    record = (
        bad.select(pl.struct(record_columns).struct.json_encode().alias("record"))
        if record_columns
        else (pl.DataFrame({"record": pl.Series(["{}"] * bad.height, dtype=pl.String)}))
    )
    return pl.DataFrame(
        {
            "file": pl.Series([file] * bad.height, dtype=pl.String),
            "line": bad[LINE_COLUMN],
            "column": resolved["column"],
            "reason": resolved["reason"],
            "record": record["record"],
        }
    )


def ragged_frame(file: str, ragged: list[RaggedRow], *, withhold: bool) -> pl.DataFrame:
    """Quarantine rows for records whose field count differs from the header's.

    Where the source holds identifiers, a ragged row's values are withheld: with fields
    shifted, there is no telling which of them is an identifier.
    """
    records = [
        json.dumps({"fields": ["[withheld: source holds identifiers]"] if withhold else row.fields}) for row in ragged
    ]
    return pl.DataFrame(
        {
            "file": pl.Series([file] * len(ragged), dtype=pl.String),
            "line": pl.Series([r.line for r in ragged], dtype=pl.Int64),
            "column": pl.Series([None] * len(ragged), dtype=pl.String),
            "reason": pl.Series(
                [
                    f"the row has {len(r.fields)} fields but the header has {r.expected}; "
                    "a delimiter or quote is probably missing or extra"
                    for r in ragged
                ],
                dtype=pl.String,
            ),
            "record": pl.Series(records, dtype=pl.String),
        }
    )

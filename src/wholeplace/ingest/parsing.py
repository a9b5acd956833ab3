"""Vectorised parsing of text columns into typed values, with the failures kept.

Each parser returns the parsed column and a mask of rows whose non-empty text did not
parse, so the pipeline can quarantine exactly those rows with the column and reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass
class Parsed:
    values: pl.Series
    failed: pl.Series  # Boolean: text present but not parseable / out of range


def parse_timestamp(text: pl.Series, formats: list[str]) -> Parsed:
    stripped = text.str.strip_chars()
    candidates = [stripped.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in formats]
    values = pl.select(pl.coalesce(candidates)).to_series() if candidates else stripped.cast(pl.Datetime("us"))
    failed = stripped.is_not_null() & (stripped != "") & values.is_null()
    return Parsed(values.alias(text.name), failed)


def parse_month(text: pl.Series) -> Parsed:
    """Months written ``YYYY-MM`` (as data.police.uk does) or ``YYYY-MM-DD``."""
    stripped = text.str.strip_chars()
    month = stripped.str.strptime(pl.Date, "%Y-%m", strict=False, exact=True)
    day = stripped.str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True).dt.truncate("1mo")
    values = pl.select(pl.coalesce([month, day])).to_series()
    failed = stripped.is_not_null() & values.is_null()
    return Parsed(values.alias(text.name), failed)


def parse_decimal(text: pl.Series, *, minimum: float | None = None, maximum: float | None = None) -> Parsed:
    stripped = text.str.strip_chars()
    values = stripped.cast(pl.Float64, strict=False)
    failed = stripped.is_not_null() & (stripped != "") & (values.is_null() | values.is_nan())
    if minimum is not None:
        failed = failed | (values < minimum).fill_null(False)
    if maximum is not None:
        failed = failed | (values > maximum).fill_null(False)
    values = pl.Series(text.name, values).set(failed, None) if failed.any() else values
    return Parsed(values.alias(text.name), failed)


TRUE_WORDS = ("y", "yes", "true", "t", "1")
FALSE_WORDS = ("n", "no", "false", "f", "0")


def parse_boolean(text: pl.Series) -> Parsed:
    lowered = text.str.strip_chars().str.to_lowercase()
    values = pl.select(
        pl.when(lowered.is_in(TRUE_WORDS)).then(True).when(lowered.is_in(FALSE_WORDS)).then(False).otherwise(None)
    ).to_series()
    failed = lowered.is_not_null() & (lowered != "") & values.is_null()
    return Parsed(values.alias(text.name), failed)

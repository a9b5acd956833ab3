"""Versioned category tables: CSV files of ``source_value,category``.

A table's version is the hash of its content, recorded with every event mapped through
it, so a figure can always say which mapping produced it.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from wholeplace.errors import InputError, Problem
from wholeplace.model.categories import CATEGORIES


@dataclass(frozen=True)
class CategoryTable:
    path: Path
    version: str
    mapping: dict[str, str]  # normalised source value → canonical category

    def lookup(self, value: str | None) -> str | None:
        return None if value is None else self.mapping.get(normalise_source_value(value))

    def map_series(self, values: pl.Series) -> pl.Series:
        """Canonical categories for a column (null where unmapped); each distinct value looked up once."""
        return map_distinct(values, self.lookup)


def map_distinct(values: pl.Series, function: Callable[[str], str | None]) -> pl.Series:
    """Apply a Python function to each distinct value of a text column, vectorised back out."""
    lookup = {value: function(value) for value in values.unique().drop_nulls().to_list()}
    return values.replace_strict(lookup, default=None, return_dtype=pl.String)


def normalise_source_value(value: str) -> str:
    return " ".join(value.strip().split()).casefold()


def load_category_table(path: Path) -> CategoryTable:
    if not path.is_file():
        raise InputError(
            [Problem(str(path), "category table not found")], hint="Give the path relative to the mapping file."
        )
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not {"source_value", "category"} <= set(reader.fieldnames):
        raise InputError([Problem(str(path), "the header must have columns source_value and category", line=1)])
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for line, row in enumerate(reader, start=2):
        source = normalise_source_value(row["source_value"] or "")
        category = (row["category"] or "").strip()
        if category not in CATEGORIES:
            problems.append(
                Problem(
                    str(path),
                    f"'{category}' is not a Wholeplace category (see docs/categories.md)",
                    line=line,
                    column="category",
                )
            )
        elif source in mapping and mapping[source] != category:
            problems.append(
                Problem(
                    str(path),
                    f"'{row['source_value']}' is mapped twice, to {mapping[source]} and {category}",
                    line=line,
                    column="source_value",
                )
            )
        mapping[source] = category
    if problems:
        raise InputError(problems)
    return CategoryTable(path, hashlib.sha256(raw).hexdigest()[:10], mapping)

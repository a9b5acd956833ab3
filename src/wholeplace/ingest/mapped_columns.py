"""Mapping a file's text columns to canonical event columns, a mapping key at a time.

Each function takes the rows (all text), adds a check to ``checks`` for every row it
cannot map (with the column and a reason that says what was expected), and returns the
canonical columns for all rows; the adapter keeps only the rows no check failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
from pyproj import Transformer

from wholeplace.ingest.category_tables import CategoryTable
from wholeplace.ingest.checks import RowChecks
from wholeplace.ingest.mapping_spec import CategoryRef, FlagRule, MappingSpec, TimestampRef, precision_of
from wholeplace.ingest.parsing import parse_boolean, parse_decimal, parse_timestamp

BRITISH_NATIONAL_GRID = (0, 700_000), (0, 1_300_000)


def map_times(spec: MappingSpec, rows: pl.DataFrame, checks: RowChecks) -> dict[str, pl.Series]:
    """Timestamps, the month the event occurred in and the precision of its time."""
    refs = {f"timestamps.{name}": ref for name, ref in spec.timestamps if ref is not None}
    if spec.occurred_month is not None:
        refs["occurred_month"] = spec.occurred_month
    parsed = _parse_times(refs, rows, checks)
    occurrence = [key for key in ("timestamps.occurred_at", "timestamps.received_at", "occurred_month") if key in refs]
    months = [parsed[key].values.dt.date().dt.truncate("1mo") for key in occurrence]
    known = [parsed[key].precision if key != "occurred_month" else pl.Series(["month"] * rows.height)
             for key in occurrence]
    occurred_month = pl.select(pl.coalesce(months)).to_series().alias("occurred_month")
    _check_occurrence(occurred_month, [refs[key] for key in occurrence], [parsed[key].failed for key in occurrence],
                      checks)
    return {key.removeprefix("timestamps."): parsed[key].values.alias(key.removeprefix("timestamps."))
            for key in refs if key != "occurred_month"} | {
        "occurred_month": occurred_month,
        "time_precision": pl.select(pl.coalesce(known)).to_series().alias("time_precision"),
    }


@dataclass
class _Times:
    values: pl.Series
    precision: pl.Series  # of the format each row matched
    failed: pl.Series


def _parse_times(refs: dict[str, TimestampRef], rows: pl.DataFrame, checks: RowChecks) -> dict[str, _Times]:
    """Each distinct (column, formats) is parsed and checked once, naming every key that uses it."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for key, ref in refs.items():
        groups.setdefault((ref.column, tuple(ref.formats)), []).append(key)
    parsed: dict[str, _Times] = {}
    for (column, formats), keys in groups.items():
        times = _parse_time(rows[column], list(formats))
        expected = " or ".join(f"'{fmt}'" for fmt in formats)
        checks.add(times.failed, column, f"{column} is not a date in the format {expected} ({', '.join(keys)})")
        parsed |= dict.fromkeys(keys, times)
    return parsed


def _parse_time(text: pl.Series, formats: list[str]) -> _Times:
    parsed = [parse_timestamp(text, [fmt]) for fmt in formats]
    values = pl.select(pl.coalesce([p.values for p in parsed])).to_series()
    precision = pl.select(pl.coalesce([
        pl.when(p.values.is_not_null()).then(pl.lit(precision_of(fmt))) for p, fmt in zip(parsed, formats, strict=True)
    ])).to_series()
    return _Times(values, precision, pl.select(pl.all_horizontal([p.failed for p in parsed])).to_series())


def _check_occurrence(
    month: pl.Series, refs: list[TimestampRef], failures: list[pl.Series], checks: RowChecks
) -> None:
    """A row whose occurrence columns are all blank (rather than unparsable) has no time at all."""
    unparsed = pl.select(pl.any_horizontal(failures)).to_series()
    names = " and ".join(dict.fromkeys(ref.column for ref in refs))
    checks.add(month.is_null() & ~unparsed, refs[0].column, f"no time the event occurred: {names} blank")


def map_categories(
    spec: MappingSpec, tables: dict[str, CategoryTable], rows: pl.DataFrame, checks: RowChecks
) -> dict[str, pl.Series]:
    """Canonical categories; with opening and closing categories, the closing one is the category."""
    mapped: dict[str, pl.Series] = {}
    for key in ("category", "category_opening", "category_closing"):
        ref: CategoryRef | None = getattr(spec, key)
        if ref is not None:
            mapped[key] = _categorise(ref, tables[key], rows, checks).alias(key)
    final: CategoryRef = spec.category or spec.category_closing  # type: ignore[assignment]
    category = mapped.get("category", mapped.get("category_closing"))
    assert category is not None  # the mapping file checks guarantee one of them
    return mapped | {"category": category.alias("category"), "category_closing": category.alias("category_closing"),
                     "source_category": rows[final.column].alias("source_category")}


def _categorise(ref: CategoryRef, table: CategoryTable, rows: pl.DataFrame, checks: RowChecks) -> pl.Series:
    text = rows[ref.column]
    category = table.map_series(text)
    blank = text.is_null() | (text.str.strip_chars() == "")
    if ref.unmapped == "uncategorised":
        return category.fill_null("uncategorised")
    checks.add(blank, ref.column, f"{ref.column} is blank, so the row has no category")
    checks.add(~blank & category.is_null(), ref.column,
               f"{ref.column} '" + text.fill_null("") + f"' is not in the category table {table.path.name}")
    return category


def map_location(spec: MappingSpec, rows: pl.DataFrame, checks: RowChecks) -> dict[str, pl.Series]:
    """A WGS84 point, a source area code or neither (point / area_only / unlocated)."""
    location = spec.location
    blank = pl.Series([None] * rows.height, dtype=pl.Float64)
    lon, lat = blank, blank
    if location.longitude and location.latitude:
        lon, lat = _pair(rows, checks, location.longitude.column, location.latitude.column, (-180, 180), (-90, 90))
    elif location.easting and location.northing:
        easting, northing = _pair(rows, checks, location.easting.column, location.northing.column,
                                  *BRITISH_NATIONAL_GRID)
        lon, lat = _british_grid_to_wgs84(easting, northing)
    area = rows[location.area_code.column] if location.area_code else blank.cast(pl.String)
    level = location.area_code.level if location.area_code else None
    status = pl.select(pl.when(lon.is_not_null() & lat.is_not_null()).then(pl.lit("point"))
                       .when(area.is_not_null()).then(pl.lit("area_only")).otherwise(pl.lit("unlocated")))
    return {
        "longitude": lon.alias("longitude"), "latitude": lat.alias("latitude"),
        "location_status": status.to_series().alias("location_status"),
        "source_area_code": area.alias("source_area_code"),
        "source_area_level": pl.select(pl.when(area.is_not_null()).then(pl.lit(level))).to_series()
        .alias("source_area_level"),
        "location_text": (rows[location.text.column] if location.text else blank.cast(pl.String))
        .alias("location_text"),
    }


def _pair(
    rows: pl.DataFrame, checks: RowChecks, x_name: str, y_name: str,
    x_range: tuple[float, float], y_range: tuple[float, float],
) -> tuple[pl.Series, pl.Series]:
    """Two coordinate columns that must both be numbers in range, or both be blank."""
    x = parse_decimal(rows[x_name], minimum=x_range[0], maximum=x_range[1])
    y = parse_decimal(rows[y_name], minimum=y_range[0], maximum=y_range[1])
    checks.add(x.failed, x_name, f"{x_name} is not a number from {x_range[0]:,} to {x_range[1]:,}")
    checks.add(y.failed, y_name, f"{y_name} is not a number from {y_range[0]:,} to {y_range[1]:,}")
    checks.add(rows[x_name].is_null() != rows[y_name].is_null(), x_name, f"only one of {x_name} and {y_name} is given")
    return x.values, y.values


@cache
def _transformer() -> Transformer:
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _british_grid_to_wgs84(easting: pl.Series, northing: pl.Series) -> tuple[pl.Series, pl.Series]:
    lon, lat = _transformer().transform(easting.fill_null(np.nan).to_numpy(), northing.fill_null(np.nan).to_numpy())
    missing = easting.is_null() | northing.is_null()
    return (pl.Series(np.asarray(lon, dtype=float)).set(missing, None),
            pl.Series(np.asarray(lat, dtype=float)).set(missing, None))


FLAG_COLUMNS = ("self_initiated", "mental_health", "alcohol", "domestic_abuse")


def map_flags(
    spec: MappingSpec, rows: pl.DataFrame, checks: RowChecks, columns: dict[str, pl.Series]
) -> dict[str, pl.Series]:
    """Each declared flag is true when any of its rules holds, false otherwise."""
    flags: dict[str, pl.Series] = {}
    for name, rules in spec.flags:
        if rules:
            hits = [_rule(rule, rows, checks, columns) for rule in rules]
            flags[f"flag_{name}"] = pl.select(pl.any_horizontal(hits)).to_series().alias(f"flag_{name}")
    return flags


def _rule(rule: FlagRule, rows: pl.DataFrame, checks: RowChecks, columns: dict[str, pl.Series]) -> pl.Series:
    if rule.categories is not None:
        found = [columns[key].is_in(rule.categories) for key in ("category", "category_opening") if key in columns]
        return pl.select(pl.any_horizontal(found)).to_series().fill_null(False)
    assert rule.column is not None  # the mapping file checks guarantee a column for the other rules
    text = rows[rule.column]
    if rule.in_ is not None:
        return text.str.strip_chars().str.to_lowercase().is_in([v.strip().lower() for v in rule.in_]).fill_null(False)
    if rule.matches is not None:
        return text.str.contains(rule.matches).fill_null(False)
    parsed = parse_boolean(text)
    checks.add(parsed.failed, rule.column, f"{rule.column} is not a yes/no value (yes, no, true, false, y, n, 1, 0)")
    return parsed.values.fill_null(False)

"""Loading place context: population by area and year, deprivation indices, the rural-urban
classification of areas, official lookups.

Each load replaces what it covers (a level's years of population, a level's index of
deprivation, a level's rural-urban classification, one official lookup between two levels) and
keeps the rest, so loading the same file twice changes nothing. Population also re-derives the
population-weighted lookups.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import polars as pl

from wholeplace.errors import UserError
from wholeplace.geography.boundaries import relinked_lookups
from wholeplace.geography.context_files import (
    ContextLoadResult,
    Matcher,
    check_code,
    code_tiers,
    find_column,
    find_optional_column,
    parse_number,
    parse_rural_urban,
    quarantined,
    read_table,
    refuse_if_mostly_bad,
)
from wholeplace.ingest.checks import RowChecks
from wholeplace.ingest.reading import SourceTable
from wholeplace.store.operational import ContextLoadRow, utcnow
from wholeplace.store.stores import Stores

OFFICIAL = "official"


def load_population(
    *, stores: Stores, path: Path, level: str, code_column: str | None = None, year_column: str | None = None,
    population_column: str | None = None,
) -> ContextLoadResult:
    """Population by area and year; replaces this level's rows for the years in the file."""
    source = read_table(path)
    columns = {
        "code": find_column(source, code_column, "area code", code_tiers(level)),
        "year": find_column(source, year_column, "year", [lambda n: n == "year", lambda n: "year" in n]),
        "population": find_column(source, population_column, "population",
                                  [lambda n: "population" in n, lambda n: n in ("count", "persons", "all ages")]),
    }
    checks = RowChecks(source.rows.height)
    years = parse_number(source.rows, columns["year"], checks, minimum=1800, maximum=2200, whole=True)
    people = parse_number(source.rows, columns["population"], checks, minimum=0)
    codes = check_code(source.rows, columns["code"], checks, [columns["code"], columns["year"]])
    new = pl.DataFrame({"level": level, "area_code": codes, "year": years.cast(pl.Int64), "population": people})
    return _replace(stores, source, "population", level, columns, checks, new,
                    lambda kept: kept.filter((pl.col("level") != level) | ~pl.col("year").is_in(new["year"].unique())))


def load_deprivation(
    *, stores: Stores, path: Path, level: str, code_column: str | None = None, rank_column: str | None = None,
    decile_column: str | None = None, score_column: str | None = None, index: str = "imd",
) -> ContextLoadResult:
    """An index of deprivation (rank, decile and, where given, score) by area; replaces this level's index."""
    source = read_table(path)
    def overall(name: str) -> bool:
        return "index of multiple deprivation" in name or "imd" in name

    columns = {
        "code": find_column(source, code_column, "area code", code_tiers(level)),
        "rank": find_column(source, rank_column, "rank", [lambda n: "rank" in n and overall(n), lambda n: "rank" in n]),
        "decile": find_column(source, decile_column, "decile",
                              [lambda n: "decile" in n and overall(n), lambda n: "decile" in n]),
    }
    score_found = find_optional_column(source, score_column, "score",
                                       [lambda n: "score" in n and overall(n), lambda n: "score" in n])
    checks = RowChecks(source.rows.height)
    rank = parse_number(source.rows, columns["rank"], checks, minimum=1, whole=True)
    decile = parse_number(source.rows, columns["decile"], checks, minimum=1, maximum=10, whole=True)
    score = parse_number(source.rows, score_found, checks, required=False) if score_found else None
    codes = check_code(source.rows, columns["code"], checks, [columns["code"]])
    new = pl.DataFrame({"level": level, "area_code": codes, "index": index, "rank": rank.cast(pl.Int64),
                        "decile": decile.cast(pl.Int64),
                        "score": score if score is not None else pl.Series([None] * len(codes), dtype=pl.Float64)})
    columns |= {"score": score_found} if score_found else {}
    return _replace(stores, source, "deprivation", level, columns, checks, new,
                    lambda kept: kept.filter((pl.col("level") != level) | (pl.col("index") != index)))


def load_rural_urban(
    *, stores: Stores, path: Path, level: str, code_column: str | None = None, class_column: str | None = None,
) -> ContextLoadResult:
    """Whether each area is rural, from the ONS Rural Urban Classification (2011 codes A1–E2 or
    2021 codes such as UN1 and RLN1, with their names) or a plain rural yes/no column; replaces
    this level's classification."""
    source = read_table(path)
    columns = {
        "code": find_column(source, code_column, "area code", [_area_code_tier(tier) for tier in code_tiers(level)]),
        "class": find_column(source, class_column, "rural-urban classification", [
            lambda n: n.startswith("ruc") and (n.endswith("cd") or "code" in n),
            lambda n: "classification" in n and "code" in n,
            _classification_like]),
    }
    chosen = columns["class"].lower()
    name_found = find_optional_column(source, None, "classification name", [
        lambda n: n != chosen and n.startswith("ruc") and (n.endswith("nm") or "name" in n),
        lambda n: n != chosen and "classification" in n and "name" in n,
        lambda n: n != chosen and _classification_like(n) and "rural" not in n and not n.endswith("cd")])
    checks = RowChecks(source.rows.height)
    classes = parse_rural_urban(source.rows, columns["class"], checks, name_found)
    codes = check_code(source.rows, columns["code"], checks, [columns["code"]])
    new = pl.DataFrame({"level": level, "area_code": codes}).hstack(classes)
    columns |= {"name": name_found} if name_found else {}
    result = _replace(stores, source, "rural_urban", level, columns, checks, new,
                      lambda kept: kept.filter(pl.col("level") != level))
    rural = int(new.filter(~checks.failed())["rural"].sum())
    result.notes.insert(0, f"{rural:,} rural and {result.rows_stored - rural:,} urban areas")
    return result


def _area_code_tier(tier: Matcher) -> Matcher:
    return lambda name: tier(name) and not _classification_like(name)


def _classification_like(name: str) -> bool:
    return name.startswith("ruc") or "classification" in name or "rural" in name


def load_lookup(
    *, stores: Stores, path: Path, from_level: str, to_level: str, from_column: str, to_column: str,
) -> ContextLoadResult:
    """An official nested lookup (each from-area in exactly one to-area), e.g. LSOA → MSOA from ONS.

    Rows are stored with method ``official`` and weight 1 and are preferred over computed
    nesting when aggregating; reloading replaces this pair's official rows only.
    """
    if from_level == to_level:
        raise UserError(f"A lookup needs two different levels, not {from_level!r} twice.")
    source = read_table(path)
    columns = {"from": find_column(source, from_column, "from code", []),
               "to": find_column(source, to_column, "to code", [])}
    checks = RowChecks(source.rows.height)
    to_codes = check_code(source.rows, to_column, checks)
    from_codes = check_code(source.rows, from_column, checks)
    _check_single_parent(source, from_codes, to_codes, checks, from_column)
    new = pl.DataFrame({"from_level": from_level, "from_code": from_codes, "to_level": to_level,
                        "to_code": to_codes, "weight": 1.0, "method": OFFICIAL})
    keep = ~((pl.col("from_level") == from_level) & (pl.col("to_level") == to_level) & (pl.col("method") == OFFICIAL))
    return _replace(stores, source, "area_lookups", from_level, columns, checks, new, lambda kept: kept.filter(keep))


def _check_single_parent(source: SourceTable, from_codes: pl.Series, to_codes: pl.Series, checks: RowChecks,
                         column: str) -> None:
    pairs = pl.DataFrame({"f": from_codes, "t": to_codes})
    parents = pairs.group_by("f").agg(pl.col("t").drop_nulls().unique().sort().str.join(" and ").alias("all"),
                                      pl.col("t").drop_nulls().n_unique().alias("n"))
    joined = pairs.join(parents, on="f", how="left", maintain_order="left")
    conflict = (joined["n"] > 1).fill_null(False)
    checks.add(conflict, column, "the code is looked up to more than one area (" + joined["all"].fill_null("") + ")")


def _replace(stores: Stores, source: SourceTable, table: str, level: str, columns: dict[str, str],
             checks: RowChecks, new: pl.DataFrame, keep_old) -> ContextLoadResult:  # type: ignore[no-untyped-def]
    failed, problems = quarantined(source, checks)
    refuse_if_mostly_bad(source, problems, stores.settings.max_quarantine_share)
    new = new.filter(~failed).unique(maintain_order=True)
    old = _table(stores, table)
    combined = pl.concat([keep_old(old), new.select(old.columns).cast(old.schema)])
    result = ContextLoadResult(table, source.path.name, level, "stored", source.rows_read, new.height,
                               columns, problems, _notes(stores, table, level, new))
    if _same(old, combined):
        result.status = "unchanged"
        return result
    lookups = relinked_lookups(stores=stores, population=combined) if table == "population" else None
    with stores.session() as session:
        session.add(ContextLoadRow(id=uuid.uuid4().hex, table=table, file_name=source.path.name,
                                   file_sha256=source.sha256, rows_read=source.rows_read, rows_stored=new.height,
                                   loaded_at=utcnow()))
        session.flush()
        stores.analytic.write_place_table(table, combined.to_arrow())
        if lookups is not None:
            stores.analytic.write_place_table("area_lookups", lookups.to_arrow())
    return result


def _table(stores: Stores, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(stores.analytic.read_place_table(name))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _same(old: pl.DataFrame, new: pl.DataFrame) -> bool:
    return old.height == new.height and old.sort(old.columns).equals(new.sort(old.columns))


def _notes(stores: Stores, table: str, level: str, new: pl.DataFrame) -> list[str]:
    code = "from_code" if table == "area_lookups" else "area_code"
    areas = _table(stores, "areas").filter(pl.col("level") == level)
    if areas.height == 0:
        return [f"no boundaries are loaded for level '{level}' yet; codes will be matched when they are"]
    outside = new.filter(~pl.col(code).is_in(areas["code"]))[code].n_unique()
    if not outside:
        return []
    return [f"{outside:,} codes are not areas of the loaded '{level}' boundaries (kept for comparisons)"]

"""Indicator values: every indicator of a framework for every place at every loaded level, every period.

A value is a ratio of sums, never a mean of ratios. Numerators (and event denominators) are counted once
at the finest loaded level; events known only by a coarser area are first spread to the finest level
through the population-weighted (else area-weighted) lookup. Numerator and denominator are then carried
to every level through the same lookups (nested where the level nests, else population- or area-weighted,
so wards that cut across small areas get fractions) and to the whole place, and divided at the end.
Residents are counted as person-years (a month's population ÷ 12), so a rate "per 1,000 residents a year"
means the same for a month, a rolling year and the whole period. People counted once (``count:
distinct_subjects``) are counted directly at each level and period, each small area going wholly to the
area of the level holding most of it.

Each value has its confidence interval (the indicator's method, ``intervals``), a comparison with the
whole place and with peer places (Fingertips-style: significantly higher or lower when the interval
excludes the comparator), and each indicator its lineage (framework version and hash, definition, the
loads that fed it, the interval method, the lookups, the disclosure preset). An indicator the reader may
not see, or that the loaded data cannot support, is reported in ``unavailable`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import polars as pl

from wholeplace import provenance
from wholeplace.errors import UserError
from wholeplace.outcomes import intervals
from wholeplace.outcomes.framework import (
    FLAGS,
    CiMethod,
    EventFilter,
    FrameworkError,
    Indicator,
    StoredFramework,
    check_against_store,
    current_framework,
)
from wholeplace.store.stores import Stores

PLACE_LEVEL = "place"  # the pseudo-level of the whole place (one area: the framework's place)
PERIODS = ("month", "rolling_12", "whole")
PEER_GROUPS = 5  # peers: areas of the same level in the same fifth by deprivation score ...
PEER_MINIMUM_AREAS = 10  # ... when the level has at least this many areas with a score
DOWN_METHODS = ("population-weighted", "area-weighted")  # coarser area -> finest level, best first
UP_METHODS = ("official", "nested", "population-weighted", "area-weighted")  # finest level -> level, best first
PEERS = (f"Peers are the other areas of the same level in the same fifth of deprivation (the population-weighted "
         f"mean IMD score of its small areas), for levels with at least {PEER_MINIMUM_AREAS} areas; the peer "
         "value is the ratio of sums over those peers.")
VALUE_COLUMNS = ["indicator", "level", "area_code", "area_name", "period_type", "period", "months", "numerator",
                 "denominator", "value", "lower", "upper", "place_value", "vs_place", "peer_group", "peer_value",
                 "vs_peers"]


@dataclass
class IndicatorValues:
    framework: StoredFramework
    values: pl.DataFrame  # VALUE_COLUMNS, one row per indicator × level × area × period
    unavailable: dict[str, str] = field(default_factory=dict)  # indicator code -> why it has no values
    lineage: dict[str, dict[str, Any]] = field(default_factory=dict)  # indicator code -> where its figures come from


def indicator_values(*, stores: Stores, framework: str | StoredFramework, datasets: list[str] | None = None,
                     indicators: list[str] | None = None, levels: list[str] | None = None,
                     periods: tuple[str, ...] = PERIODS) -> IndicatorValues:
    """Values of the framework's indicators (all, or ``indicators``) at every level (or ``levels``).

    ``datasets`` are the datasets the reader may see (None: all); an indicator needing another is
    reported unavailable. ``periods`` chooses among month, rolling_12 (the 12 months to each month) and
    whole (the whole span of the indicator's data).
    """
    stored = current_framework(stores=stores, code=framework) if isinstance(framework, str) else framework
    con = stores.connect()
    _check(stored, con, indicators, levels, periods)
    chosen = [i for i in stored.framework.indicators() if indicators is None or i.code in indicators]
    unavailable = {i.code: why for i in chosen if (why := _unavailable_reason(i, datasets, con)) is not None}
    usable = [i for i in chosen if i.code not in unavailable]
    result = IndicatorValues(stored, pl.DataFrame(schema=_empty_schema()), unavailable)
    if not usable:
        return result
    plan = _Plan.build(stores, con, stored, usable, levels)
    result.values = _values(con, plan, usable, periods, unavailable)
    result.lineage = {i.code: _lineage(con, plan, stored, i) for i in usable if i.code not in unavailable}
    return result


# -- checks ----------------------------------------------------------------------------------------------


def _check(stored: StoredFramework, con: duckdb.DuckDBPyConnection, indicators: list[str] | None,
           levels: list[str] | None, periods: tuple[str, ...]) -> None:
    problems = check_against_store(stored.framework, con)
    if problems:
        raise FrameworkError(f"'{stored.framework.code}' version {stored.version}", problems)
    for code in indicators or []:
        stored.framework.indicator(code)
    loaded = [r[0] for r in con.execute("SELECT DISTINCT level FROM areas ORDER BY 1").fetchall()]
    if not loaded:
        raise UserError("No boundaries are loaded, so there are no places to give values for.",
                        hint="Load them with `wholeplace load boundaries FILE --level LEVEL`.")
    unknown = [level for level in levels or [] if level not in [*loaded, PLACE_LEVEL]]
    if unknown:
        raise UserError(f"There is no level '{unknown[0]}' in this place.",
                        hint=f"Choose one of: {', '.join([*loaded, PLACE_LEVEL])}.")
    wrong = [p for p in periods if p not in PERIODS]
    if wrong:
        raise UserError(f"Unknown period '{wrong[0]}'.", hint=f"Choose from: {', '.join(PERIODS)}.")


def _unavailable_reason(indicator: Indicator, datasets: list[str] | None, con: duckdb.DuckDBPyConnection) -> str | None:
    needed = _datasets_of(indicator)
    hidden = [d for d in needed if datasets is not None and d not in datasets]
    if hidden:
        return f"needs data you may not read for this purpose: {', '.join(hidden)}"
    population = indicator.denominator.population
    if indicator.ci_method is CiMethod.DSR or (population is not None and population.ages):
        return "needs the population by age, and the population loaded has no ages"
    if population is not None and not con.execute("SELECT count(*) FROM population").fetchone()[0]:  # type: ignore[index]
        return "needs the resident population, and none is loaded (`wholeplace load population`)"
    return None


def _datasets_of(indicator: Indicator) -> list[str]:
    events = indicator.denominator.events
    return list(dict.fromkeys([*indicator.numerator.datasets, *(events.datasets if events else [])]))


# -- how areas relate: the finest level, lookups down to it and up from it -------------------------------


@dataclass
class _Plan:
    finest: str
    levels: list[str]  # loaded levels counted, finest first, then the place (always: it is the comparator)
    reported: list[str]  # the levels asked for
    up: dict[str, str]  # level -> lookup method from the finest level
    place: str
    place_name: str

    @classmethod
    def build(cls, stores: Stores, con: duckdb.DuckDBPyConnection, stored: StoredFramework,
              indicators: list[Indicator], levels: list[str] | None) -> _Plan:
        loaded = [row["level"] for row in provenance.list_levels(stores=stores)]
        finest = loaded[0]
        up = {level: _method(con, finest, level, UP_METHODS) for level in loaded[1:]}
        counted = [lv for lv in [*loaded, PLACE_LEVEL] if lv in (finest, PLACE_LEVEL) or up.get(lv)]
        place = stored.framework.place
        plan = cls(finest, counted, levels or counted, {k: v for k, v in up.items() if v}, place.code, place.name)
        plan.register(con, indicators)
        return plan

    def register(self, con: duckdb.DuckDBPyConnection, indicators: list[Indicator]) -> None:
        """Tables the queries read: the filters, the lookups down to and up from the finest level."""
        con.register("defs", _definitions(indicators).to_arrow())
        con.register("down", _down(con, self.finest).to_arrow())
        con.register("rollup", _rollup(con, self).to_arrow())


def _method(con: duckdb.DuckDBPyConnection, from_level: str, to_level: str, preference: tuple[str, ...]) -> str:
    found = {r[0] for r in con.execute("SELECT DISTINCT method FROM area_lookups WHERE from_level = ? AND to_level = ?",
                                       [from_level, to_level]).fetchall()}
    return next((m for m in preference if m in found), "")


def _down(con: duckdb.DuckDBPyConnection, finest: str) -> pl.DataFrame:
    """Lookups from every other level to the finest one, by the best method available for each."""
    levels = [r[0] for r in con.execute("SELECT DISTINCT level FROM areas WHERE level <> ?", [finest]).fetchall()]
    parts = [con.execute("SELECT from_level, from_code, to_code, weight FROM area_lookups WHERE from_level = ? "
                         "AND to_level = ? AND method = ?", [lv, finest, m]).pl()
             for lv in levels if (m := _method(con, lv, finest, DOWN_METHODS))]
    schema = {"from_level": pl.String, "from_code": pl.String, "to_code": pl.String, "weight": pl.Float64}
    return pl.concat([pl.DataFrame(schema=schema), *parts], how="vertical_relaxed")


def _rollup(con: duckdb.DuckDBPyConnection, plan: _Plan) -> pl.DataFrame:
    """(level, fine_code, area_code, weight, best): how each finest area counts in each reported level's areas;
    ``best`` marks the one area of the level holding most of it (for counts of people)."""
    fine = con.execute("SELECT code FROM areas WHERE level = ?", [plan.finest]).pl().get_column("code")
    parts = []
    for level in plan.levels:
        if level == plan.finest:
            part = pl.DataFrame({"fine_code": fine, "area_code": fine, "weight": 1.0})
        elif level == PLACE_LEVEL:
            part = pl.DataFrame({"fine_code": fine, "area_code": plan.place, "weight": 1.0})
        else:
            part = con.execute("SELECT from_code AS fine_code, to_code AS area_code, weight FROM area_lookups "
                               "WHERE from_level = ? AND to_level = ? AND method = ?",
                               [plan.finest, level, plan.up[level]]).pl()
        parts.append(part.with_columns(pl.lit(level).alias("level")))
    frame = pl.concat(parts, how="vertical_relaxed").select("level", "fine_code", "area_code", "weight")
    best = pl.col("weight").rank("ordinal", descending=True).over("level", "fine_code") == 1
    return frame.with_columns(best.alias("best"))


def _definitions(indicators: list[Indicator]) -> pl.DataFrame:
    """One row per (indicator, role, dataset, category, kind): an event matches at most one row of a role."""
    rows = []
    for indicator in indicators:
        roles = [("numerator", indicator.numerator)]
        if indicator.denominator.events is not None:
            roles.append(("denominator", indicator.denominator.events))
        rows += [row for role, chosen in roles for row in _filter_rows(indicator.code, role, chosen)]
    schema = {"indicator": pl.String, "role": pl.String, "dataset": pl.String, "category": pl.String,
              "kind": pl.String, "distinct_subjects": pl.Boolean, **{f: pl.Boolean for f in FLAGS}}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _filter_rows(code: str, role: str, chosen: EventFilter) -> list[tuple[Any, ...]]:
    flags = tuple(chosen.flags.get(f) for f in FLAGS)  # type: ignore[call-overload]
    distinct = chosen.count == "distinct_subjects"
    categories: list[str | None] = [*chosen.categories] or [None]
    kinds: list[str | None] = [str(k) for k in chosen.kinds] or [None]
    return [(code, role, dataset, category, kind, distinct, *flags) for dataset in chosen.datasets
            for category in categories for kind in kinds]


# -- counting --------------------------------------------------------------------------------------------

MATCHED_SQL = """
WITH fine AS (
  SELECT e.*, coalesce(d.to_code, e.area_code) AS fine_code, coalesce(d.weight, 1.0) AS weight
  FROM events e LEFT JOIN down d
    ON e.area_level <> $finest AND d.from_level = e.area_level AND d.from_code = e.area_code
  WHERE e.area_level = $finest OR d.to_code IS NOT NULL)
SELECT f.occurred_month AS month, f.fine_code, f.weight, f.subject_token, d.indicator, d.role, d.distinct_subjects
FROM fine f JOIN defs d ON f.dataset = d.dataset
  AND (d.category IS NULL OR f.category = d.category) AND (d.kind IS NULL OR f.kind = d.kind)
  AND (d.mental_health IS NULL OR coalesce(f.flag_mental_health, false) = d.mental_health)
  AND (d.alcohol IS NULL OR coalesce(f.flag_alcohol, false) = d.alcohol)
  AND (d.domestic_abuse IS NULL OR coalesce(f.flag_domestic_abuse, false) = d.domestic_abuse)
  AND (d.self_initiated IS NULL OR coalesce(f.flag_self_initiated, false) = d.self_initiated)
"""

# Counts at the finest level first, then carried up: a ratio of sums at every level.
EVENT_COUNTS_SQL = """
WITH fine_counts AS (
  SELECT indicator, role, fine_code, month, sum(weight) AS n FROM matched WHERE NOT distinct_subjects GROUP BY ALL)
SELECT c.indicator, c.role, r.level, r.area_code, c.month, sum(c.n * r.weight) AS n
FROM fine_counts c JOIN rollup r USING (fine_code) GROUP BY ALL
"""

# People are counted once per area and period, so they are counted directly at each level and period.
PEOPLE_COUNTS_SQL = """
SELECT m.indicator, m.role, r.level, r.area_code, p.period_type, p.period, count(DISTINCT m.subject_token)::DOUBLE AS n
FROM matched m JOIN rollup r ON r.fine_code = m.fine_code AND r.best
JOIN periods p ON p.indicator = m.indicator AND p.month = m.month
WHERE m.distinct_subjects AND m.subject_token IS NOT NULL GROUP BY ALL
"""

# Residents as person-years: each month's population (the nearest year's estimate) ÷ 12, carried down to
# the finest level and up to each level through the same lookups as the events.
PERSON_YEARS_SQL = """
WITH months AS (SELECT DISTINCT month FROM spans),
years AS (SELECT DISTINCT year FROM population),
chosen AS (SELECT m.month, arg_min(y.year, abs(y.year - year(m.month)) * 2 + (y.year > year(m.month))::INT) AS year
           FROM months m, years y GROUP BY m.month),
fine_pop AS (
  SELECT p.year, coalesce(d.to_code, p.area_code) AS fine_code, sum(p.population * coalesce(d.weight, 1.0)) AS people
  FROM population p LEFT JOIN down d ON p.level <> $finest AND d.from_level = p.level AND d.from_code = p.area_code
  WHERE p.level = $finest OR d.to_code IS NOT NULL GROUP BY ALL)
SELECT r.level, r.area_code, c.month, sum(f.people * r.weight) / 12.0 AS n
FROM chosen c JOIN fine_pop f ON f.year = c.year JOIN rollup r USING (fine_code) GROUP BY ALL
"""


def _spans(con: duckdb.DuckDBPyConnection, indicators: list[Indicator]) -> pl.DataFrame:
    """(indicator, month): the months all of an indicator's datasets cover (the latest first month to the
    earliest last month)."""
    bounds = dict((d, (a, b)) for d, a, b in con.execute(
        "SELECT dataset, min(occurred_month), max(occurred_month) FROM events_stored GROUP BY 1").fetchall())
    rows = []
    for indicator in indicators:
        spans = [bounds[d] for d in _datasets_of(indicator) if d in bounds]
        if spans:
            first, last = max(s[0] for s in spans), min(s[1] for s in spans)
            months: Any = pl.date_range(first, last, "1mo", eager=True) if first <= last else []
            rows += [(indicator.code, m) for m in months]
    return pl.DataFrame(rows, schema={"indicator": pl.String, "month": pl.Date}, orient="row")


def _periods(spans: pl.DataFrame, periods: tuple[str, ...]) -> pl.DataFrame:
    """(indicator, period_type, period, month): the months making up each period, named by its last month."""
    index = pl.col("month").rank("ordinal").over("indicator")
    parts = [spans.select("indicator", pl.lit("month").alias("period_type"), pl.col("month").alias("period"),
                          "month")]
    if "rolling_12" in periods:
        ends = spans.with_columns(index.alias("end_index")).filter(pl.col("end_index") >= 12)
        windows = spans.with_columns(index.alias("i")).join(ends.rename({"month": "period"}), on="indicator")
        parts.append(windows.filter((pl.col("i") <= pl.col("end_index")) & (pl.col("i") > pl.col("end_index") - 12))
                     .select("indicator", pl.lit("rolling_12").alias("period_type"), "period", "month"))
    if "whole" in periods:
        parts.append(spans.select("indicator", pl.lit("whole").alias("period_type"),
                                  pl.col("month").max().over("indicator").alias("period"), "month"))
    return pl.concat(parts)


def _values(con: duckdb.DuckDBPyConnection, plan: _Plan, indicators: list[Indicator], periods: tuple[str, ...],
            unavailable: dict[str, str]) -> pl.DataFrame:
    spans = _spans(con, indicators)
    for indicator in indicators:
        if indicator.code not in set(spans.get_column("indicator").to_list()):
            unavailable[indicator.code] = "its datasets have no months in common"
    con.register("spans", spans.to_arrow())
    con.register("periods", _periods(spans, periods).to_arrow())
    counts = _counts(con, plan, indicators)
    frame = _with_areas(con, plan, _period_sums(counts, con.execute("SELECT * FROM periods").pl(), periods))
    frame = _with_intervals(frame, [i for i in indicators if i.code not in unavailable], unavailable)
    frame = _with_comparisons(_with_peers(con, plan, frame))
    frame = frame.filter(pl.col("level").is_in(plan.reported))
    return frame.select(VALUE_COLUMNS).sort("indicator", "level", "area_code", "period_type", "period")


def _counts(con: duckdb.DuckDBPyConnection, plan: _Plan, indicators: list[Indicator]) -> dict[str, pl.DataFrame]:
    """Monthly sums (``events``: indicator, role, level, area_code, month, n), people per period (``people``)
    and person-years (``residents``: level, area_code, month, n)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE matched AS {MATCHED_SQL}", {"finest": plan.finest})
    events = con.execute(EVENT_COUNTS_SQL).pl()
    people = con.execute(PEOPLE_COUNTS_SQL).pl() if any(i.numerator.count == "distinct_subjects" or (
        i.denominator.events and i.denominator.events.count == "distinct_subjects") for i in indicators) else None
    needs_residents = any(i.denominator.population is not None for i in indicators)
    residents = con.execute(PERSON_YEARS_SQL, {"finest": plan.finest}).pl() if needs_residents else None
    population_of = {i.code: i.denominator.population is not None for i in indicators}
    return {"events": events, "people": people, "residents": residents, "population_of": population_of}  # type: ignore[dict-item]


def _period_sums(counts: dict[str, Any], periods: pl.DataFrame,
                 chosen: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """The periods (with their number of months), event sums by role and person-years, for each period."""
    keys = ["indicator", "level", "area_code", "period_type", "period"]
    monthly = counts["events"].join(periods, on=["indicator", "month"])
    sums = monthly.group_by(*keys, "role").agg(pl.col("n").sum())
    if counts["people"] is not None:
        people = counts["people"].select(*keys, "role", "n")
        sums = pl.concat([sums, people], how="vertical_relaxed").group_by(*keys, "role").agg(pl.col("n").sum())
    wide = sums.pivot(on="role", index=keys, values="n")
    for role in ("numerator", "denominator"):
        if role not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(role))
    residents = _residents_by_period(counts, periods)
    lengths = periods.group_by("indicator", "period_type", "period").agg(pl.len().alias("months"))
    frame = lengths.filter(pl.col("period_type").is_in(list(chosen)))
    return frame, wide, residents


def _residents_by_period(counts: dict[str, Any], periods: pl.DataFrame) -> pl.DataFrame | None:
    if counts["residents"] is None:
        return None
    population = [code for code, flag in counts["population_of"].items() if flag]
    chosen = periods.filter(pl.col("indicator").is_in(population))
    return (counts["residents"].join(chosen, on="month")
            .group_by("indicator", "level", "area_code", "period_type", "period").agg(pl.col("n").sum()))


def _with_areas(con: duckdb.DuckDBPyConnection, plan: _Plan,
                parts: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]) -> pl.DataFrame:
    """Every area of every reported level for every period, zero where nothing was counted."""
    lengths, wide, residents = parts
    names = con.execute("SELECT level, code AS area_code, name AS area_name FROM areas").pl()
    names = pl.concat([names.filter(pl.col("level").is_in(plan.levels)),
                       pl.DataFrame({"level": [PLACE_LEVEL], "area_code": [plan.place], "area_name": [plan.place_name]})
                       .filter(pl.lit(PLACE_LEVEL in plan.levels))])
    keys = ["indicator", "level", "area_code", "period_type", "period"]
    grid = lengths.join(names, how="cross").join(wide, on=keys, how="left")
    if residents is not None:
        grid = grid.join(residents.rename({"n": "_residents"}), on=keys, how="left").with_columns(
            pl.coalesce("_residents", "denominator").alias("denominator")).drop("_residents")
    return grid.with_columns(pl.col("numerator").fill_null(0.0), pl.col("denominator").fill_null(0.0))


# -- intervals and comparisons ------------------------------------------------------------------------


def _with_intervals(frame: pl.DataFrame, indicators: list[Indicator], unavailable: dict[str, str]) -> pl.DataFrame:
    parts = []
    for indicator in indicators:
        part = frame.filter(pl.col("indicator") == indicator.code).sort("level", "area_code", "period_type", "period")
        if part.is_empty():
            continue
        try:
            value, lower, upper = _interval(indicator, part["numerator"].to_numpy(), part["denominator"].to_numpy())
        except UserError as exc:
            unavailable[indicator.code] = f"its values cannot be computed: {exc.message}"
            continue
        parts.append(part.with_columns(pl.Series("value", value), pl.Series("lower", lower), pl.Series("upper", upper),
                                       pl.lit(indicator.multiplier).alias("_multiplier")).fill_nan(None))
    schema = frame.schema | {"value": pl.Float64, "lower": pl.Float64, "upper": pl.Float64, "_multiplier": pl.Float64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _interval(indicator: Indicator, numerator: np.ndarray, denominator: np.ndarray) -> tuple[np.ndarray, ...]:
    multiplier = indicator.multiplier
    if indicator.ci_method is CiMethod.WILSON:
        over = numerator > denominator * (1 + 1e-9)
        if over.any():
            raise UserError(f"the numerator exceeds the denominator in {int(over.sum())} places and periods, so it "
                            "is not a proportion; make the numerator a subset of the denominator or use a rate")
        return intervals.proportion(np.minimum(numerator, denominator), denominator, multiplier=multiplier)
    if indicator.ci_method is CiMethod.NONE:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(denominator > 0, numerator / denominator * multiplier, np.nan)
        return value, np.full_like(value, np.nan), np.full_like(value, np.nan)
    return intervals.rate(numerator, denominator, multiplier=multiplier, method=indicator.ci_method.value)


def _with_peers(con: duckdb.DuckDBPyConnection, plan: _Plan, frame: pl.DataFrame) -> pl.DataFrame:
    """``peer_group`` (1 least deprived … 5 most) and ``peer_value``: the ratio of sums over the other peers."""
    groups = _peer_groups(con, plan)
    frame = frame.join(groups, on=["level", "area_code"], how="left")
    over = ["indicator", "level", "period_type", "period", "peer_group"]
    sums = [(pl.col(c).sum().over(over) - pl.col(c)).alias(f"_peer_{c}") for c in ("numerator", "denominator")]
    ratio = pl.col("_peer_numerator") / pl.col("_peer_denominator") * pl.col("_multiplier")
    return frame.with_columns(*sums).with_columns(
        pl.when(pl.col("peer_group").is_not_null() & (pl.col("_peer_denominator") > 0)).then(ratio).alias("peer_value")
    ).drop("_peer_numerator", "_peer_denominator")


def _peer_groups(con: duckdb.DuckDBPyConnection, plan: _Plan) -> pl.DataFrame:
    scores = con.execute("""
        WITH fine AS (SELECT d.area_code AS fine_code, avg(d.score) AS score, max(p.population) AS people
                      FROM deprivation d JOIN population p ON p.level = d.level AND p.area_code = d.area_code
                      WHERE d.level = $finest GROUP BY 1)
        SELECT r.level, r.area_code, sum(f.score * f.people * r.weight) / sum(f.people * r.weight) AS score
        FROM fine f JOIN rollup r USING (fine_code) WHERE r.level <> $place GROUP BY ALL
        HAVING sum(f.people * r.weight) > 0""", {"finest": plan.finest, "place": PLACE_LEVEL}).pl()
    sized = scores.filter(pl.len().over("level") >= PEER_MINIMUM_AREAS)
    fifth = (pl.col("score").rank("ordinal").over("level") - 1) * PEER_GROUPS // pl.len().over("level") + 1
    return sized.select("level", "area_code", fifth.cast(pl.Int64).alias("peer_group"))


def _with_comparisons(frame: pl.DataFrame) -> pl.DataFrame:
    place = frame.filter(pl.col("level") == PLACE_LEVEL).select("indicator", "period_type", "period",
                                                                pl.col("value").alias("place_value"))
    frame = frame.join(place, on=["indicator", "period_type", "period"], how="left")
    return frame.with_columns(
        pl.when(pl.col("level") != PLACE_LEVEL).then(_compared("place_value")).alias("vs_place"),
        _compared("peer_value").alias("vs_peers"),
    )


def _compared(comparator: str) -> pl.Expr:
    """Fingertips: significantly higher or lower when the 95% interval excludes the comparator, else similar."""
    return (pl.when(pl.col("lower").is_null() | pl.col("upper").is_null() | pl.col(comparator).is_null()).then(None)
            .when(pl.col("lower") > pl.col(comparator)).then(pl.lit("higher"))
            .when(pl.col("upper") < pl.col(comparator)).then(pl.lit("lower"))
            .otherwise(pl.lit("similar")))


def _empty_schema() -> dict[str, Any]:
    text, number = pl.String, pl.Float64
    types = {"period": pl.Date, "months": pl.UInt32, "peer_group": pl.Int64}
    texts = {"indicator", "level", "area_code", "area_name", "period_type", "vs_place", "vs_peers"}
    return {c: types.get(c, text if c in texts else number) for c in VALUE_COLUMNS}


# -- lineage ---------------------------------------------------------------------------------------------


def _lineage(con: duckdb.DuckDBPyConnection, plan: _Plan, stored: StoredFramework,
             indicator: Indicator) -> dict[str, Any]:
    loads = dict(con.execute("SELECT dataset, list(DISTINCT load_id ORDER BY load_id) FROM events_stored "
                             "WHERE list_contains($datasets, dataset) GROUP BY 1",
                             {"datasets": _datasets_of(indicator)}).fetchall())
    method = "dsr_dobson" if indicator.ci_method is CiMethod.DSR else indicator.ci_method.value
    residents = indicator.denominator.population is not None
    return {
        **stored.lineage(), "outcome": stored.framework.outcome_of(indicator.code).code, "indicator": indicator.code,
        "definition": indicator.model_dump(mode="json"), "loads": loads,
        "ci_method": {"method": method, "confidence": 0.95,
                      "description": intervals.METHODS.get(method, "no interval: the value alone")},
        "denominator": ("residents as person-years (each month's population estimate of the nearest year ÷ 12)"
                        if residents else "events, counted as the numerator is"),
        "finest_level": plan.finest, "lookups": {PLACE_LEVEL: "sum of every area", **plan.up},
        "peers": PEERS, "disclosure": indicator.disclosure.value,
    }

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
    loads = dict(con.execute("SELECT dataset, list(DISTINCT load_id ORDER BY load_id) FROM events_stored "
                             "WHERE list_contains($datasets, dataset) GROUP BY 1",
                             {"datasets": sorted({d for i in usable for d in _datasets_of(i)})}).fetchall())
    result.lineage = {i.code: _lineage(plan, stored, i, loads) for i in usable if i.code not in unavailable}
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

# Events are first reduced to one row per filter signature (dataset, category, kind and qualifier flags), area
# and month. The few distinct signatures are matched against the indicators' filters (``signatures``: an event
# matches at most one filter row of a role), and only the counts are then spread to the indicators.
SIGNATURE = """coalesce(e.category, '') AS category, coalesce(e.kind, '') AS kind,
  coalesce(e.flag_mental_health, false) AS mental_health, coalesce(e.flag_alcohol, false) AS alcohol,
  coalesce(e.flag_domestic_abuse, false) AS domestic_abuse, coalesce(e.flag_self_initiated, false) AS self_initiated"""
SIGNATURE_KEYS = "dataset, category, kind, mental_health, alcohol, domestic_abuse, self_initiated"

SIGNATURES_SQL = f"""
WITH found AS (SELECT DISTINCT e.dataset, {SIGNATURE} FROM events_stored e WHERE list_contains($datasets, e.dataset))
SELECT f.*, d.indicator, d.role, d.distinct_subjects
FROM found f JOIN defs d ON f.dataset = d.dataset
  AND (d.category IS NULL OR f.category = d.category) AND (d.kind IS NULL OR f.kind = d.kind)
  AND (d.mental_health IS NULL OR f.mental_health = d.mental_health)
  AND (d.alcohol IS NULL OR f.alcohol = d.alcohol)
  AND (d.domestic_abuse IS NULL OR f.domestic_abuse = d.domestic_abuse)
  AND (d.self_initiated IS NULL OR f.self_initiated = d.self_initiated)
"""

# Events at the finest level as they are; events known only by a coarser area spread through ``down`` (which
# holds no lookup from the finest level, so the join is a plain equi-join).
FINE_SQL = """
SELECT l.*, coalesce(d.to_code, l.area_code) AS fine_code, coalesce(d.weight, 1.0) AS weight
FROM located l LEFT JOIN down d ON d.from_level = l.area_level AND d.from_code = l.area_code
WHERE l.area_level = $finest OR d.to_code IS NOT NULL
"""

# Counts at the finest level first, then carried up: a ratio of sums at every level.
EVENT_COUNTS_SQL = f"""
WITH located AS (
  SELECT e.dataset, {SIGNATURE}, e.area_level, e.area_code, e.occurred_month AS month, count(*) AS events
  FROM events e WHERE list_contains($datasets, e.dataset) AND e.area_level IS NOT NULL GROUP BY ALL),
fine AS ({FINE_SQL}),
fine_counts AS (
  SELECT s.indicator, s.role, f.fine_code, f.month, sum(f.events * f.weight) AS n
  FROM fine f JOIN signatures s USING ({SIGNATURE_KEYS}) WHERE NOT s.distinct_subjects GROUP BY ALL)
SELECT c.indicator, r.level, r.area_code, c.month,
  sum(c.n * r.weight) FILTER (WHERE c.role = 'numerator') AS numerator,
  sum(c.n * r.weight) FILTER (WHERE c.role = 'denominator') AS denominator
FROM fine_counts c JOIN rollup r USING (fine_code) GROUP BY c.indicator, r.level, r.area_code, c.month
"""

# People are counted once per area and period, so each person is kept once per area of each level (the one
# holding most of their small area) and month of the indicator's span (``i``: the month's number in it).
PEOPLE_SEEN_SQL = f"""
WITH located AS (
  SELECT e.dataset, {SIGNATURE}, e.area_level, e.area_code, e.occurred_month AS month, e.subject_token
  FROM events e WHERE list_contains($datasets, e.dataset) AND e.area_level IS NOT NULL
    AND e.subject_token IS NOT NULL),
fine AS ({FINE_SQL}),
span AS (SELECT indicator, month, row_number() OVER (PARTITION BY indicator ORDER BY month) AS i FROM spans)
SELECT DISTINCT s.indicator, s.role, r.level, r.area_code, f.subject_token, p.i
FROM fine f JOIN signatures s USING ({SIGNATURE_KEYS})
JOIN rollup r ON r.fine_code = f.fine_code AND r.best
JOIN span p ON p.indicator = s.indicator AND p.month = f.month
WHERE s.distinct_subjects
"""

# People in each month, in each 12 months to a month, and in the whole span. A person seen in month i counts in
# the rolling years ending in months i to i + 11, except those already counted for their previous month seen
# (ending before that month + 12): each person adds 1 where that stretch starts and takes it off after it ends.
PEOPLE_COUNTS_SQL = {
    "month": "SELECT indicator, role, level, area_code, i, count(*) AS n FROM people_seen GROUP BY ALL",
    "whole": """SELECT indicator, role, level, area_code, max(i) AS i, count(DISTINCT subject_token) AS n
                FROM people_seen GROUP BY indicator, role, level, area_code""",
    "rolling_12": """
WITH stretches AS (
  SELECT indicator, role, level, area_code, greatest(i, 12, coalesce(lag(i) OVER person + 12, 0)) AS first,
         least(i + 11, t.months) AS last
  FROM people_seen JOIN (SELECT indicator, count(*) AS months FROM spans GROUP BY 1) t USING (indicator)
  WINDOW person AS (PARTITION BY indicator, role, level, area_code, subject_token ORDER BY i)),
steps AS (
  SELECT indicator, role, level, area_code, first AS i, 1 AS step FROM stretches WHERE first <= last
  UNION ALL SELECT indicator, role, level, area_code, last + 1, -1 FROM stretches WHERE first <= last),
totals AS (
  SELECT indicator, role, level, area_code, i, sum(sum(step)) OVER (PARTITION BY indicator, role, level, area_code
    ORDER BY i) AS n FROM steps GROUP BY indicator, role, level, area_code, i),
held AS (
  SELECT *, lead(i) OVER (PARTITION BY indicator, role, level, area_code ORDER BY i) AS until FROM totals)
SELECT indicator, role, level, area_code, unnest(range(i, until)) AS i, n FROM held WHERE n > 0""",
}

# Residents as person-years: each month's population (the nearest year's estimate) ÷ 12, carried down to
# the finest level and up to each level through the same lookups as the events.
PERSON_YEARS_SQL = """
WITH months AS (SELECT DISTINCT month FROM spans),
years AS (SELECT DISTINCT year FROM population),
chosen AS (SELECT m.month, arg_min(y.year, abs(y.year - year(m.month)) * 2 + (y.year > year(m.month))::INT) AS year
           FROM months m, years y GROUP BY m.month),
fine_pop AS (
  SELECT p.year, coalesce(d.to_code, p.area_code) AS fine_code, sum(p.population * coalesce(d.weight, 1.0)) AS people
  FROM population p LEFT JOIN down d ON d.from_level = p.level AND d.from_code = p.area_code
  WHERE p.level = $finest OR d.to_code IS NOT NULL GROUP BY ALL)
SELECT r.level, r.area_code, c.month, sum(f.people * r.weight) / 12.0 AS n
FROM chosen c JOIN fine_pop f ON f.year = c.year JOIN rollup r USING (fine_code) GROUP BY ALL
"""
SERIES_KEYS = ["indicator", "level", "area_code", "area_name"]
PERIOD_KEYS = ["indicator", "level", "area_code", "period_type", "period"]
ROLLING = 12  # months in a rolling period


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


def _values(con: duckdb.DuckDBPyConnection, plan: _Plan, indicators: list[Indicator], periods: tuple[str, ...],
            unavailable: dict[str, str]) -> pl.DataFrame:
    spans = _spans(con, indicators)
    for indicator in indicators:
        if indicator.code not in set(spans.get_column("indicator").to_list()):
            unavailable[indicator.code] = "its datasets have no months in common"
    if not periods:
        return pl.DataFrame(schema=_empty_schema())
    con.register("spans", spans.to_arrow())
    datasets = sorted({d for i in indicators for d in _datasets_of(i)})
    con.execute(f"CREATE OR REPLACE TEMP TABLE signatures AS {SIGNATURES_SQL}", {"datasets": datasets})
    frame = _period_sums(_monthly(con, plan, indicators, spans, datasets), periods)
    if con.execute("SELECT count(*) FROM signatures WHERE distinct_subjects").fetchone()[0]:  # type: ignore[index]
        frame = _with_people(frame, _people(con, plan, datasets, spans, periods))
    frame = _with_intervals(frame, [i for i in indicators if i.code not in unavailable], unavailable)
    frame = _with_comparisons(_with_peers(con, plan, frame))
    frame = frame.filter(pl.col("level").is_in(plan.reported))
    return frame.select(VALUE_COLUMNS).sort("indicator", "level", "area_code", "period_type", "period")


def _monthly(con: duckdb.DuckDBPyConnection, plan: _Plan, indicators: list[Indicator], spans: pl.DataFrame,
             datasets: list[str]) -> pl.DataFrame:
    """Every area of every counted level in every month of each indicator's span (``i``: the month's number in
    it), with the events counted (zero where none) and, for indicators of residents, person-years as the
    denominator; sorted so that each area's months follow each other."""
    events = con.execute(EVENT_COUNTS_SQL, {"finest": plan.finest, "datasets": datasets}).pl()
    months = spans.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("indicator").alias("i"))
    grid = months.join(_names(con, plan), how="cross").join(
        events, on=["indicator", "level", "area_code", "month"], how="left")
    population = [i.code for i in indicators if i.denominator.population is not None]
    if population:
        residents = con.execute(PERSON_YEARS_SQL, {"finest": plan.finest}).pl().rename({"n": "_residents"})
        grid = grid.join(residents, on=["level", "area_code", "month"], how="left").with_columns(
            pl.when(pl.col("indicator").is_in(population)).then(pl.col("_residents")).otherwise(pl.col("denominator"))
            .alias("denominator")).drop("_residents")
    return grid.with_columns(pl.col("numerator").fill_null(0.0), pl.col("denominator").fill_null(0.0)).sort(
        *SERIES_KEYS, "month")


def _names(con: duckdb.DuckDBPyConnection, plan: _Plan) -> pl.DataFrame:
    """(level, area_code, area_name) of every counted level, the whole place included."""
    names = con.execute("SELECT level, code AS area_code, name AS area_name FROM areas").pl()
    return pl.concat([names.filter(pl.col("level").is_in(plan.levels)),
                      pl.DataFrame({"level": [PLACE_LEVEL], "area_code": [plan.place], "area_name": [plan.place_name]})
                      .filter(pl.lit(PLACE_LEVEL in plan.levels))])


def _period_sums(monthly: pl.DataFrame, periods: tuple[str, ...]) -> pl.DataFrame:
    """Numerator and denominator summed over each period: the month itself, the 12 months to it (the 12 rows
    to it, each area having a row for every month) and the whole span."""
    sums = ("numerator", "denominator")
    parts = []
    if "month" in periods:
        parts.append(monthly.select(*SERIES_KEYS, pl.lit("month").alias("period_type"), pl.col("month").alias("period"),
                                    pl.lit(1, pl.UInt32).alias("months"), *sums))
    if "rolling_12" in periods:
        windows = [pl.sum_horizontal(pl.col(c).shift(k) for k in range(ROLLING)).alias(c) for c in sums]
        parts.append(monthly.with_columns(windows).filter(pl.col("i") >= ROLLING).select(
            *SERIES_KEYS, pl.lit("rolling_12").alias("period_type"), pl.col("month").alias("period"),
            pl.lit(ROLLING, pl.UInt32).alias("months"), *sums))
    if "whole" in periods:
        parts.append(monthly.group_by(SERIES_KEYS).agg(
            pl.lit("whole").alias("period_type"), pl.col("month").max().alias("period"),
            pl.len().alias("months"), *(pl.col(c).sum() for c in sums)))
    return pl.concat(parts)


def _people(con: duckdb.DuckDBPyConnection, plan: _Plan, datasets: list[str], spans: pl.DataFrame,
            periods: tuple[str, ...]) -> pl.DataFrame:
    """People counted once in each area for each period: (PERIOD_KEYS, numerator, denominator)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE people_seen AS {PEOPLE_SEEN_SQL}",
                {"finest": plan.finest, "datasets": datasets})
    months = spans.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("indicator").alias("i"))
    parts = [con.execute(PEOPLE_COUNTS_SQL[kind]).pl().with_columns(pl.lit(kind).alias("period_type"))
             for kind in PERIODS if kind in periods]
    counted = pl.concat(parts, how="vertical_relaxed").with_columns(pl.col("i").cast(pl.Int64))
    long = counted.join(months.rename({"month": "period"}), on=["indicator", "i"]).select(
        *PERIOD_KEYS, "role", pl.col("n").cast(pl.Float64))
    wide = long.pivot(on="role", index=PERIOD_KEYS, values="n")
    return wide.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("numerator", "denominator")
                             if c not in wide.columns)


def _with_people(frame: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """People added to the counts of events (an indicator's role counts either events or people)."""
    chosen = pl.col("indicator").is_in(people.get_column("indicator").unique().implode())
    counted = frame.filter(chosen).join(people.rename({"numerator": "_n", "denominator": "_d"}), on=PERIOD_KEYS,
                                        how="left")
    counted = counted.with_columns((pl.col("numerator") + pl.col("_n").fill_null(0.0)).alias("numerator"),
                                   (pl.col("denominator") + pl.col("_d").fill_null(0.0)).alias("denominator"))
    return pl.concat([frame.filter(~chosen), counted.drop("_n", "_d")])


# -- intervals and comparisons ------------------------------------------------------------------------


def _with_intervals(frame: pl.DataFrame, indicators: list[Indicator], unavailable: dict[str, str]) -> pl.DataFrame:
    parts = []
    by_indicator = frame.partition_by("indicator", as_dict=True)
    for indicator in indicators:
        part = by_indicator.get((indicator.code,))
        if part is None or part.is_empty():
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
    return _rate(numerator, denominator, multiplier, indicator.ci_method.value)


def _rate(numerator: np.ndarray, denominator: np.ndarray, multiplier: float, method: str) -> tuple[np.ndarray, ...]:
    """``intervals.rate``, working out the limits of each distinct count once (they depend on the count alone, and
    the exact ones are costly), then scaling them as it does."""
    counts, index = np.unique(np.asarray(numerator, dtype=float), return_inverse=True)
    _, lower, upper = intervals.rate(counts, 1.0, multiplier=1.0, method=method)
    denominator = np.asarray(denominator, dtype=float)
    if (denominator < 0).any():
        intervals.rate(numerator, denominator, multiplier=multiplier, method=method)  # its error, naming the value
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(denominator == 0, np.nan, multiplier / denominator)
    return numerator * scale, lower[index.reshape(np.shape(numerator))] * scale, upper[index.reshape(
        np.shape(numerator))] * scale


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


def _lineage(plan: _Plan, stored: StoredFramework, indicator: Indicator,
             loads_by_dataset: dict[str, list[str]]) -> dict[str, Any]:
    loads = {d: loads_by_dataset[d] for d in _datasets_of(indicator) if d in loads_by_dataset}
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


def value_interval(indicator: Indicator, numerator: np.ndarray, denominator: np.ndarray) -> tuple[np.ndarray, ...]:
    """Value, lower and upper limit from a numerator and denominator, by the indicator's method (nan where undefined):
    the same calculation as the values table, for figures recomputed from published counts."""
    return _interval(indicator, numerator, denominator)

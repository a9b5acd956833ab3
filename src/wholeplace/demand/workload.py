"""Hours of work: demand counts (observed or forecast) turned into hours by agency and role.

Hours per incident for a role = share of incidents attended × staff per attendance × hours
each. Where the data times the work (arrived → closed on scene for police calls and
ambulance incidents, start → close of a crisis contact), the attended share and the median
(or mean) hours come from the data, for each dataset and category with enough timed
incidents; otherwise they come from a versioned default table (``tables/hours-per-incident-
v1.csv``, overridable with a file of the same columns). The crew size always comes from the
table, since no feed records it. Every row says which was used (``basis``); categories of a
kind the table does not cover get basis ``none`` and no hours, rather than being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from wholeplace.demand import forecast
from wholeplace.errors import InputError, Problem
from wholeplace.model.events import EventKind
from wholeplace.overview import UnknownChoiceError
from wholeplace.store.stores import Stores

TABLES = Path(__file__).parent / "tables"
DEFAULT_TABLE = TABLES / "hours-per-incident-v1.csv"
TABLE_COLUMNS = ("kind", "category", "agency", "role", "attend_share", "staff", "hours", "source")
ANY_CATEGORY = "*"
STATISTICS = ("median", "mean")
MIN_TIMED = 20  # timed incidents needed before a category's observed hours are used

# Kinds whose feeds time the work itself: the role doing it, and the column the work starts at.
TIMED_WORK = {
    EventKind.CALL_FOR_SERVICE.value: ("police_officer", "arrived_at"),
    EventKind.AMBULANCE_INCIDENT.value: ("paramedic", "arrived_at"),
    EventKind.MENTAL_HEALTH_CONTACT.value: ("mental_health_practitioner", "coalesce(received_at, occurred_at)"),
}


def read_hours_table(path: Path | None = None) -> pl.DataFrame:
    """The hours table (default: the shipped version), checked row by row; all problems reported at once."""
    path = path or DEFAULT_TABLE
    try:
        table = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError([Problem(str(path), f"cannot be read as CSV: {error}")]) from None
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError([Problem(str(path), f"missing column(s): {', '.join(missing)}", line=1)],
                         hint=f"The header must be: {','.join(TABLE_COLUMNS)}.")
    problems = [p for line, row in enumerate(table.iter_rows(named=True), start=2)
                for p in _row_problems(str(path), line, row)]
    if problems:
        raise InputError(problems, hint="Fix the cells named above; docs/demand-forecast.md describes each column.")
    numbers = {c: pl.col(c).cast(pl.Float64) for c in ("attend_share", "staff", "hours")}
    return table.select(TABLE_COLUMNS).with_columns(**numbers).with_columns(table=pl.lit(path.name))


def _row_problems(file: str, line: int, row: dict[str, str | None]) -> list[Problem]:
    problems = [Problem(file, "is empty", line, c) for c in ("kind", "category", "agency", "role") if not row[c]]
    if row["kind"] and row["kind"] not in set(EventKind):
        problems.append(Problem(file, f"{row['kind']!r} is not an event kind ({', '.join(EventKind)})", line, "kind"))
    for column, top in (("attend_share", 1.0), ("staff", None), ("hours", None)):
        try:
            value = float(row[column] or "")
        except ValueError:
            problems.append(Problem(file, f"{row[column]!r} is not a number", line, column))
            continue
        if value < 0 or (top is not None and value > top):
            problems.append(Problem(file, f"{value} must be 0 or more{f' and at most {top}' if top else ''}",
                                    line, column))
    return problems


OBSERVED_SQL = """
SELECT dataset, kind, category, count(*) AS incidents, count({start}) AS started,
       count(*) FILTER (WHERE closed_at >= {start}) AS timed,
       {statistic}(epoch(closed_at - {start}) / 3600.0) FILTER (WHERE closed_at >= {start}) AS hours_each
FROM events_stored
WHERE kind = $kind AND ($datasets IS NULL OR list_contains($datasets, dataset))
  AND ($month_from IS NULL OR occurred_month >= $month_from) AND ($month_to IS NULL OR occurred_month <= $month_to)
GROUP BY ALL
"""


def observed_hours(*, stores: Stores, datasets: list[str] | None = None, month_from: date | str | None = None,
                   month_to: date | str | None = None, statistic: str = "median") -> pl.DataFrame:
    """Per dataset and category of each timed kind: incidents, the share started (attended), the timed ones
    and their median (or mean) hours from start to close."""
    if statistic not in STATISTICS:
        raise UnknownChoiceError(field="statistic", value=statistic, choices=list(STATISTICS))
    con = stores.connect()
    params = {"datasets": datasets, "month_from": forecast.parse_month(month_from),
              "month_to": forecast.parse_month(month_to)}
    frames = [con.execute(OBSERVED_SQL.format(start=start, statistic=statistic), params | {"kind": kind}).pl()
              .with_columns(role=pl.lit(role)) for kind, (role, start) in TIMED_WORK.items()]
    return pl.concat(frames).with_columns(attend_share=pl.col("started") / pl.col("incidents"))


@dataclass(frozen=True)
class HoursRates:
    """Hours per incident for every dataset, category and role, with where each figure came from."""

    rates: pl.DataFrame  # dataset, kind, category, agency, role, hours_per_incident, basis, attend_share, staff,
    #                      hours_each, timed, source
    table: str  # file name of the hours table used (its version is in the name)
    statistic: str


def hours_rates(*, stores: Stores, datasets: list[str] | None = None, month_from: date | str | None = None,
                month_to: date | str | None = None, table: Path | None = None, statistic: str = "median",
                min_timed: int = MIN_TIMED) -> HoursRates:
    """Hours per incident by dataset, category and role: observed where timed, else the table's."""
    defaults = read_hours_table(table)
    observed = observed_hours(stores=stores, datasets=datasets, month_from=month_from, month_to=month_to,
                              statistic=statistic)
    seen = stores.connect().execute(
        "SELECT DISTINCT dataset, kind, category FROM events_stored "
        "WHERE $datasets IS NULL OR list_contains($datasets, dataset)", {"datasets": datasets}).pl()
    return HoursRates(combine_rates(seen, defaults, observed, min_timed=min_timed),
                      str(defaults["table"][0]) if defaults.height else "", statistic)


def combine_rates(seen: pl.DataFrame, defaults: pl.DataFrame, observed: pl.DataFrame, *,
                  min_timed: int = MIN_TIMED) -> pl.DataFrame:
    """Match each (dataset, kind, category) to the table's rows (exact category before ``*``), then put
    observed shares and hours in place of the table's where ``min_timed`` incidents were timed."""
    exact = seen.join(defaults, on=["kind", "category"], how="inner")
    wild = seen.join(defaults.filter(pl.col("category") == ANY_CATEGORY).drop("category"), on="kind", how="inner")
    wild = wild.join(exact.select("dataset", "category", "role"), on=["dataset", "category", "role"], how="anti")
    matched = pl.concat([exact, wild.select(exact.columns)])
    usable = observed.filter(pl.col("timed") >= min_timed).select(
        "dataset", "category", "role", pl.col("attend_share").alias("seen_share"),
        pl.col("hours_each").alias("seen_hours"), "timed")
    joined = matched.join(usable, on=["dataset", "category", "role"], how="left")
    is_seen = pl.col("seen_hours").is_not_null()
    rates = joined.with_columns(
        attend_share=pl.when(is_seen).then("seen_share").otherwise("attend_share"),
        hours_each=pl.when(is_seen).then("seen_hours").otherwise("hours"),
        basis=pl.when(is_seen).then(pl.lit("observed")).otherwise(pl.lit("default")),
    ).with_columns(hours_per_incident=pl.col("attend_share") * pl.col("staff") * pl.col("hours_each"))
    uncovered = seen.join(matched.select("dataset", "category").unique(), on=["dataset", "category"], how="anti")
    return pl.concat([rates.select(RATE_COLUMNS), uncovered.with_columns(basis=pl.lit("none"))],
                     how="diagonal_relaxed").select(RATE_COLUMNS).sort("dataset", "category", "role")


RATE_COLUMNS = ("dataset", "kind", "category", "agency", "role", "hours_per_incident", "basis", "attend_share",
                "staff", "hours_each", "timed", "source")


def hours_of_work(counts: pl.DataFrame, rates: pl.DataFrame, *, values: tuple[str, ...] = ("events",)) -> pl.DataFrame:
    """Multiply each count column in ``values`` by hours per incident, one row per count row and role;
    the hours columns are named ``hours`` (for ``events`` or ``forecast``) or ``hours_<column>``."""
    joined = counts.join(rates.select("dataset", "category", "agency", "role", "hours_per_incident", "basis"),
                         on=["dataset", "category"], how="left")
    return joined.with_columns(
        (pl.col(v) * pl.col("hours_per_incident")).alias("hours" if v in ("events", "forecast") else f"hours_{v}")
        for v in values)


@dataclass(frozen=True)
class HoursForecast:
    """Forecast hours of work by dataset, area, category, month and role, and the rates behind them."""

    hours: pl.DataFrame
    by_role: pl.DataFrame  # agency, role, month, hours (point forecasts summed; intervals do not add up)
    rates: HoursRates
    forecast: forecast.DemandForecast


def forecast_hours(*, stores: Stores, datasets: list[str] | None = None, level: str | None = None,
                   dataset: str | None = None, categories: list[str] | None = None,
                   top_categories: int | None = None, horizon: int = forecast.MAX_HORIZON,
                   table: Path | None = None, statistic: str = "median") -> HoursForecast:
    """Forecast demand (``forecast.forecast_demand``) and turn it into hours by agency and role."""
    predicted = forecast.forecast_demand(stores=stores, datasets=datasets, level=level, dataset=dataset,
                                         categories=categories, top_categories=top_categories, horizon=horizon)
    rates = hours_rates(stores=stores, datasets=datasets, table=table, statistic=statistic)
    bounds = tuple(c for c in predicted.forecasts.columns if c.startswith(("lower_", "upper_")))
    hours = hours_of_work(predicted.forecasts, rates.rates, values=("forecast", *bounds))
    by_role = (hours.filter(pl.col("role").is_not_null()).group_by("agency", "role", "month")
               .agg(pl.col("hours").sum()).sort("agency", "role", "month"))
    return HoursForecast(hours, by_role, rates, predicted)

"""The demand profile: where, when, what and from whom demand comes, by count and by time consumed.

One function, ``demand_profile``, breaks events down by any combination of ``BREAKDOWNS`` —
area (at any loaded level), period (month, week or day), category (canonical, opening or
closing), priority, hour of day, day of week, source and dataset — and measures each cell
by ``count`` of events or by ``hours`` of time consumed. Every row carries both public
demand (public calls and other agencies' calls) and officer-initiated activity, which is
shown but kept out of public demand and of ``share_of_public``.

Time consumed is deployment time (dispatched → closed) where the data has dispatch and
closing times, else time on scene (arrived → closed); ``hours_basis`` says which. An event
of such a dataset that was never deployed (resolved by phone) consumes no deployment time
and counts as zero hours; an interval that runs backwards is left out and counted in
``method``. A dataset that cannot answer a breakdown (police.uk gives only the month, so no
hour, day or week; no dataset without closing times has hours) is left out of the frame
and named in ``not_available`` with the reason, never shown as zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from wholeplace.errors import UserError
from wholeplace.overview import UnknownChoiceError
from wholeplace.store.stores import Stores

# -- reading the events (shared with repeat.py) ---------------------------------------------------

TIME_SQL = "coalesce(e.received_at, e.occurred_at)"  # when the demand arose, to the clock time
# Source of demand: officer-initiated by the flag; another agency when the source's caller type
# (kept in ``attributes``) names one other than the public or an officer; else the public.
# Attributes are written as compact JSON, so plain substring tests settle most rows; only the
# rest go through two RE2 matches (any spacing or case): several times faster than parsing JSON.
CALLER_TYPE = r'(?s).*"caller_type"\s*:\s*'
SOURCES = ("public", "other_agency", "officer_initiated")  # a source's code is its place here


def _source_case(public: str, other_agency: str, officer_initiated: str) -> str:
    return (f"CASE WHEN e.flag_self_initiated THEN {officer_initiated} "
            f"WHEN NOT contains(e.attributes, '\"caller_type\"') THEN {public} "
            "WHEN contains(e.attributes, '\"caller_type\":\"PUBLIC\"') "
            f"OR contains(e.attributes, '\"caller_type\":\"OFFICER\"') THEN {public} "
            f"WHEN regexp_full_match(e.attributes, '{CALLER_TYPE}\"[^\"]*[^\"\\s][^\"]*\".*') "
            f"AND NOT regexp_full_match(e.attributes, '{CALLER_TYPE}\"\\s*(?i:public|officer)\\s*\".*') "
            f"THEN {other_agency} ELSE {public} END")


SOURCE_SQL = _source_case(*(f"'{name}'" for name in SOURCES))
SOURCE_CODE_SQL = _source_case(*(str(code) for code in range(len(SOURCES))))  # cheaper to group by than names
EVENT_FILTERS = ("($datasets IS NULL OR list_contains($datasets, e.dataset)) AND ($dataset IS NULL OR e.dataset = "
                 "$dataset) AND ($month_from IS NULL OR e.occurred_month >= $month_from) AND ($month_to IS NULL OR "
                 "e.occurred_month <= $month_to)")


def filter_params(*, datasets: list[str] | None, dataset: str | None, month_from: date | str | None,
                  month_to: date | str | None) -> dict[str, Any]:
    """The bound values of ``EVENT_FILTERS``."""
    return {"datasets": datasets, "dataset": dataset, "month_from": _month(month_from, "month_from"),
            "month_to": _month(month_to, "month_to")}


def _month(value: date | str | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value.replace(day=1) if value else None
    try:
        return date.fromisoformat(value.strip()[:7] + "-01")
    except ValueError:
        raise UserError(f"{field} {value!r} is not a month.", hint="Write it as YYYY-MM, e.g. 2024-03.") from None


def check_choice(*, field: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        raise UnknownChoiceError(field=field, value=value, choices=choices, where="for demand")


def check_level(con: duckdb.DuckDBPyConnection, level: str) -> None:
    loaded = [row[0] for row in con.execute("SELECT DISTINCT level FROM areas ORDER BY 1").fetchall()]
    if level not in loaded:
        raise UnknownChoiceError(field="level", value=level, choices=loaded)


def check_dataset(con: duckdb.DuckDBPyConnection, *, dataset: str | None, datasets: list[str] | None) -> None:
    """A dataset filter must name a loaded dataset the reader may see."""
    if dataset is None:
        return
    loaded = [row[0] for row in con.execute(
        "SELECT DISTINCT dataset FROM events_stored WHERE $datasets IS NULL OR list_contains($datasets, dataset) "
        "ORDER BY 1", {"datasets": datasets}).fetchall()]
    if dataset not in loaded:
        raise UnknownChoiceError(field="dataset", value=dataset, choices=loaded)


# -- the profile ----------------------------------------------------------------------------------

MEASURES = ("count", "hours")
PERIODS = {"month": "e.occurred_month", "week": f"CAST(date_trunc('week', {TIME_SQL}) AS DATE)",
           "day": f"CAST({TIME_SQL} AS DATE)"}
# breakdown → SQL over ``events_stored e`` (and ``pp``, the point's area at the chosen level);
# "period" is filled in from PERIODS. Names come from this allow-list, never from the request.
BREAKDOWNS: dict[str, str] = {
    "area": "CASE WHEN e.location_status = 'point' THEN pp.area_code "
            "WHEN e.location_status = 'area_only' AND e.source_area_level = $level THEN e.source_area_code END",
    "period": "",
    "category": "e.category",
    "category_opening": "coalesce(e.category_opening, e.category)",
    "category_closing": "coalesce(e.category_closing, e.category)",
    "priority": "e.priority",
    "hour": f"hour({TIME_SQL})",
    "weekday": f"isodow({TIME_SQL})",
    "source": SOURCE_SQL,
    "dataset": "e.dataset",
}
CLOCK = "e.time_precision IN ('second', 'minute')"  # hour of day needs a clock time
DATED = "e.time_precision <> 'month'"  # day, week and day of week need the date
HOURS_BASES = {
    "deployment": ("e.dispatched_at", "deployment (dispatched to closed)"),
    "on_scene": ("e.arrived_at", "on scene (arrived to closed)"),
}


@dataclass
class DemandProfile:
    """Demand broken down ``by`` the chosen breakdowns, measured by ``measure``."""

    frame: pl.DataFrame  # breakdowns, measure, public (of which other_agency), officer_initiated, all, share_of_public
    by: list[str]
    measure: str  # "count" (events) or "hours" (time consumed)
    hours_basis: str | None  # how hours were measured, None for counts
    totals: dict[str, float]  # all, public, other_agency, officer_initiated: sums of the frame
    not_available: dict[str, str]  # dataset → why it cannot answer this breakdown or measure
    method: dict[str, Any]


def demand_profile(
    *, stores: Stores, by: list[str], measure: str = "count", level: str | None = None, period: str = "month",
    hours_basis: str | None = None, dataset: str | None = None, month_from: date | str | None = None,
    month_to: date | str | None = None, datasets: list[str] | None = None,
) -> DemandProfile:
    """Demand by ``by`` (names from ``BREAKDOWNS``); ``level`` is needed when ``by`` has "area"."""
    return profile_events(con=stores.connect(), by=by, measure=measure, level=level, period=period,
                          hours_basis=hours_basis, dataset=dataset, month_from=month_from, month_to=month_to,
                          datasets=datasets)


def demand_profiles(
    *, stores: Stores, by: list[str], measures: list[str], level: str | None = None, period: str = "month",
    hours_basis: str | None = None, dataset: str | None = None, month_from: date | str | None = None,
    month_to: date | str | None = None, datasets: list[str] | None = None,
) -> dict[str, DemandProfile]:
    """``demand_profile`` by several measures at once (e.g. count and hours), from one pass over the events."""
    return profile_events_measures(con=stores.connect(), by=by, measures=measures, level=level, period=period,
                                   hours_basis=hours_basis, dataset=dataset, month_from=month_from,
                                   month_to=month_to, datasets=datasets)


def demand_profile_sets(
    *, stores: Stores, sets: list[list[str]], measures: list[str], level: str | None = None, period: str = "month",
    hours_basis: str | None = None, dataset: str | None = None, month_from: date | str | None = None,
    month_to: date | str | None = None, datasets: list[str] | None = None,
) -> list[dict[str, DemandProfile]]:
    """``demand_profiles`` for each breakdown in ``sets``, all from one pass over the events."""
    return profile_events_sets(con=stores.connect(), sets=sets, measures=measures, level=level, period=period,
                               hours_basis=hours_basis, dataset=dataset, month_from=month_from,
                               month_to=month_to, datasets=datasets)


def profile_events(
    *, con: duckdb.DuckDBPyConnection, by: list[str], measure: str = "count", level: str | None = None,
    period: str = "month", hours_basis: str | None = None, dataset: str | None = None,
    month_from: date | str | None = None, month_to: date | str | None = None, datasets: list[str] | None = None,
) -> DemandProfile:
    """``demand_profile`` on a connection holding the ``events_stored`` (and place) views."""
    return profile_events_measures(con=con, by=by, measures=[measure], level=level, period=period,
                                   hours_basis=hours_basis, dataset=dataset, month_from=month_from,
                                   month_to=month_to, datasets=datasets)[measure]


def profile_events_measures(
    *, con: duckdb.DuckDBPyConnection, by: list[str], measures: list[str], level: str | None = None,
    period: str = "month", hours_basis: str | None = None, dataset: str | None = None,
    month_from: date | str | None = None, month_to: date | str | None = None, datasets: list[str] | None = None,
) -> dict[str, DemandProfile]:
    """``demand_profiles`` on a connection holding the ``events_stored`` (and place) views. The hours
    pass counts the events too, so asking for both costs one pass, not two."""
    return profile_events_sets(con=con, sets=[by], measures=measures, level=level, period=period,
                               hours_basis=hours_basis, dataset=dataset, month_from=month_from, month_to=month_to,
                               datasets=datasets)[0]


def profile_events_sets(
    *, con: duckdb.DuckDBPyConnection, sets: list[list[str]], measures: list[str], level: str | None = None,
    period: str = "month", hours_basis: str | None = None, dataset: str | None = None,
    month_from: date | str | None = None, month_to: date | str | None = None, datasets: list[str] | None = None,
) -> list[dict[str, DemandProfile]]:
    """``profile_events_measures`` for each breakdown in ``sets`` (e.g. ``[["period", "category"],
    ["hour", "weekday"]]``), all from one pass over the events (SQL grouping sets), as a page showing
    several breakdowns asks for them. The same answers as one call per breakdown."""
    if not measures:
        raise UserError("Choose at least one measure for the demand profile.",
                        hint=f"Choose from: {', '.join(MEASURES)}.")
    if not sets:
        raise UserError("Choose at least one breakdown for the demand profile.",
                        hint=f"Choose from: {', '.join(BREAKDOWNS)}.")
    for by in sets:
        for measure in measures:
            _check_request(con, by=by, measure=measure, level=level, period=period, hours_basis=hours_basis,
                           dataset=dataset, datasets=datasets)
    areas = any("area" in by for by in sets)
    params = filter_params(datasets=datasets, dataset=dataset, month_from=month_from, month_to=month_to)
    params |= {"level": level} if areas else {}
    all_cells, basis = _cells_and_basis(con, params, sets=sets, period=period,
                                        measure="hours" if "hours" in measures else "count", hours_basis=hours_basis)
    names = con.execute("SELECT code AS area, name AS area_name FROM areas WHERE level = $level",
                        {"level": level}).pl() if areas else None
    profiles = []
    for by, cells in zip(sets, all_cells, strict=True):
        coverage = _coverage(cells)
        profiles.append({measure: _profile(cells, coverage, names if "area" in by else None, by=by, measure=measure,
                                           level=level, period=period, basis=basis if measure == "hours" else None)
                         for measure in measures})
    return profiles


def _profile(cells: pl.DataFrame, coverage: pl.DataFrame, area_names: pl.DataFrame | None, *, by: list[str],
             measure: str, level: str | None, period: str, basis: str | None) -> DemandProfile:
    usable, not_available = _usable_datasets(coverage, by=by, period=period, basis=basis, measure=measure)
    frame, invalid = _profile_frame(cells.filter(pl.col("_dataset").is_in(usable)), by=by, basis=basis)
    frame = _with_area_names(frame, area_names) if area_names is not None else frame
    return DemandProfile(
        frame=frame, by=list(by), measure=measure, hours_basis=HOURS_BASES[basis][1] if basis else None,
        totals=_totals(frame), not_available=not_available,
        method=_method(coverage, usable, invalid, by=by, period=period, level=level, basis=basis, measure=measure),
    )


def _check_request(con: duckdb.DuckDBPyConnection, *, by: list[str], measure: str, level: str | None, period: str,
                   hours_basis: str | None, dataset: str | None, datasets: list[str] | None) -> None:
    if not by:
        raise UserError("Choose at least one breakdown for the demand profile.",
                        hint=f"Choose from: {', '.join(BREAKDOWNS)}.")
    for name in by:
        check_choice(field="breakdown", value=name, choices=list(BREAKDOWNS))
    if len(set(by)) != len(by):
        raise UserError(f"A breakdown is named twice in {', '.join(by)}.", hint="Name each breakdown once.")
    check_choice(field="measure", value=measure, choices=list(MEASURES))
    check_choice(field="period", value=period, choices=list(PERIODS))
    if hours_basis is not None:
        check_choice(field="hours basis", value=hours_basis, choices=list(HOURS_BASES))
    if "area" in by:
        if level is None:
            raise UserError("The area breakdown needs a geography level.", hint="Give a level, e.g. lsoa or ward.")
        check_level(con, level)
    check_dataset(con, dataset=dataset, datasets=datasets)


def _cells_and_basis(con: duckdb.DuckDBPyConnection, params: dict[str, Any], *, sets: list[list[str]], period: str,
                     measure: str, hours_basis: str | None) -> tuple[list[pl.DataFrame], str | None]:
    """The cells of each breakdown, and for hours the basis: the one chosen, else deployment where any
    event has dispatch and closing times, else time on scene (read in a second pass, only then)."""
    if measure != "hours":
        return _cells(con, params, sets=sets, period=period, bases=[]), None
    basis = hours_basis or "deployment"
    cells = _cells(con, params, sets=sets, period=period, bases=[basis])
    if hours_basis is None and not cells[0]["_deployment"].sum():
        basis = "on_scene"
        cells = _cells(con, params, sets=sets, period=period, bases=[basis])
    return cells, basis


def _cells(con: duckdb.DuckDBPyConnection, params: dict[str, Any], *, sets: list[list[str]], period: str,
           bases: list[str]) -> list[pl.DataFrame]:
    """One pass over the events: per dataset, breakdown cell and source, the events, the hours of
    each basis asked for (events whose interval runs backwards are counted apart, not summed), and
    only the coverage counts these requests are judged by (``_coverage_sql``); for several breakdowns,
    grouping sets, each set's cells told apart by ``GROUPING()``. Source is grouped by its code and
    named afterwards, which groups faster than by its name."""
    every = [name for by in sets for name in by]
    names = [name for name in dict.fromkeys(every) if name != "source"]
    # Keys are named apart from the events' columns: a grouping set binds a name to a column before an alias.
    keys = [f"{_expression(name, period)} AS _by_{name}, " for name in names]
    measures = ["count(*) AS _events", *_coverage_sql(every, period, bases), *_hours_sql(bases)]
    join = ("LEFT JOIN point_places pp ON pp.longitude = e.longitude AND pp.latitude = e.latitude "
            "AND pp.level = $level" if "area" in every else "")
    distinct = list(dict.fromkeys(frozenset(by) for by in sets))
    grouping, which = "GROUP BY ALL", ""
    if len(distinct) > 1:
        groups = (", ".join(["_dataset", "_source", *[f"_by_{n}" for n in names if n in by]]) for by in distinct)
        grouping = f"GROUP BY GROUPING SETS ({', '.join(f'({g})' for g in groups)})"
        which = f", GROUPING({', '.join(f'_by_{n}' for n in names)}) AS _set"
    sql = f"""
      SELECT e.dataset AS _dataset, {''.join(keys)}{SOURCE_CODE_SQL} AS _source, {', '.join(measures)}{which}
      FROM events_stored e {join} WHERE {EVENT_FILTERS} {grouping}"""
    cells = con.execute(sql, params).pl().rename({f"_by_{name}": name for name in names}).with_columns(
        pl.col("_source").replace_strict(dict(enumerate(SOURCES)), return_dtype=pl.String))
    return [_cells_of(cells, by, names, several=len(distinct) > 1) for by in sets]


def _cells_of(cells: pl.DataFrame, by: list[str], names: list[str], *, several: bool) -> pl.DataFrame:
    """One breakdown's cells: its grouping set's rows (GROUPING() has a bit set, first name highest,
    for each name the set does not group by), without the other breakdowns' columns."""
    if several:
        bits = sum(1 << (len(names) - 1 - i) for i, name in enumerate(names) if name not in by)
        cells = cells.filter(pl.col("_set") == bits).drop("_set", *[name for name in names if name not in by])
    return cells.with_columns(source=pl.col("_source")) if "source" in by else cells


def _coverage_sql(by: list[str], period: str, bases: list[str]) -> list[str]:
    """How many events have a clock time (for hour of day), a date (for day of week, week and day)
    and each interval asked for: only what ``_why_not`` will look at, as each costs a column read."""
    dated = "weekday" in by or ("period" in by and period != "month")
    counts = ([f"count({TIME_SQL}) FILTER (WHERE {CLOCK}) AS _clock"] if "hour" in by else []) + (
        [f"count({TIME_SQL}) FILTER (WHERE {DATED}) AS _dated"] if dated else [])
    precision = ["any_value(e.time_precision) AS _precision"] if counts else []
    return precision + counts + [f"count({_interval_sql(basis)}) AS _{basis}" for basis in bases]


def _hours_sql(bases: list[str]) -> list[str]:
    """Hours of each basis from whole microseconds (exact sums), and the intervals running backwards."""
    hours = []
    for basis in bases:
        interval = _interval_sql(basis)
        hours += [f"coalesce(CAST(sum(greatest({interval}, 0)) AS DOUBLE) / 3600e6, 0.0) AS _hours_{basis}",
                  f"count(*) FILTER (WHERE {interval} < 0) AS _invalid_{basis}"]
    return hours


def _interval_sql(basis: str) -> str:
    return f"(epoch_us(e.closed_at) - epoch_us({HOURS_BASES[basis][0]}))"


COVERAGE = ("events", "clock", "dated", "deployment", "on_scene")


def _coverage(cells: pl.DataFrame) -> pl.DataFrame:
    """Per dataset: events, and how many have a clock time, a date, and each kind of interval
    (null where the request did not need to count them)."""
    sums = [pl.col(f"_{c}").sum().alias(c) if f"_{c}" in cells.columns else pl.lit(None, pl.Int64).alias(c)
            for c in COVERAGE]
    precision = pl.col("_precision").first() if "_precision" in cells.columns else pl.lit(None, pl.String)
    return cells.group_by("_dataset").agg(*sums, precision.alias("time_precision")
                                          ).rename({"_dataset": "dataset"}).sort("dataset")


def _usable_datasets(coverage: pl.DataFrame, *, by: list[str], period: str, basis: str | None,
                     measure: str) -> tuple[list[str], dict[str, str]]:
    """Datasets that can answer the request, and for the others why not."""
    usable, missing = [], {}
    for row in coverage.iter_rows(named=True):
        reason = _why_not(row, by=by, period=period, basis=basis, measure=measure)
        if reason:
            missing[row["dataset"]] = reason
        else:
            usable.append(row["dataset"])
    return usable, missing


def _why_not(row: dict[str, Any], *, by: list[str], period: str, basis: str | None, measure: str) -> str | None:
    precision = row["time_precision"]
    if "hour" in by and not row["clock"]:
        return f"Hour of day is not available for this dataset: it records times only to the {precision}."
    dated = [name for name in ("weekday",) if name in by] + (["period"] if "period" in by and period != "month"
                                                             else [])
    if dated and not row["dated"]:
        what = "Day of week" if "weekday" in dated else f"A {period}ly period"
        return f"{what} is not available for this dataset: it records only the {precision}."
    if measure == "hours" and basis is not None and not row[basis]:
        start = "dispatch" if basis == "deployment" else "arrival"
        return (f"Time consumed ({HOURS_BASES[basis][1]}) is not available for this dataset: it has no "
                f"{start} and closing times.")
    return None


def _profile_frame(cells: pl.DataFrame, *, by: list[str], basis: str | None) -> tuple[pl.DataFrame, int]:
    """The frame from the cells of the usable datasets, and how many events were left out for an
    interval running backwards (a cell made only of those is not shown)."""
    value = pl.col("_events" if basis is None else f"_hours_{basis}").cast(pl.Float64)
    left_out = pl.lit(0) if basis is None else pl.col(f"_invalid_{basis}")
    officer = pl.col("_source") == "officer_initiated"
    frame = cells.group_by(by).agg(
        pl.lit("count" if basis is None else "hours").alias("measure"),
        value.filter(~officer).sum().alias("public"),
        value.filter(pl.col("_source") == "other_agency").sum().alias("other_agency"),
        value.filter(officer).sum().alias("officer_initiated"), value.sum().alias("all"),
        (pl.col("_events") - left_out).sum().alias("_kept"), left_out.sum().alias("_left_out"),
    ).sort(by, nulls_last=True)
    invalid = int(frame["_left_out"].sum()) if frame.height else 0
    frame = frame.filter(pl.col("_kept") > 0).drop("_kept", "_left_out")
    public_total = frame["public"].sum() if frame.height else 0.0
    frame = frame.with_columns(share_of_public=pl.col("public") / public_total if public_total
                               else pl.lit(None, pl.Float64))
    return frame, invalid


def _expression(name: str, period: str) -> str:
    return PERIODS[period] if name == "period" else BREAKDOWNS[name]


def _with_area_names(frame: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    frame = frame.join(names, on="area", how="left")
    first = ["area", "area_name"]
    return frame.select(first + [c for c in frame.columns if c not in first])


def _totals(frame: pl.DataFrame) -> dict[str, float]:
    sums = {name: float(frame[name].sum()) if frame.height else 0.0
            for name in ("all", "public", "other_agency", "officer_initiated")}
    return sums


def _method(coverage: pl.DataFrame, usable: list[str], invalid: int, *, by: list[str], period: str,
            level: str | None, basis: str | None, measure: str) -> dict[str, Any]:
    counted = coverage.filter(pl.col("dataset").is_in(usable))
    return {
        "breakdowns": list(by), "period": period if "period" in by else None, "level": level if "area" in by else None,
        "measure": measure, "hours_basis": basis,
        "datasets_used": usable, "events_used": int(counted["events"].sum()) if counted.height else 0,
        "invalid_intervals_left_out": invalid,
        "explanation": (
            "public = calls from the public and from other agencies; officer_initiated = activity officers or "
            "staff started themselves, shown but outside public demand and share_of_public. Times of day come "
            "from the received time (else the occurred time). Hours: " + (HOURS_BASES[basis][1] if basis else
            "not measured") + "; an event never deployed counts zero hours; intervals running backwards are "
            "left out. An area of null means the event is not in any area of this level."),
    }

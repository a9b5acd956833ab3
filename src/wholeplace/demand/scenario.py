"""Right Care, Right Person scenarios: "if x % of a category moves to health", what changes.

For each place and month, moving a share of a Right Care, Right Person (RCRP) group's police
incidents to health releases that share of the police officer hours those incidents take
(hours per incident from ``workload``, observed or default) and requires health hours at the
group's receiving rate (``tables/rcrp-health-hours-v1.csv``). Call handling is not released:
the calls still reach the police first. Demand is either observed in a chosen period or the
point forecast. Which canonical categories make up each group is an argument, with a default
(``RCRP_GROUPS``) that the incident classification of ``demand.rcrp`` can replace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from wholeplace.demand import forecast, workload
from wholeplace.errors import InputError, Problem, UserError
from wholeplace.model.events import EventKind
from wholeplace.overview import UnknownChoiceError
from wholeplace.store.stores import Stores

# The NPA's areas of police demand (concern for welfare; walked out of healthcare or absent
# without leave; medical), by the canonical categories that carry them.
RCRP_GROUPS: dict[str, tuple[str, ...]] = {
    "concern_for_welfare": ("concern_for_welfare", "mental_health", "suicide_threat"),
    "walked_out_or_awol": ("absent_from_care", "missing_person"),
    "medical": ("medical_emergency",),
}
HEALTH_TABLE = workload.TABLES / "rcrp-health-hours-v1.csv"
HEALTH_COLUMNS = ("group", "agency", "role", "staff", "hours", "source")
RELEASED_ROLES = ("police_officer",)
BASES = ("observed", "forecast")


def read_health_table(path: Path | None = None) -> pl.DataFrame:
    """Health hours per moved incident by RCRP group (group, agency, role, hours_per_incident, source)."""
    path = path or HEALTH_TABLE
    table = pl.read_csv(path, infer_schema=False)
    missing = [c for c in HEALTH_COLUMNS if c not in table.columns]
    problems = [Problem(str(path), f"missing column(s): {', '.join(missing)}", line=1)] if missing else []
    for line, row in enumerate(table.iter_rows(named=True) if not missing else [], start=2):
        for column in ("staff", "hours"):
            try:
                if float(row[column] or "") < 0:
                    raise ValueError
            except ValueError:
                problems.append(Problem(str(path), f"{row[column]!r} is not a number of 0 or more", line, column))
    if problems:
        raise InputError(problems, hint=f"The header must be: {','.join(HEALTH_COLUMNS)}.")
    return table.select(
        "group", "agency", "role", (pl.col("staff").cast(pl.Float64) * pl.col("hours").cast(pl.Float64))
        .alias("hours_per_incident"), "source")


def move_to_health(demand: pl.DataFrame, *, percent: float, police_rates: pl.DataFrame,
                   health_rates: pl.DataFrame, groups: Mapping[str, Sequence[str]] = RCRP_GROUPS) -> pl.DataFrame:
    """The scenario for a frame of demand (dataset, area_code, category, month, events).

    ``police_rates``: dataset, category, hours_per_incident (officer hours); ``health_rates``:
    group, hours_per_incident (summed over receiving roles). One row per area, month and group.
    """
    check_percent(percent)
    share = percent / 100
    membership = pl.DataFrame([(c, g) for g, cats in groups.items() for c in cats], schema=["category", "group"],
                              orient="row")
    police = police_rates.group_by("dataset", "category").agg(pl.col("hours_per_incident").sum().alias("police"))
    health = health_rates.group_by("group").agg(pl.col("hours_per_incident").sum().alias("health"))
    rows = (demand.join(membership, on="category", how="inner")
            .join(police, on=["dataset", "category"], how="left")
            .join(health, on="group", how="left")
            .with_columns(moved=pl.col("events") * share))
    return (rows.group_by("area_code", "month", "group").agg(
        incidents=pl.col("events").sum(), moved=pl.col("moved").sum(),
        police_hours=(pl.col("events") * pl.col("police")).sum(),
        police_hours_released=(pl.col("moved") * pl.col("police")).sum(),
        health_hours_required=(pl.col("moved") * pl.col("health")).sum(),
        police_rate_missing=pl.col("police").is_null().any(),
        health_rate_missing=pl.col("health").is_null().any(),
    ).sort("group", "area_code", "month", nulls_last=False))


def check_percent(percent: float) -> None:
    if not 0 <= percent <= 100:
        raise UserError(f"The share moved to health must be between 0 and 100 %, not {percent}.",
                        hint="Give a percentage, e.g. 30 for 30 %.")


@dataclass(frozen=True)
class Scenario:
    """The scenario by place, month and group, with the rates and choices behind it."""

    frame: pl.DataFrame  # area_code, month, group, incidents, moved, police_hours, police_hours_released,
    #                      health_hours_required, police_rate_missing, health_rate_missing
    percent: float
    basis: str  # observed or forecast
    groups: dict[str, tuple[str, ...]]
    police_rates: pl.DataFrame
    health_rates: pl.DataFrame


def rcrp_scenario(*, stores: Stores, percent: float, datasets: list[str] | None = None,
                  groups: Mapping[str, Sequence[str]] | None = None, group: str | None = None,
                  level: str | None = None, basis: str = "observed", month_from: date | str | None = None,
                  month_to: date | str | None = None, horizon: int = 12, table: Path | None = None,
                  health_table: Path | None = None, statistic: str = "median") -> Scenario:
    """Police hours released and health hours required if ``percent`` % of each RCRP group (or of
    ``group`` only) moved to health, per area of ``level`` and month, on police calls for service."""
    check_percent(percent)
    chosen = _choose_groups(dict(groups or RCRP_GROUPS), group)
    if basis not in BASES:
        raise UnknownChoiceError(field="basis", value=basis, choices=list(BASES))
    calls = _call_datasets(stores, datasets)
    categories = _present_categories(stores, calls, chosen)
    demand = forecast.monthly_demand(stores=stores, datasets=calls, level=level, categories=categories,
                                     month_from=month_from, month_to=month_to).frame
    if basis == "forecast":
        forecast.check_horizon(horizon)
        demand = forecast.forecast_frame(demand, horizon=horizon, level=level).forecasts.select(
            "dataset", "area_code", "category", "month", pl.col("forecast").alias("events"))
    rates = workload.hours_rates(stores=stores, datasets=calls, month_from=month_from, month_to=month_to,
                                 table=table, statistic=statistic).rates
    police = rates.filter(pl.col("role").is_in(RELEASED_ROLES))
    health = read_health_table(health_table)
    frame = move_to_health(demand, percent=percent, police_rates=police, health_rates=health, groups=chosen)
    return Scenario(frame, percent, basis, chosen, police, health)


def _choose_groups(groups: dict[str, Sequence[str]], group: str | None) -> dict[str, tuple[str, ...]]:
    if group is not None and group not in groups:
        raise UnknownChoiceError(field="Right Care, Right Person group", value=group, choices=list(groups))
    return {g: tuple(c) for g, c in groups.items() if group is None or g == group}


def _call_datasets(stores: Stores, datasets: list[str] | None) -> list[str]:
    found = [r[0] for r in stores.connect().execute(
        "SELECT DISTINCT dataset FROM events_stored WHERE kind = $kind "
        "AND ($datasets IS NULL OR list_contains($datasets, dataset)) ORDER BY 1",
        {"kind": EventKind.CALL_FOR_SERVICE.value, "datasets": datasets}).fetchall()]
    if not found:
        raise UserError("No police calls for service are loaded (or readable), so there is no demand to move.",
                        hint="Load a calls-for-service extract through a mapping file first.")
    return found


def _present_categories(stores: Stores, calls: list[str], groups: dict[str, tuple[str, ...]]) -> list[str]:
    wanted = sorted({c for cats in groups.values() for c in cats})
    present = [r[0] for r in stores.connect().execute(
        "SELECT DISTINCT category FROM events_stored WHERE list_contains($calls, dataset) "
        "AND list_contains($wanted, category) ORDER BY 1", {"calls": calls, "wanted": wanted}).fetchall()]
    if not present:
        raise UserError(f"None of the categories {', '.join(wanted)} occur in the police calls loaded.",
                        hint="Check the category mapping of the calls, or name the categories of each group.")
    return present

"""``wholeplace demand``: the demand analyses at the terminal, for operators reading the store directly.

Each command prints its main table as a table, CSV or JSON (with the rest of the result: notes, datasets left
out, the model or mapping version). The store is read as a whole, without a reader's scope or disclosure control,
as the other operator commands do: what leaves the machine should go through the web app or API.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from wholeplace.cli.main import DataDirOption, console, fail, make_settings
from wholeplace.errors import UserError
from wholeplace.store import open_stores

demand_app = typer.Typer(help="Demand: profile, repeat, not police business, failure, response, forecast, scenario.",
                         no_args_is_help=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, csv or json (json adds notes).")]
DatasetOption = Annotated[list[str] | None, typer.Option("--dataset", help="Only this dataset (repeatable).")]


def _stores(data_dir: Any) -> Any:
    return open_stores(make_settings(data_dir))


def _print(frame: pl.DataFrame, output_format: OutputFormat, extra: dict[str, Any]) -> None:
    if output_format is OutputFormat.CSV:
        sys.stdout.write(frame.write_csv())
    elif output_format is OutputFormat.JSON:
        rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                for r in frame.iter_rows(named=True)]
        sys.stdout.write(json.dumps({"rows": rows, **extra}, default=str, indent=1) + "\n")
    else:
        table = Table(*frame.columns)
        for row in frame.iter_rows():
            table.add_row(*("" if v is None else f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row))
        console.print(table)
        for key, value in extra.items():
            console.print(f"{key}: {value}", highlight=False, markup=False, soft_wrap=True)


def _run(output_format: OutputFormat, build: Any) -> None:
    try:
        frame, extra = build()
    except UserError as exc:
        fail(exc)
        return
    _print(frame, output_format, extra)


@demand_app.command("profile")
def profile_command(by: Annotated[list[str], typer.Option("--by", help="A breakdown (repeatable): area, period, "
                    "category, category_opening, category_closing, priority, hour, weekday, source, dataset.")],
                    measure: Annotated[str, typer.Option(help="count or hours")] = "count",
                    level: Annotated[str | None, typer.Option(help="Level for the area breakdown.")] = None,
                    period: Annotated[str, typer.Option(help="month, week or day")] = "month",
                    output_format: FormatOption = OutputFormat.TABLE, data_dir: DataDirOption = None) -> None:
    """Demand by any breakdowns, by count or hours; public demand apart from officer-initiated."""
    from wholeplace.demand.profile import demand_profile

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = demand_profile(stores=_stores(data_dir), by=by, measure=measure, level=level, period=period)
        return found.frame, {"totals": found.totals, "hours_basis": found.hours_basis,
                             "not_available": found.not_available}
    _run(output_format, build)


@demand_app.command("repeat")
def repeat_command(entity: Annotated[str, typer.Option(help="location, caller or person")] = "location",
                   min_contacts: Annotated[int, typer.Option(help="Contacts to count as a repeat.")] = 3,
                   window: Annotated[str, typer.Option(help="12m (fixed months) or 28d (rolling days).")] = "12m",
                   output_format: FormatOption = OutputFormat.TABLE, data_dir: DataDirOption = None) -> None:
    """Prevalence and concentration of repeat demand, with Gini coefficients; the busiest tokens."""
    from wholeplace.demand.repeat import repeat_demand

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = repeat_demand(stores=_stores(data_dir), entity=entity, min_contacts=min_contacts, window=window)
        summary = {k: getattr(found, k) for k in ("definition", "basis", "entities", "repeat_entities",
                                                   "repeat_entity_share", "contacts", "repeat_contacts",
                                                   "repeat_demand_share")}
        return found.top, summary | {"concentration": found.concentration, "caveats": found.caveats,
                                     "not_available": found.not_available}
    _run(output_format, build)


@demand_app.command("rcrp")
def rcrp_command(basis: Annotated[str, typer.Option(help="opening or closing category")] = "opening",
                 dataset: DatasetOption = None, output_format: FormatOption = OutputFormat.TABLE,
                 data_dir: DataDirOption = None) -> None:
    """Right Care, Right Person incidents by category: volume, threshold, officer hours, raised by agencies."""
    from wholeplace.demand.rcrp import rcrp_report

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = rcrp_report(stores=_stores(data_dir), datasets=dataset, basis=basis)
        return found.by_category, {"mapping_version": found.mapping_version, "incidents": found.incidents,
                                   "rcrp_incidents": found.rcrp_incidents, "unmapped": found.unmapped.to_dicts(),
                                   "handover": found.handover.reason, "notes": found.notes}
    _run(output_format, build)


@demand_app.command("failure")
def failure_command(repeat_days: Annotated[int, typer.Option(help="Days for a repeat of the same problem.")] = 7,
                    dataset: DatasetOption = None, output_format: FormatOption = OutputFormat.TABLE,
                    data_dir: DataDirOption = None) -> None:
    """Failure demand proxies (rule-based estimates, not coded judgements)."""
    from wholeplace.demand.failure import failure_report

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = failure_report(stores=_stores(data_dir), datasets=dataset, repeat_days=repeat_days)
        return found.proxies, {"contacts": found.contacts, "any_proxy": found.any_proxy, "notes": found.notes}
    _run(output_format, build)


@demand_app.command("response")
def response_command(clock_start: Annotated[str, typer.Option(help="received or dispatched")] = "received",
                     level: Annotated[str | None, typer.Option(help="Level of the area breakdown.")] = None,
                     dataset: DatasetOption = None, output_format: FormatOption = OutputFormat.TABLE,
                     data_dir: DataDirOption = None) -> None:
    """Segment medians and 90th percentiles, the emergency standard, and valid / invalid / censored counts."""
    from wholeplace.demand.response import response_report

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = response_report(stores=_stores(data_dir), datasets=dataset, level=level, clock_start=clock_start)
        return found.segments, {"incidents": found.incidents, "statuses": found.statuses.to_dicts(),
                                "emergency": found.emergency.to_dicts(), "counts": found.counts, "notes": found.notes}
    _run(output_format, build)


@demand_app.command("forecast")
def forecast_command(top: Annotated[int, typer.Option(help="Largest categories per dataset.")] = 3,
                     horizon: Annotated[int, typer.Option(help="Months ahead (1 to 48).")] = 24,
                     dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
                     output_format: FormatOption = OutputFormat.TABLE, data_dir: DataDirOption = None) -> None:
    """The model chosen for each series by backtest, and forecast hours of work by agency and role."""
    from wholeplace.demand.workload import forecast_hours

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = forecast_hours(stores=_stores(data_dir), dataset=dataset, top_categories=top, horizon=horizon)
        return found.forecast.models, {"hours_by_role": found.by_role.to_dicts(),
                                       "forecasts": found.forecast.forecasts.to_dicts()}
    _run(output_format, build)


@demand_app.command("scenario")
def scenario_command(percent: Annotated[float, typer.Option(help="Share moved to health, 0 to 100.")],
                     group: Annotated[str | None, typer.Option(help="Only this RCRP group.")] = None,
                     basis: Annotated[str, typer.Option(help="observed or forecast")] = "observed",
                     level: Annotated[str | None, typer.Option(help="Places at this level.")] = None,
                     output_format: FormatOption = OutputFormat.TABLE, data_dir: DataDirOption = None) -> None:
    """Police hours released and health hours required, per place and month."""
    from wholeplace.demand.scenario import rcrp_scenario

    def build() -> tuple[pl.DataFrame, dict[str, Any]]:
        found = rcrp_scenario(stores=_stores(data_dir), percent=percent, group=group, basis=basis, level=level)
        return found.frame, {"percent": found.percent, "basis": found.basis, "groups": found.groups}
    _run(output_format, build)

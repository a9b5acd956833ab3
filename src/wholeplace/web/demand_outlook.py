"""What the demand pages, API, exports and report show about time and the future: response and time lost,
failure demand (proxies and sample coding), forecast demand in hours of work, and the Right Care, Right Person
scenario, as published ``Section``s.

Counts go through the reader's disclosure rule, and a median, percentile, share or number of hours worked out
from a count is hidden when that count is. Forecasts and scenario figures are model estimates, not counts of
events: they are rounded and marked as estimates, and the monthly history they are fitted to is published under
the rule.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from wholeplace import published
from wholeplace.demand import failure, forecast, response, sample_coding, scenario, workload
from wholeplace.governance.scope import ReadScope
from wholeplace.store.stores import Stores
from wholeplace.web import demand_charts
from wholeplace.web.demand_tables import Chart, Column, Section, Table, hide_with, publish_counts, publish_each, share

SEGMENT_LABELS = {"call_to_dispatch": "Call to dispatch", "dispatch_to_arrival": "Dispatch to arrival",
                  "on_scene": "On scene", "call_to_arrival": "Call to arrival", "call_to_close": "Call to close"}
ESTIMATE_NOTE = ("Forecasts and scenario figures are model estimates, not counts of events: they are rounded and "
                 "not suppressed. The monthly history they are fitted to is published under the disclosure rule.")


# -- response and time lost ------------------------------------------------------------------------------

def response_section(*, stores: Stores, scope: ReadScope, clock_start: str = "received",
                     breakdown: str = "grade") -> Section:
    """Valid / invalid / censored counts, segment medians and 90th percentiles, the emergency standard."""
    published.require_datasets(scope)
    response.check_datasets(stores=stores, datasets=scope.datasets)
    if breakdown not in response.BREAKDOWNS:
        raise response.UnknownChoiceError(field="breakdown", value=breakdown, choices=list(response.BREAKDOWNS))
    level = scope.levels[0] if scope.levels else None
    report = response.response_report(stores=stores, datasets=scope.datasets, level=level, clock_start=clock_start)
    rule = scope.rule
    section = Section("response", "Response and time lost", rule.statement(), notes=list(report.notes))
    _status_part(section, report, scope)
    segments = report.segments.filter(pl.col("breakdown") == breakdown).to_dicts()
    rows = [hide_with(publish_each(r, rule=rule, values=["incidents"]), "incidents", ["median_minutes", "p90_minutes"])
            | {"segment_label": SEGMENT_LABELS[r["segment"]]} for r in segments]
    section.tables.append(Table("segments", f"Minutes per segment by {breakdown.replace('_', ' ')}", [
        Column("group", breakdown.replace("_", " ").capitalize()), Column("segment_label", "Segment"),
        Column("incidents", "Valid incidents", "count"), Column("median_minutes", "Median minutes", "minutes"),
        Column("p90_minutes", "90th percentile minutes", "minutes")], rows, rule.marker))
    _segment_chart(section, report, scope)
    _emergency_part(section, report, scope)
    counts = publish_each({k: v for k, v in report.counts.items() if isinstance(v, int)}, rule=rule,
                          values=[k for k, v in report.counts.items() if isinstance(v, int)])
    section.tables.append(Table("time_lost", "Never attended, cancelled, recategorised and regraded", [
        Column("measure", "Measure"), Column("value", "Incidents", "count")], [
        {"measure": k.replace("_", " ").capitalize(), "value": counts.get(k),
         "value_display": counts.get(f"{k}_display", v if isinstance(v, str) else None)}
        for k, v in report.counts.items()], rule.marker))
    section.extra |= {"clock_start": clock_start, "breakdown": breakdown, "level": level}
    return section


def _status_part(section: Section, report: response.ResponseReport, scope: ReadScope) -> None:
    totals = [{"status": s, "incidents": report.status_count(s)} for s in ("valid", "invalid", "censored")]
    totals = publish_counts(totals, rule=scope.rule, keys=["status"], value="incidents")
    section.tables.append(Table("statuses", "Every incident in exactly one status", [
        Column("status", "Status"), Column("incidents", "Incidents", "count")], totals, scope.rule.marker))
    reasons = [r | {"cell": f"{r['status']}: {r['reason'] or 'valid'}", "reason": r["reason"] or "—"}
               for r in report.statuses.to_dicts()]
    reasons = publish_counts(reasons, rule=scope.rule, keys=["cell"], value="incidents")
    section.tables.append(Table("reasons", "Statuses and their reasons", [
        Column("status", "Status"), Column("reason", "Reason"), Column("incidents", "Incidents", "count")],
        reasons, scope.rule.marker))
    shown = {r["status"]: r["incidents_display"] for r in totals}
    section.summary.append(
        f"Of {published.publish_one(report.incidents, scope.rule)[1]} incidents, {shown['valid']} have a valid "
        f"timeline, {shown['invalid']} an invalid one and {shown['censored']} are censored (no end time): every "
        "incident is counted in exactly one.")


def _segment_chart(section: Section, report: response.ResponseReport, scope: ReadScope) -> None:
    every = report.segments.filter(pl.col("breakdown") == "all").to_dicts()
    rows = []
    for r in every:
        if published.publish_one(int(r["incidents"]), scope.rule)[0] is None:
            continue
        rows += [{"segment": SEGMENT_LABELS[r["segment"]], "statistic": "Median", "minutes": r["median_minutes"]},
                 {"segment": SEGMENT_LABELS[r["segment"]], "statistic": "90th percentile",
                  "minutes": r["p90_minutes"]}]
    arrival = next((r for r in every if r["segment"] == "call_to_arrival"), None)
    words = (f"For all valid incidents, the median time from call to arrival was {arrival['median_minutes']:.1f} "
             f"minutes and 90% arrived within {arrival['p90_minutes']:.1f} minutes." if arrival and rows else
             "No incident has a timeline with arrival, so no segment times can be shown.")
    section.summary.append(words)
    section.charts.append(Chart("response-segments", "Minutes per segment, all valid incidents",
                                demand_charts.grouped_bars(rows, category="segment", group="statistic",
                                                           value="minutes", category_title="Segment",
                                                           value_title="Minutes", description=words), words,
                                "segments"))


def _emergency_part(section: Section, report: response.ResponseReport, scope: ReadScope) -> None:
    rows = [publish_each(r, rule=scope.rule, values=["emergency", "attended", "within_target"])
            for r in report.emergency.to_dicts()]
    rows = [r | {"share_within_target": share(r["within_target"], r["attended"])} for r in rows]
    section.tables.append(Table("emergency", f"Emergency incidents attended within target (clock from "
                                f"{report.clock_start})", [
        Column("urban_rural", "Urban or rural"), Column("target_minutes", "Target minutes", "number"),
        Column("emergency", "Emergency incidents", "count"), Column("attended", "Attended, valid timeline", "count"),
        Column("within_target", "Within target", "count"),
        Column("share_within_target", "Share within target", "percent")], rows, scope.rule.marker))
    parts = [f"{r['urban_rural']}: {r['within_target_display']} of {r['attended_display']} within "
             f"{r['target_minutes']} minutes" for r in rows]
    section.summary.append("Emergency incidents attended within target — " + "; ".join(parts) + "." if parts else
                           "There are no emergency incidents.")


# -- failure demand ------------------------------------------------------------------------------------------

def failure_section(*, stores: Stores, scope: ReadScope, repeat_days: int = failure.DEFAULT_REPEAT_DAYS) -> Section:
    """Failure demand proxies (always labelled as proxies) and the results of the coded samples."""
    published.require_datasets(scope)
    report = failure.failure_report(stores=stores, datasets=scope.datasets, repeat_days=repeat_days)
    rule = scope.rule
    section = Section("failure", "Failure demand", rule.statement(), notes=list(report.notes))
    contacts, contacts_display = published.publish_one(report.contacts, rule)
    rows = [publish_each(r, rule=rule, values=["contacts"]) for r in report.proxies.to_dicts()]
    rows = [r | {"share": share(r["contacts"], contacts), "proxy_label": r["proxy"].replace("_", " ").capitalize()}
            for r in rows]
    section.tables.append(Table("proxies", "Failure demand proxies (rule-based estimates, not coded judgements)", [
        Column("proxy_label", "Proxy"), Column("status", "Status"), Column("contacts", "Contacts", "count"),
        Column("share", "Share of contacts", "percent"), Column("definition", "Definition")], rows, rule.marker))
    any_shown, any_display = published.publish_one(report.any_proxy, rule)
    section.summary.append(
        f"Proxy: {any_display} of {contacts_display} public contacts ({_pct(share(any_shown, contacts))}) meet at "
        "least one failure demand proxy. These are rule-based proxies, not judgements of what each caller needed.")
    samples = [_sample_row(stores, row, scope) for row in sample_coding.list_samples(stores=stores)]
    section.tables.append(Table("samples", "Coded samples: the proportion judged failure", [
        Column("name", "Sample"), Column("size", "Contacts drawn", "number"), Column("coded", "Coded", "count"),
        Column("proportion", "Proportion failure", "percent"), Column("lower", "95% interval from", "percent"),
        Column("upper", "95% interval to", "percent")], samples, rule.marker))
    section.extra |= {"samples": samples, "repeat_days": repeat_days, "record_level": bool(scope.record_datasets())}
    return section


def _sample_row(stores: Stores, row: dict[str, Any], scope: ReadScope) -> dict[str, Any]:
    result = sample_coding.sample_result(stores=stores, sample_id=row["sample_id"])
    coded, coded_display = published.publish_one(result.coded, scope.rule)
    return {"sample_id": row["sample_id"], "name": row["name"] or row["sample_id"][:8], "size": row["size"],
            "coded": coded, "coded_display": coded_display, "proportion": result.proportion, "lower": result.lower,
            "upper": result.upper, "created_by": row["created_by"]}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


# -- future demand -------------------------------------------------------------------------------------------

def forecast_section(*, stores: Stores, scope: ReadScope, dataset: str | None = None, category: str | None = None,
                     top: int = 3, horizon: int = 24) -> Section:
    """Forecasts with prediction intervals, the model chosen by backtest, and hours of work by agency and role."""
    published.require_datasets(scope)
    hours = workload.forecast_hours(stores=stores, datasets=scope.datasets, dataset=dataset,
                                    categories=[category] if category else None,
                                    top_categories=None if category else top, horizon=horizon)
    predicted = hours.forecast
    section = Section("forecast", "Future demand", scope.rule.statement(), notes=[ESTIMATE_NOTE])
    models = [r | {"label": f"{r['dataset']}: {r['category'].replace('_', ' ')}"}
              for r in predicted.models.to_dicts()]
    section.tables.append(Table("models", "The model chosen for each series by backtest", [
        Column("label", "Series"), Column("model", "Model chosen"), Column("months", "Months of history", "number"),
        Column("holdout", "Months held out", "number"), Column("mase", "MASE", "number"),
        Column("seasonal_naive_mase", "Seasonal naive MASE", "number"), Column("reason", "Why")],
        [_rounded(r, ("mase", "seasonal_naive_mase")) for r in models]))
    if models:
        _series_part(section, stores, scope, predicted, _largest(predicted, models))
    by_role = [r | {"month": r["month"].isoformat(), "hours": round(r["hours"], 0), "who": f"{r['agency']}: "
                    f"{r['role'].replace('_', ' ')}"} for r in hours.by_role.to_dicts()]
    section.tables.append(Table("hours", "Forecast hours of work by agency and role", [
        Column("month", "Month"), Column("agency", "Agency"), Column("role", "Role"),
        Column("hours", "Hours (estimate)", "estimate")], by_role))
    words = _hours_words(by_role)
    section.summary.append(words)
    section.charts.append(Chart("forecast-hours", "Forecast hours of work by agency and role",
                                demand_charts.line_chart(by_role, x="month", y="hours", series="who", x_title="Month",
                                                         y_title="Hours", description=words), words, "hours"))
    section.notes.append(f"Hours per incident come from {hours.rates.table} (observed where at least "
                         f"{workload.MIN_TIMED} incidents are timed), by the {hours.rates.statistic}.")
    section.extra |= {"horizon": horizon, "series": _largest(predicted, models)["label"] if models else None}
    return section


def _largest(predicted: forecast.DemandForecast, models: list[dict[str, Any]]) -> dict[str, Any]:
    """The series with the most forecast demand: the one charted."""
    sums = predicted.forecasts.group_by("dataset", "category").agg(pl.col("forecast").sum()).sort(
        "forecast", "dataset", "category", descending=[True, False, False])
    top = sums.row(0, named=True) if sums.height else models[0]
    return next(m for m in models if (m["dataset"], m["category"]) == (top["dataset"], top["category"]))


def _rounded(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return row | {n: (round(row[n], 3) if row[n] is not None else None) for n in names}


def _series_part(section: Section, stores: Stores, scope: ReadScope, predicted: forecast.DemandForecast,
                 chosen: dict[str, Any]) -> None:
    history = forecast.monthly_demand(stores=stores, datasets=[chosen["dataset"]], categories=[chosen["category"]])
    rows = publish_counts([{"month": m.isoformat(), "events": e} for m, e in history.frame.select(
        "month", "events").iter_rows()], rule=scope.rule, keys=["month"], value="events")
    ahead = predicted.forecasts.filter((pl.col("dataset") == chosen["dataset"])
                                       & (pl.col("category") == chosen["category"]))
    future = [{k: (v.isoformat() if k == "month" else round(v, 0) if isinstance(v, float) else v)
               for k, v in r.items()} for r in ahead.to_dicts()]
    section.tables.append(Table("history", f"Recorded monthly demand: {chosen['label']}", [
        Column("month", "Month"), Column("events", "Events", "count")], rows, scope.rule.marker))
    bounds = [Column(f"{side}_{lv}", f"{lv}% interval {'from' if side == 'lower' else 'to'}", "estimate")
              for lv in forecast.LEVELS for side in ("lower", "upper")]
    section.tables.append(Table("forecast", f"Forecast: {chosen['label']}", [
        Column("month", "Month"), Column("forecast", "Forecast (estimate)", "estimate"), *bounds], future))
    last = future[-1] if future else None
    words = (f"{chosen['label']}: the {chosen['model']} model was chosen by backtest (MASE "
             f"{_num(chosen['mase'])} against {_num(chosen['seasonal_naive_mase'])} for seasonal naive). "
             + (f"By {last['month'][:7]} it forecasts {last['forecast']:,.0f} a month (95% interval "
                f"{last['lower_95']:,.0f} to {last['upper_95']:,.0f})." if last else ""))
    section.summary.insert(0, words)
    section.charts.append(Chart("forecast-series", f"Forecast of {chosen['label']}", demand_charts.forecast_chart(
        [{"month": r["month"], "value": r["events"]} for r in rows], future, description=words, y_title="Events"),
        words, "forecast"))


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _hours_words(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No forecast hours of work: no category read has an hours-per-incident rate."
    first = min(r["month"] for r in rows)
    totals: dict[str, float] = {}
    for r in rows:
        if r["month"] == first:
            totals[r["who"]] = totals.get(r["who"], 0.0) + r["hours"]
    busiest = max(totals, key=lambda k: totals[k])
    return (f"In {first[:7]}, the largest forecast workload is {busiest} ({totals[busiest]:,.0f} hours); "
            f"{len(totals)} agencies and roles in all.")


# -- the Right Care, Right Person scenario ------------------------------------------------------------------

def scenario_section(*, stores: Stores, scope: ReadScope, percent: float, group: str | None = None,
                     basis: str = "observed", level: str | None = None, horizon: int = 12) -> Section:
    """Police hours released and health hours required if ``percent`` % of an RCRP group moved to health."""
    published.require_datasets(scope)
    if level is not None:
        published.check_level(stores=stores, scope=scope, level=level)
    result = scenario.rcrp_scenario(stores=stores, percent=percent, datasets=scope.datasets, group=group,
                                    level=level, basis=basis, horizon=horizon)
    section = Section("scenario", "Scenario: moving Right Care, Right Person demand to health", scope.rule.statement(),
                      notes=[ESTIMATE_NOTE])
    frame = result.frame.with_columns(pl.col("month").cast(pl.String), pl.col("area_code").fill_null("whole place"))
    for key, by, title in (("by_group", ["group"], "By group"), ("by_place", ["area_code"], "By place"),
                           ("by_month", ["month"], "By month"),
                           ("by_place_month", ["area_code", "month", "group"], "By place, month and group")):
        section.tables.append(_scenario_table(frame, key, by, title, scope, observed=basis == "observed"))
    totals = frame.select(pl.col("police_hours_released").sum(), pl.col("health_hours_required").sum()).row(0)
    section.summary.append(
        f"If {percent:g}% of {'the ' + group.replace('_', ' ') + ' group' if group else 'each group'} moved to "
        f"health ({basis} demand), about {totals[0]:,.0f} police officer hours would be released and "
        f"{totals[1]:,.0f} health hours required in all.")
    month_rows = section.table("by_month").rows
    words = section.summary[0]
    section.charts.append(Chart("scenario-months", "Police hours released by month", demand_charts.line_chart(
        month_rows, x="month", y="police_hours_released", series=None, x_title="Month",
        y_title="Police hours released", description=words), words, "by_month"))
    section.extra |= {"percent": percent, "basis": basis, "groups": result.groups}
    return section


def _scenario_table(frame: pl.DataFrame, key: str, by: list[str], title: str, scope: ReadScope, *,
                    observed: bool) -> Table:
    grouped = frame.group_by(by).agg(pl.col("incidents", "moved", "police_hours_released",
                                            "health_hours_required").sum()).sort(by).to_dicts()
    rows = [r | {"moved": round(r["moved"], 1), "police_hours_released": round(r["police_hours_released"], 1),
                 "health_hours_required": round(r["health_hours_required"], 1)} for r in grouped]
    derived = ["moved", "police_hours_released", "health_hours_required"]
    if observed:
        rows = [hide_with(r, "incidents", derived) for r in publish_counts(rows, rule=scope.rule, keys=by,
                                                                             value="incidents")]
    labels = {"group": "Group", "area_code": "Place", "month": "Month"}
    return Table(key, title, [Column(b, labels[b]) for b in by] + [
        Column("incidents", "Incidents" if observed else "Incidents (forecast)", "count" if observed else "estimate"),
        Column("moved", "Incidents moved (estimate)", "estimate"),
        Column("police_hours_released", "Police hours released", "hours"),
        Column("health_hours_required", "Health hours required", "hours")], rows, scope.rule.marker)

"""What the demand pages, API, exports and report show about where demand comes from: the demand profile,
repeat demand and not police business (Right Care, Right Person), as published ``Section``s.

Each function reads only the datasets of the reader's scope (``demand`` service functions, given
``scope.datasets``), publishes every count through the scope's disclosure rule and says in words what the
charts show. Repeat demand's busiest entities (pseudonymised tokens) are person-level data: they are shown only
to a reader whose agreements give record-level access, with a justification, and the read is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wholeplace import published
from wholeplace.demand import profile as demand_profile
from wholeplace.demand import rcrp, repeat
from wholeplace.errors import UserError
from wholeplace.governance.scope import ReadScope, authorise_records
from wholeplace.store.stores import Stores
from wholeplace.web import charts, demand_charts
from wholeplace.web.demand_tables import (
    Chart,
    Column,
    Section,
    Table,
    hide_with,
    publish_counts,
    publish_each,
    share,
    total_of,
)

CATEGORY_BASES = {"category": "Category", "category_opening": "Opening category",
                  "category_closing": "Closing category"}
SOURCES = {"public": "The public", "other_agency": "Another agency",
           "officer_initiated": "Officer-initiated (shown, not public demand)"}
PUBLIC = "Public demand"
OFFICER = "Officer-initiated"


# -- the demand profile ----------------------------------------------------------------------------------

def profile_section(*, stores: Stores, scope: ReadScope, level: str | None = None, period: str = "month",
                    category_basis: str = "category", measure: str = "count", dataset: str | None = None,
                    month_from: str | None = None, month_to: str | None = None) -> Section:
    """Demand by source, period, category, grade, hour and day, and area, by count or hours."""
    published.require_datasets(scope)
    demand_profile.check_choice(field="category basis", value=category_basis, choices=list(CATEGORY_BASES))
    level = level or _finest(stores, scope)
    if level is not None:
        published.check_level(stores=stores, scope=scope, level=level)
    ask = {"stores": stores, "datasets": scope.datasets, "dataset": dataset, "month_from": month_from,
           "month_to": month_to, "period": period, "level": level, "measure": measure}
    section = Section("profile", "Demand profile", scope.rule.statement())
    hours = measure == "hours"
    ask["profiles"] = _all_profiles(ask, [["source"], ["period"], [category_basis], ["priority"], ["hour", "weekday"]]
                                    + ([["area"]] if level is not None else []))
    section.tables.append(_source_table(scope, ask, section))
    period_table = _breakdown_table(scope, ask, section, key="period", by=["period"], title=f"Demand by {period}",
                                    label=period.capitalize(), hours=hours)
    category_table = _breakdown_table(scope, ask, section, key="category", by=[category_basis],
                                      title=f"Demand by {CATEGORY_BASES[category_basis].lower()}",
                                      label=CATEGORY_BASES[category_basis], hours=hours, largest_first=True)
    grade_table = _breakdown_table(scope, ask, section, key="grade", by=["priority"], title="Demand by grade",
                                   label="Grade", hours=hours)
    section.tables += [period_table, category_table, grade_table, _heat_table(scope, ask, section)]
    value, title = ("public_hours", "Hours of public demand") if hours else ("public", PUBLIC)
    section.charts.append(Chart("profile-period", title + f" by {period}", demand_charts.line_chart(
        period_table.rows, x="period", y=value, series=None, x_title=period.capitalize(), y_title=title,
        description=_describe_series(period_table.rows, value, "period", title)), _describe_series(
        period_table.rows, value, "period", title), "period"))
    top = category_table.rows[:15]
    words = _describe_top(category_table.rows, value, "label", title, CATEGORY_BASES[category_basis].lower())
    section.charts.append(Chart("profile-category", f"{title}: the 15 largest categories", demand_charts.bar_chart(
        top, category="label", value=value, category_title=CATEGORY_BASES[category_basis], value_title=title,
        description=words), words, "category"))
    heat = section.table("hour_weekday")
    words = _describe_heat(heat.rows)
    section.charts.append(Chart("profile-heat", "Public demand by hour of day and day of week", demand_charts.heat_map(
        [{"hour": r["hour"], "weekday_name": r["weekday_name"], "value": r["public"]} for r in heat.rows
         if r["public"] is not None], description=words, value_title=PUBLIC), words, "hour_weekday"))
    if level is not None:
        _area_part(scope, ask, section, level=level, hours=hours)
    section.summary = [section.charts[0].summary, section.charts[1].summary, words]
    section.extra |= {"level": level, "measure": measure, "hours_basis": None}
    section.notes.append("Public demand is calls from the public and from other agencies; officer-initiated "
                         "activity is shown beside it but kept out of public demand.")
    return section


def _finest(stores: Stores, scope: ReadScope) -> str | None:
    levels = published.levels(stores=stores, scope=scope)
    return levels[0]["level"] if levels else None


def _all_profiles(ask: dict[str, Any], sets: list[list[str]]) -> dict[tuple[str, ...], Any]:
    """Every breakdown the page shows, by count (and hours when asked), from one pass over the events."""
    base = {k: v for k, v in ask.items() if k not in ("measure", "profiles")}
    measures = ["count", "hours"] if ask["measure"] == "hours" else ["count"]
    found = demand_profile.demand_profile_sets(sets=sets, measures=measures, **base)
    return {tuple(by): profiles for by, profiles in zip(sets, found, strict=True)}


def _profile_rows(ask: dict[str, Any], by: list[str], section: Section) -> list[dict[str, Any]]:
    """Counts (and hours, when asked) of public and officer-initiated demand per cell of ``by``."""
    base = {k: v for k, v in ask.items() if k not in ("measure", "profiles")}
    if "area" not in by:
        base["level"] = None
    measures = ["count", "hours"] if ask["measure"] == "hours" else ["count"]
    found = ask.get("profiles", {}).get(tuple(by)) or demand_profile.demand_profiles(
        by=by, measures=measures, **base)  # count and hours in one pass
    counted = found["count"]
    section.not_available |= counted.not_available
    rows = [r | {"public": int(r["public"]), "officer_initiated": int(r["officer_initiated"]),
                 "other_agency": int(r["other_agency"]), "all": int(r["all"])}
            for r in counted.frame.iter_rows(named=True)]
    if ask["measure"] != "hours":
        return rows
    timed = found["hours"]
    section.not_available |= timed.not_available
    section.extra["hours_basis"] = timed.hours_basis
    hours = {tuple(r[k] for k in by): r for r in timed.frame.iter_rows(named=True)}
    for row in rows:
        cell = hours.get(tuple(row[k] for k in by), {})
        row |= {"public_hours": cell.get("public"), "officer_initiated_hours": cell.get("officer_initiated")}
    return rows


def _publish_pair(rows: list[dict[str, Any]], scope: ReadScope, keys: list[str]) -> list[dict[str, Any]]:
    rows = publish_counts(rows, rule=scope.rule, keys=keys, value="public")
    rows = publish_counts(rows, rule=scope.rule, keys=keys, value="officer_initiated")
    return [hide_with(hide_with(r, "public", ["public_hours"]), "officer_initiated", ["officer_initiated_hours"])
            for r in rows]


def _columns(key_columns: list[Column], hours: bool) -> list[Column]:
    counts = [Column("public", PUBLIC, "count"), Column("officer_initiated", OFFICER, "count")]
    timed = [Column("public_hours", "Hours, public demand", "hours"),
             Column("officer_initiated_hours", "Hours, officer-initiated", "hours")] if hours else []
    return key_columns + counts + timed


def _source_table(scope: ReadScope, ask: dict[str, Any], section: Section) -> Table:
    rows = [r | {"label": SOURCES.get(r["source"], r["source"]), "events": r["all"]}
            for r in _profile_rows(ask | {"measure": "count"}, ["source"], section)]
    rows = publish_counts(rows, rule=scope.rule, keys=["source"], value="events")
    return Table("source", "Where demand comes from", [Column("label", "Source"), Column("events", "Events", "count")],
                 rows, scope.rule.marker)


def _breakdown_table(scope: ReadScope, ask: dict[str, Any], section: Section, *, key: str, by: list[str], title: str,
                     label: str, hours: bool, largest_first: bool = False) -> Table:
    rows = _publish_pair(_profile_rows(ask, by, section), scope, by)
    rows = [r | {"label": _month_label(r[by[0]]) if by == ["period"] and ask["period"] == "month" else _label(
        r[by[0]])} for r in rows]
    if largest_first:
        rows.sort(key=lambda r: -(r["public"] or 0))
    if by == ["period"]:
        rows = [r | {"period": r["period"].isoformat() if isinstance(r["period"], date) else r["period"]}
                for r in rows]
    return Table(key, title, _columns([Column("label", label)], hours), rows, scope.rule.marker)


def _label(value: Any) -> str:
    if value is None:
        return "Not recorded"
    return value.isoformat() if isinstance(value, date) else str(value).replace("_", " ")


def _month_label(value: date | None) -> str:
    return "Not recorded" if value is None else f"{value:%B %Y}"


def _heat_table(scope: ReadScope, ask: dict[str, Any], section: Section) -> Table:
    rows = _profile_rows(ask | {"measure": "count"}, ["hour", "weekday"], section)
    rows = publish_counts(rows, rule=scope.rule, keys=["hour", "weekday"], value="public")
    rows = [r | {"weekday_name": demand_charts.WEEKDAYS[r["weekday"] - 1]} for r in rows if r["weekday"] is not None]
    columns = [Column("weekday_name", "Day"), Column("hour", "Hour", "number"), Column("public", PUBLIC, "count")]
    return Table("hour_weekday", "Public demand by day of week and hour of day", columns, rows, scope.rule.marker)


def _area_part(scope: ReadScope, ask: dict[str, Any], section: Section, *, level: str, hours: bool) -> None:
    rows = _publish_pair(_profile_rows(ask, ["area"], section), scope, ["area"])
    rows = [r | {"area_name": r.get("area_name") or "Not in any area", "area": r["area"] or ""} for r in rows]
    columns = [Column("area_name", "Area"), Column("area", "Code")]
    section.tables.append(Table("area", f"Demand by {level} area", _columns(columns, hours), rows, scope.rule.marker))
    mapped = [r for r in rows if r["area"]]
    classes = charts.map_classes([r["public"] for r in mapped if r["public"] is not None])
    section.extra |= {
        "map_classes": classes, "hidden_colour": charts.HIDDEN_COLOUR,
        "map_hidden": sum(1 for r in mapped if r["public"] is None),
        "map_data": {"classes": charts.classes_json(classes), "counts": {r["area"]: r["public"] for r in mapped},
                     "hidden": scope.rule.marker, "hidden_colour": charts.HIDDEN_COLOUR, "level": level},
        "area_summary": _describe_top(sorted(mapped, key=lambda r: -(r["public"] or 0)), "public", "area_name",
                                      PUBLIC, f"{level} area"),
    }


# -- words ---------------------------------------------------------------------------------------------------

def _describe_series(rows: list[dict[str, Any]], value: str, key: str, what: str) -> str:
    shown = [r for r in rows if r.get(value) is not None]
    if not shown:
        return f"There is no {what.lower()} to show for this choice."
    busiest = max(shown, key=lambda r: r[value])
    quietest = min(shown, key=lambda r: r[value])
    total = sum(r[value] for r in shown)
    text = (f"{what} was highest in {busiest['label']} ({busiest[value]:,.0f}) and lowest in {quietest['label']} "
            f"({quietest[value]:,.0f}); {total:,.0f} in all over {len(shown)} periods shown.")
    hidden = len(rows) - len(shown)
    return text + (f" {hidden} small figures are hidden by disclosure control." if hidden else "")


def _describe_top(rows: list[dict[str, Any]], value: str, label: str, what: str, unit: str) -> str:
    shown = [r for r in rows if r.get(value) is not None]
    total = sum(r[value] for r in shown)
    if not shown or not total:
        return f"There is no {what.lower()} by {unit} to show for this choice."
    first = max(shown, key=lambda r: r[value])
    others = [r for r in sorted(shown, key=lambda r: -r[value]) if r is not first][:2]
    text = (f"The largest {unit} was {first[label]}, with {first[value]:,.0f} of {total:,.0f} "
            f"({first[value] / total:.1%}).")
    if others:
        text += " Next were " + " and ".join(f"{r[label]} ({r[value]:,.0f})" for r in others) + "."
    return text


def _describe_heat(rows: list[dict[str, Any]]) -> str:
    shown = [r for r in rows if r["public"] is not None]
    if not shown:
        return ("Hour of day and day of week are not available: no dataset read records the time of day "
                "(police.uk records only the month).")
    busiest = max(shown, key=lambda r: r["public"])
    quietest = min(shown, key=lambda r: r["public"])
    return (f"Public demand peaked on {busiest['weekday_name']}s at {busiest['hour']:02d}:00 "
            f"({busiest['public']:,} events) and was lowest on {quietest['weekday_name']}s at "
            f"{quietest['hour']:02d}:00 ({quietest['public']:,}).")


# -- repeat demand -------------------------------------------------------------------------------------------

def repeat_section(*, stores: Stores, scope: ReadScope, entity: str = "location", min_contacts: int = 3,
                   window: str = "12m", include_officer_initiated: bool = False, dataset: str | None = None,
                   month_from: str | None = None, month_to: str | None = None, top: int = 20,
                   justification: str | None = None) -> Section:
    """Prevalence and concentration of repeat demand; the busiest tokens only with record-level access."""
    published.require_datasets(scope)
    ask: dict[str, Any] = {"entity": entity, "min_contacts": min_contacts, "window": window, "top": top,
                           "dataset": dataset, "include_officer_initiated": include_officer_initiated,
                           "month_from": month_from, "month_to": month_to}
    result = repeat.repeat_demand(stores=stores, datasets=scope.datasets, **ask)
    section = Section("repeat", "Repeat demand", scope.rule.statement(), not_available=result.not_available)
    rule = scope.rule
    counts = publish_each({"entities": result.entities, "repeat_entities": result.repeat_entities,
                           "contacts": result.contacts, "repeat_contacts": result.repeat_contacts}, rule=rule,
                          values=["entities", "repeat_entities", "contacts", "repeat_contacts"])
    rows = [{"measure": "Entities with a contact", "value": counts["entities"],
             "value_display": counts["entities_display"]},
            {"measure": "Entities that repeat", "value": counts["repeat_entities"],
             "value_display": counts["repeat_entities_display"]},
            {"measure": "Share of entities that repeat (prevalence)", "value": None,
             "value_display": _percent(share(counts["repeat_entities"], counts["entities"]))},
            {"measure": "Contacts", "value": counts["contacts"], "value_display": counts["contacts_display"]},
            {"measure": "Repeat contacts", "value": counts["repeat_contacts"],
             "value_display": counts["repeat_contacts_display"]},
            {"measure": "Share of contacts that are repeats (concentration)", "value": None,
             "value_display": _percent(share(counts["repeat_contacts"], counts["contacts"]))}]
    section.tables.append(Table("prevalence", f"Repeat {entity}s: {result.definition}",
                                [Column("measure", "Measure"), Column("value", "Value", "count")], rows, rule.marker))
    _concentration_part(section, result)
    _windows_part(section, result, scope)
    section.summary.insert(0, (
        f"Of {counts['entities_display']} {entity}s with a contact, {counts['repeat_entities_display']} repeat "
        f"({result.definition}); their repeat contacts are {counts['repeat_contacts_display']} of "
        f"{counts['contacts_display']} contacts. Entities are counted by {result.basis}."))
    section.notes += result.caveats
    if result.officer_initiated_left_out:
        section.notes.append("Officer-initiated events are left out: they are not demand made by an entity.")
    section.extra |= {"entity": entity, "basis": result.basis, "definition": result.definition,
                      "record_level": bool(scope.record_datasets())}
    _top_part(section, result, stores=stores, scope=scope, justification=justification, ask=ask)
    return section


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _concentration_part(section: Section, result: repeat.RepeatDemand) -> None:
    found = result.concentration
    if found is None:
        section.summary.append("There are no contacts with this entity, so there is no concentration to measure.")
        return
    rows = [{"measure": "Gini coefficient", "value": round(found.gini, 4)},
            {"measure": "Generalised Gini (sparse counts, Bernasco & Steenbeek)", "value": round(
                found.generalized_gini, 4)},
            {"measure": "Share of entities holding half of the contacts", "value": round(found.units_for_half, 4)},
            {"measure": "Share of entities holding a quarter of the contacts", "value": round(
                found.units_for_quarter, 4)}]
    section.tables.append(Table("concentration", "Concentration of contacts",
                                [Column("measure", "Measure"), Column("value", "Value", "number")], rows))
    lorenz = [{"units_share": r["units_share"], "events_share": r["events_share"]}
              for r in result.lorenz.iter_rows(named=True)]
    section.tables.append(Table("lorenz", "The Lorenz curve", [
        Column("units_share", f"Share of {result.entity}s, busiest first", "percent"),
        Column("events_share", "Share of contacts", "percent")], lorenz))
    words = (f"The busiest {found.units_for_half:.1%} of {result.entity}s hold half of all contacts; the Gini "
             f"coefficient is {found.gini:.3f} and the generalised Gini, which allows for many entities with few "
             f"contacts, is {found.generalized_gini:.3f} (0: every entity alike; 1: all contacts at one).")
    section.summary.append(words)
    section.charts.append(Chart("repeat-lorenz", "Lorenz curve of contacts", demand_charts.lorenz_chart(
        lorenz, description=words, units=f"{result.entity}s"), words, "lorenz"))


def _windows_part(section: Section, result: repeat.RepeatDemand, scope: ReadScope) -> None:
    if result.windows is None or result.windows.is_empty():
        return
    values = ["entities", "repeat_entities", "contacts", "repeat_contacts"]
    rows = [publish_each(r | {"window_start": r["window_start"].isoformat()}, rule=scope.rule, values=values)
            for r in result.windows.iter_rows(named=True)]
    section.tables.append(Table("windows", "Each window", [Column("window_start", "Window from")] + [
        Column(v, v.replace("_", " ").capitalize(), "count") for v in values], rows, scope.rule.marker))


def _top_part(section: Section, result: repeat.RepeatDemand, *, stores: Stores, scope: ReadScope,
              justification: str | None, ask: dict[str, Any]) -> None:
    """The busiest entities by token, among the datasets the reader may read as records, each authorised."""
    if not justification:
        return
    datasets = [d for d in scope.record_datasets() if d not in result.not_available]
    try:
        if not datasets:
            raise UserError("None of the datasets behind these figures is shared with you at record level for "
                            f"'{scope.purpose}', so the busiest entities cannot be shown.")
        for code in datasets:
            authorise_records(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=code,
                              justification=justification,
                              what={"view": "top repeat entities", "entity": result.entity})
    except UserError as refused:
        section.extra["top_refused"] = refused.message + (f" {refused.hint}" if refused.hint else "")
        return
    result = repeat.repeat_demand(stores=stores, **ask | {"datasets": datasets})
    rows = [r | {"first_month": r["first_month"].isoformat(), "last_month": r["last_month"].isoformat()}
            for r in result.top.iter_rows(named=True)]
    columns = [Column("entity", "Token"), Column("contacts", "Contacts", "number"),
               Column("repeat_contacts", "Repeat contacts", "number"),
               Column("most_in_window", "Most in one window", "number"), Column("first_month", "First month"),
               Column("last_month", "Last month")]
    if "snap_point_text" in result.top.columns:
        columns.append(Column("snap_point_text", "Snap point (anonymised, not an address)"))
    section.tables.append(Table("top", f"The busiest {len(rows)} {result.entity}s, by token, in "
                                f"{', '.join(datasets)}", columns, rows))


# -- not police business -------------------------------------------------------------------------------------

def rcrp_section(*, stores: Stores, scope: ReadScope, basis: str = "opening",
                 include_self_initiated: bool = False) -> Section:
    """Right Care, Right Person volumes, officer hours, trend, share raised by another agency, unmapped categories."""
    published.require_datasets(scope)
    report = rcrp.rcrp_report(stores=stores, datasets=scope.datasets, basis=basis,
                              include_self_initiated=include_self_initiated)
    rule = scope.rule
    section = Section("rcrp", "Not police business: Right Care, Right Person", rule.statement(), notes=report.notes)
    every = publish_each({"incidents": report.incidents, "rcrp": report.rcrp_incidents}, rule=rule,
                         values=["incidents", "rcrp"])
    rows = publish_counts(report.by_category.to_dicts(), rule=rule, keys=["rcrp_category"], value="incidents")
    rows = [publish_each(r, rule=rule, values=["above_threshold", "raised_by_agency", "raised_by_known"]) for r in rows]
    rows = [hide_with(r | {"share": share(r["incidents"], every["incidents"]), "share_raised_by_agency": share(
        r["raised_by_agency"], r["raised_by_known"])}, "incidents", ["officer_hours", "share"]) for r in rows]
    section.tables.append(Table("categories", "Incidents in each Right Care, Right Person category", [
        Column("label", "Category"), Column("incidents", "Incidents", "count"),
        Column("share", "Share of all incidents", "percent"),
        Column("above_threshold", "Meeting the police threshold", "count"),
        Column("officer_hours", "Officer hours", "hours"),
        Column("share_raised_by_agency", "Share raised by another agency", "percent")], rows, rule.marker))
    _rcrp_trend(section, report, scope)
    unmapped = publish_counts(report.unmapped.to_dicts(), rule=rule, keys=["category"], value="incidents")
    section.tables.append(Table("unmapped", "Categories the mapping table does not know", [
        Column("category", "Category"), Column("incidents", "Incidents", "count")], unmapped, rule.marker))
    section.summary.insert(0, (
        f"{every['rcrp_display']} of {every['incidents_display']} incidents "
        f"({_percent(share(every['rcrp'], every['incidents']))}) fall in a Right Care, Right Person category, "
        f"classified by the {basis} category with {report.mapping_version}."))
    section.notes.append(f"Handover waits against the {report.handover.expectation_minutes}-minute expectation: "
                         f"{report.handover.status}. {report.handover.reason}")
    section.extra |= {"mapping_version": report.mapping_version, "handover": report.handover}
    return section


def _rcrp_trend(section: Section, report: rcrp.RcrpReport, scope: ReadScope) -> None:
    labels = rcrp.RCRP_CATEGORIES
    rows = [r | {"month": r["month"].isoformat(), "label": labels[r["rcrp_category"]]}
            for r in report.monthly.to_dicts()]
    rows = publish_counts(rows, rule=scope.rule, keys=["month", "rcrp_category"], value="incidents")
    section.tables.append(Table("monthly", "Right Care, Right Person incidents by month", [
        Column("month", "Month"), Column("label", "Category"), Column("incidents", "Incidents", "count")], rows,
        scope.rule.marker))
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["label"]] = totals.get(row["label"], 0) + (row["incidents"] or 0)
    words = (_describe_top([{"label": k, "n": v} for k, v in totals.items()], "n", "label", "Incidents", "category")
             if rows else "There are no calls for service to classify.")
    section.summary.append(words)
    section.charts.append(Chart("rcrp-trend", "Right Care, Right Person incidents by month", demand_charts.line_chart(
        rows, x="month", y="incidents", series="label", x_title="Month", y_title="Incidents", description=words),
        words, "monthly"))


__all__ = ["profile_section", "rcrp_section", "repeat_section", "total_of"]

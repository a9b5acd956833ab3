"""The choices of each demand page, declared once: the page's filter form is drawn from them, and the page,
its downloads and the report read the same query parameters through ``section_for``.

A bad value is a user error naming the field and the values allowed (422 on a page, the JSON error shape in
the API), never a silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wholeplace import published
from wholeplace.demand import scenario
from wholeplace.errors import UserError
from wholeplace.governance.scope import ReadScope
from wholeplace.store.stores import Stores
from wholeplace.web import demand_outlook, demand_views
from wholeplace.web.demand_tables import Section

MAX_TEXT = 100


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "select"  # select, int, float or text
    options: tuple[tuple[str, str], ...] = ()  # (value, label); "levels" and "datasets" fields are filled per reader
    default: str = ""
    hint: str = ""


NO_YES = (("no", "No"), ("yes", "Yes"))
MONTHS = (Field("month_from", "From month", "text", hint="YYYY-MM"), Field("month_to", "To month", "text",
                                                                          hint="YYYY-MM"))
DATASET = Field("dataset", "Dataset", options=(("", "Every dataset"),))
FIELDS: dict[str, tuple[Field, ...]] = {
    "profile": (Field("level", "Areas"), Field("period", "Period", options=(("month", "Month"), ("week", "Week"),
                                                                              ("day", "Day")), default="month"),
                Field("category_basis", "Category", options=tuple(demand_views.CATEGORY_BASES.items()),
                      default="category"),
                Field("measure", "Measure", options=(("count", "Count of events"), ("hours", "Hours of time "
                                                                                              "consumed")),
                      default="count"), DATASET, *MONTHS),
    "repeat": (Field("entity", "Repeat", options=(("location", "Locations"), ("caller", "Callers"),
                                                  ("person", "People (victims, subjects, patients)")),
                     default="location"),
               Field("min_contacts", "Contacts to count as a repeat", "int", default="3"),
               Field("window", "Window", "text", default="12m", hint="12m fixed months, or 28d / 90d rolling days"),
               Field("include_officer_initiated", "Include officer-initiated", options=NO_YES, default="no"),
               DATASET, *MONTHS),
    "rcrp": (Field("basis", "Classify by", options=(("opening", "Opening category"), ("closing",
                                                                                     "Closing category")),
                   default="opening"),
             Field("include_self_initiated", "Include officer-initiated", options=NO_YES, default="no")),
    "failure": (Field("repeat_days", "Days for a repeat of the same problem", "int", default="7"),),
    "response": (Field("clock_start", "Clock starts at", options=(("received", "Call received"),
                                                                  ("dispatched", "Dispatch")), default="received"),
                 Field("breakdown", "Break down by", options=(("grade", "Grade"), ("urban_rural", "Urban or rural"),
                                                             ("area_code", "Area"), ("all", "All incidents")),
                       default="grade")),
    "forecast": (DATASET, Field("category", "Category", "text", hint="a category code; blank for the largest"),
                 Field("top", "Largest categories per dataset", "int", default="3"),
                 Field("horizon", "Months ahead", "int", default="24")),
    "scenario": (Field("percent", "Share moved to health (%)", "float", hint="e.g. 30"),
                 Field("group", "Right Care, Right Person group",
                       options=(("", "Every group"), *((g, g.replace("_", " ")) for g in scenario.RCRP_GROUPS))),
                 Field("basis", "Demand", options=(("observed", "Observed"), ("forecast", "Forecast")),
                       default="observed"),
                 Field("level", "Places", options=(("", "The whole place"),)),
                 Field("horizon", "Months ahead (forecast)", "int", default="12")),
}
BUILDERS: dict[str, Callable[..., Section]] = {
    "profile": demand_views.profile_section, "repeat": demand_views.repeat_section,
    "rcrp": demand_views.rcrp_section, "failure": demand_outlook.failure_section,
    "response": demand_outlook.response_section, "forecast": demand_outlook.forecast_section,
    "scenario": demand_outlook.scenario_section,
}
TITLES = {"profile": "Demand profile", "repeat": "Repeat demand", "rcrp": "Not police business",
          "failure": "Failure demand", "response": "Response and time lost", "forecast": "Future demand",
          "scenario": "Scenario: moving demand to health"}


def choices(field: Field, *, stores: Stores, scope: ReadScope) -> tuple[tuple[str, str], ...]:
    """A field's options for this reader: the levels and datasets their scope allows."""
    if field.name == "level":
        levels = tuple((r["level"], f"{r['title']} ({r['features']:,} areas)")
                       for r in published.levels(stores=stores, scope=scope))
        return field.options + levels
    if field.name == "dataset":
        return field.options + tuple((d, d) for d in scope.datasets)
    return field.options


def form_values(section: str, query: Mapping[str, str]) -> dict[str, str]:
    return {f.name: (query.get(f.name) or f.default)[:MAX_TEXT] for f in FIELDS[section]}


def section_kwargs(section: str, query: Mapping[str, str], *, stores: Stores, scope: ReadScope) -> dict[str, Any]:
    """The builder's arguments from the query, each checked; an empty value is the field's default."""
    values = form_values(section, query)
    kwargs: dict[str, Any] = {}
    for field in FIELDS[section]:
        text = values[field.name].strip()
        if field.kind == "select":
            allowed = [value for value, _ in choices(field, stores=stores, scope=scope)]
            if text and text not in allowed:
                raise UserError(f"'{text}' is not a choice for {field.label.lower()} ({field.name}).",
                                hint=f"Choose one of: {', '.join(a for a in allowed if a)}.")
            kwargs[field.name] = (text == "yes") if field.options == NO_YES else (text or None)
        elif field.kind in ("int", "float"):
            kwargs[field.name] = _number(field, text) if text else None
        else:
            kwargs[field.name] = text or None
    return {k: v for k, v in kwargs.items() if v is not None}


def _number(field: Field, text: str) -> int | float:
    try:
        return int(text) if field.kind == "int" else float(text)
    except ValueError:
        raise UserError(f"{field.label} ({field.name}) must be a {'whole ' if field.kind == 'int' else ''}number, "
                        f"not '{text}'.", hint=f"For example {field.default or '30'}.") from None


def section_for(section: str, query: Mapping[str, str], *, stores: Stores, scope: ReadScope,
                **extra: Any) -> Section:
    """Build one demand section for the reader from query parameters."""
    kwargs = section_kwargs(section, query, stores=stores, scope=scope) | extra
    return BUILDERS[section](stores=stores, scope=scope, **kwargs)

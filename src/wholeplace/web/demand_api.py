"""The JSON API of demand: ``/api/v1/demand/{profile,repeat,rcrp,failure,response,forecast,scenario}``.

Each route takes the query parameters of its page and returns the same published section: the words, every
table as ``{"data": [...], "count": n}`` with counts published through the reader's disclosure rule (a hidden
count is null, with its marker in ``<field>_display``), notes, datasets left out and why, and the rule applied.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from wholeplace.governance.scope import ReadScope
from wholeplace.store.stores import Stores
from wholeplace.web import demand_outlook, demand_views, schemas
from wholeplace.web.demand_tables import Section
from wholeplace.web.dependencies import StoresDep
from wholeplace.web.purpose import ApiScopeDep

router = APIRouter(prefix="/api/v1/demand", tags=["demand"], responses={
    403: {"model": schemas.ErrorResponse, "description": "Not shared with you for this purpose"},
    422: {"model": schemas.ErrorResponse, "description": "A parameter is not valid"}})

Text = Annotated[str | None, Query(max_length=100)]
Month = Annotated[str | None, Query(max_length=7, description="YYYY-MM")]
Dataset = Annotated[str | None, Query(max_length=100, description="Only this dataset.")]


class DemandTable(BaseModel):
    key: str
    title: str
    columns: list[dict[str, str]] = Field(description="field, label and kind (text, count, hours, minutes, percent, "
                                                       "number, estimate) of each column, in order")
    data: list[dict[str, Any]]
    count: int


class DemandSection(BaseModel):
    section: str
    title: str
    summary: list[str] = Field(description="What the charts show, in words.")
    tables: list[DemandTable]
    notes: list[str]
    not_available: dict[str, str] = Field(description="Datasets (or figures) left out, and why.")
    disclosure: schemas.Disclosure


def section_json(section: Section, scope: ReadScope) -> dict[str, Any]:
    tables = [{"key": t.key, "title": t.title, "data": t.data(), "count": len(t.rows),
               "columns": [{"field": c.field, "label": c.label, "kind": c.kind} for c in t.columns]}
              for t in section.tables]
    return {"section": section.section, "title": section.title, "summary": section.summary, "tables": tables,
            "notes": section.notes, "not_available": section.not_available,
            "disclosure": {"preset": scope.rule.preset.value, "statement": scope.rule.statement()}}


def _answer(stores: Stores, scope: ReadScope, section: Section) -> dict[str, Any]:
    return section_json(section, scope)


@router.get("/profile", response_model=DemandSection, summary="Demand by source, period, category, grade, hour, "
            "day and area")
def profile(stores: StoresDep, scope: ApiScopeDep, level: Text = None,
            period: Annotated[str, Query(pattern="^(month|week|day)$")] = "month",
            category_basis: Annotated[str, Query(pattern="^(category|category_opening|category_closing)$")] =
            "category", measure: Annotated[str, Query(pattern="^(count|hours)$")] = "count",
            dataset: Dataset = None, month_from: Month = None, month_to: Month = None) -> dict[str, Any]:
    return _answer(stores, scope, demand_views.profile_section(
        stores=stores, scope=scope, level=level, period=period, category_basis=category_basis, measure=measure,
        dataset=dataset, month_from=month_from, month_to=month_to))


@router.get("/repeat", response_model=DemandSection, summary="Repeat demand: prevalence, concentration, Lorenz "
            "curve and Gini")
def repeat(stores: StoresDep, scope: ApiScopeDep,
           entity: Annotated[str, Query(pattern="^(location|caller|person)$")] = "location",
           min_contacts: Annotated[int, Query(ge=2, le=1000)] = 3,
           window: Annotated[str, Query(max_length=8, description="12m (fixed months) or 28d (rolling days)")] = "12m",
           include_officer_initiated: bool = False, dataset: Dataset = None, month_from: Month = None,
           month_to: Month = None, justification: Annotated[str | None, Query(max_length=1000, description=(
               "Why you need the busiest entities' tokens (record-level access only; audited)."))] = None,
           ) -> dict[str, Any]:
    return _answer(stores, scope, demand_views.repeat_section(
        stores=stores, scope=scope, entity=entity, min_contacts=min_contacts, window=window,
        include_officer_initiated=include_officer_initiated, dataset=dataset, month_from=month_from,
        month_to=month_to, justification=justification))


@router.get("/rcrp", response_model=DemandSection, summary="Not police business: Right Care, Right Person")
def rcrp(stores: StoresDep, scope: ApiScopeDep, basis: Annotated[str, Query(pattern="^(opening|closing)$")] =
         "opening", include_self_initiated: bool = False) -> dict[str, Any]:
    return _answer(stores, scope, demand_views.rcrp_section(stores=stores, scope=scope, basis=basis,
                                                             include_self_initiated=include_self_initiated))


@router.get("/failure", response_model=DemandSection, summary="Failure demand proxies and coded samples")
def failure(stores: StoresDep, scope: ApiScopeDep, repeat_days: Annotated[int, Query(ge=1, le=365)] = 7,
            ) -> dict[str, Any]:
    return _answer(stores, scope, demand_outlook.failure_section(stores=stores, scope=scope, repeat_days=repeat_days))


@router.get("/response", response_model=DemandSection, summary="Response times and time lost")
def response(stores: StoresDep, scope: ApiScopeDep,
             clock_start: Annotated[str, Query(pattern="^(received|dispatched)$")] = "received",
             breakdown: Annotated[str, Query(pattern="^(all|grade|urban_rural|area_code)$")] = "grade",
             ) -> dict[str, Any]:
    return _answer(stores, scope, demand_outlook.response_section(stores=stores, scope=scope,
                                                                  clock_start=clock_start, breakdown=breakdown))


@router.get("/forecast", response_model=DemandSection, summary="Forecast demand and hours of work")
def forecast(stores: StoresDep, scope: ApiScopeDep, dataset: Dataset = None, category: Text = None,
             top: Annotated[int, Query(ge=1, le=20)] = 3, horizon: Annotated[int, Query(ge=1, le=48)] = 24,
             ) -> dict[str, Any]:
    return _answer(stores, scope, demand_outlook.forecast_section(stores=stores, scope=scope, dataset=dataset,
                                                                  category=category, top=top, horizon=horizon))


@router.get("/scenario", response_model=DemandSection, summary="Right Care, Right Person demand moved to health")
def scenario(stores: StoresDep, scope: ApiScopeDep, percent: Annotated[float, Query(ge=0, le=100)],
             group: Text = None, basis: Annotated[str, Query(pattern="^(observed|forecast)$")] = "observed",
             level: Text = None, horizon: Annotated[int, Query(ge=1, le=48)] = 12) -> dict[str, Any]:
    return _answer(stores, scope, demand_outlook.scenario_section(stores=stores, scope=scope, percent=percent,
                                                                  group=group, basis=basis, level=level,
                                                                  horizon=horizon))

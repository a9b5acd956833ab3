"""The JSON API of shared outcomes: the framework's indicators, their published values (paged) and their signals.

Values are read within the reader's scope for the declared purpose and published through disclosure control
(``outcomes.published``): a hidden count is null with its marker in ``numerator_display``, and so is the value
worked out from it. Pages are ``page`` (from 1) and ``per_page`` rows; ``count`` is every matching row.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from wholeplace.outcomes.published import outcome_figures, published_chart, reader_audience
from wholeplace.outcomes.values import PLACE_LEVEL
from wholeplace.web import outcome_views, schemas
from wholeplace.web.dependencies import StoresDep
from wholeplace.web.purpose import ApiScopeDep

router = APIRouter(prefix="/api/v1/outcomes", tags=["outcomes"], responses={
    404: {"model": schemas.ErrorResponse, "description": "Not found"},
    422: {"model": schemas.ErrorResponse, "description": "A parameter is not valid"}})

FrameworkQuery = Annotated[str | None, Query(max_length=64, description="Framework code; default the first stored.")]
LevelQuery = Annotated[str, Query(max_length=60, description="Geography level, or `place` for the whole place.")]
PERIOD_TYPES = ("month", "rolling_12")


class IndicatorInfo(BaseModel):
    code: str
    title: str
    outcome: str
    outcome_title: str
    unit: str
    multiplier: float
    polarity: str = Field(description="increase, decrease or neutral: which way is better")
    ci_method: str
    rba: str = Field(description="population_indicator, how_much, how_well or better_off")
    target: float | None
    disclosure: str = Field(description="The indicator's own disclosure preset (the reader's may be stricter).")
    metadata: dict[str, str | None]


class IndicatorValue(BaseModel):
    indicator: str
    level: str
    area_code: str
    area_name: str
    period_type: str = Field(description="month or rolling_12 (the 12 months to period)")
    period: date
    months: int
    numerator: float | None = Field(description="Published count (null where hidden).")
    numerator_display: str
    denominator: float | None
    denominator_display: str
    value: float | None = Field(description="From the published counts; null where a count is hidden.")
    lower: float | None
    upper: float | None
    place_value: float | None
    vs_place: str | None
    peer_group: int | None
    peer_value: float | None
    vs_peers: str | None


class ValuePage(BaseModel):
    data: list[IndicatorValue]
    count: int = Field(description="Rows matching in all pages.")
    page: int
    per_page: int
    disclosure: list[schemas.Disclosure] = Field(description="The rules applied (one per preset in use).")
    unavailable: dict[str, str] = Field(description="Indicators without values for you, and why.")


class Signal(BaseModel):
    level: str
    area_code: str
    area_name: str
    last_month: date | None
    last_value: float | None
    variation_icon: str | None
    assurance_type: str | None
    turning_the_curve: str | None
    hidden_months: int = Field(description="Months left out of the chart because their count is hidden.")


@router.get("/indicators", response_model=schemas.ListResponse[IndicatorInfo],
            summary="Indicators of the outcomes framework, with their definitions")
def indicators(stores: StoresDep, framework: FrameworkQuery = None) -> dict[str, Any]:
    stored = outcome_views.framework_code(stores=stores, code=framework).framework
    rows = [{**i.model_dump(mode="json", include={"code", "title", "unit", "multiplier", "polarity", "ci_method",
                                                    "rba", "target", "disclosure", "metadata"}),
             "outcome": o.code, "outcome_title": o.title} for o in stored.outcomes for i in o.indicators]
    return {"data": rows, "count": len(rows)}


@router.get("/values", response_model=ValuePage, summary="Published indicator values, paged")
def values(stores: StoresDep, scope: ApiScopeDep, framework: FrameworkQuery = None, level: LevelQuery = PLACE_LEVEL,
           indicator: Annotated[str | None, Query(max_length=64, description="Only this indicator.")] = None,
           period_type: Annotated[str | None, Query(pattern="^(month|rolling_12)$")] = None,
           page: Annotated[int, Query(ge=1)] = 1, per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
           ) -> dict[str, Any]:
    stored = outcome_views.framework_code(stores=stores, code=framework)
    chosen = [stored.framework.indicator(indicator).code] if indicator else None
    figures = outcome_figures(stores=stores, framework=stored, audience=reader_audience(scope), level=level,
                              indicators=chosen, periods=(period_type,) if period_type else PERIOD_TYPES)
    frame = figures.values.sort("indicator", "level", "area_code", "period_type", "period")
    rows = frame.slice((page - 1) * per_page, per_page).to_dicts()
    rules = {figures.rule(i.code).preset.value: figures.rule(i.code) for i in stored.framework.indicators()}
    return {"data": rows, "count": frame.height, "page": page, "per_page": per_page,
            "disclosure": [{"preset": k, "statement": r.statement()} for k, r in sorted(rules.items())],
            "unavailable": figures.unavailable}


@router.get("/indicators/{code}/signals", response_model=schemas.ListResponse[Signal],
            summary="SPC signals of an indicator in every place of a level, from published values")
def indicator_signals(stores: StoresDep, scope: ApiScopeDep, code: Annotated[str, Path(max_length=64)],
                      framework: FrameworkQuery = None, level: LevelQuery = PLACE_LEVEL) -> dict[str, Any]:
    stored = outcome_views.framework_code(stores=stores, code=framework)
    stored.framework.indicator(code)
    figures = outcome_figures(stores=stores, framework=stored, audience=reader_audience(scope), level=level,
                              indicators=[code], periods=("month",))
    places = figures.values.filter(pl.col("level") == level).select("area_code", "area_name").unique().sort("area_code")
    return {"data": [_signal(figures, code, level, row) for row in places.iter_rows(named=True)],
            "count": places.height}


def _signal(figures: Any, code: str, level: str, place: dict[str, str]) -> dict[str, Any]:
    chart = published_chart(figures, indicator=code, level=level, area=place["area_code"])
    row: dict[str, Any] = {"level": level, **place, "last_month": None, "last_value": None, "variation_icon": None,
                           "assurance_type": None, "turning_the_curve": None, "hidden_months": 0}
    if chart is None:
        return row
    latest = chart.summary.filter(pl.col("latest")).row(-1, named=True)
    last = chart.points.row(-1, named=True)
    return row | {"last_month": last["x"], "last_value": last["y"], "variation_icon": latest["variation_icon"],
                  "assurance_type": latest["assurance_type"], "hidden_months": chart.hidden_months,
                  "turning_the_curve": chart.summary.get_column("turning_the_curve").item(0)}

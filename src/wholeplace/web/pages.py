"""The place overview page, the accessibility statement, the API documentation page and /health.

The overview's filters are a plain GET form, so they work without JavaScript; with htmx the
same request comes back as just the ``results`` block (rendered by jinja2-fragments) and is
swapped in place.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wholeplace import overview
from wholeplace.store import Stores
from wholeplace.web import charts, describe
from wholeplace.web.dependencies import HtmxDep, StoresDep, TemplatesDep
from wholeplace.web.schemas import Health
from wholeplace.web.versions import vendored_versions

router = APIRouter(include_in_schema=False)
health_router = APIRouter()

LOAD_COMMANDS = (
    "wholeplace load boundaries lsoa.geojson --level lsoa",
    "wholeplace load police-uk 2021-01-lancashire-street.csv.gz",
    "wholeplace status",
)
DEMO_COMMAND = "wholeplace demo"


@router.get("/", name="overview")
def overview_page(
    request: Request, stores: StoresDep, templates: TemplatesDep, htmx: HtmxDep,
    level: Annotated[str | None, Query(max_length=60)] = None,
    partner: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    context = overview_context(stores=stores, level=level or None, partner=partner or None)
    block = "results" if htmx else None
    response = templates.TemplateResponse(request, "overview.html", context, block_name=block)
    response.headers["Vary"] = "HX-Request"
    return response


def overview_context(*, stores: Stores, level: str | None, partner: str | None) -> dict[str, Any]:
    """Everything the overview shows; ``level`` defaults to the finest and ``partner`` to all."""
    headline = overview.summary(stores=stores)
    levels = overview.levels(stores=stores)
    partners = overview.partners(stores=stores)
    level = level or (levels[0]["level"] if levels else None)
    context: dict[str, Any] = {
        "summary": headline, "levels": levels, "partners": partners, "level": level, "partner": partner,
        "load_commands": LOAD_COMMANDS, "demo_command": DEMO_COMMAND,
    }
    if headline["events"] == 0:
        return context
    partner_name = next((p["name"] for p in partners if p["partner"] == partner), None)
    context.update(month_context(stores=stores, partner=partner))
    if level is not None:
        context.update(area_context(stores=stores, level=level, levels=levels, partner=partner,
                                    partner_name=partner_name))
    return context


def area_context(*, stores: Stores, level: str, levels: list[dict[str, Any]], partner: str | None,
                 partner_name: str | None) -> dict[str, Any]:
    rows = overview.events_by_area(stores=stores, level=level, partner=partner)
    title = next(row["title"] for row in levels if row["level"] == level)
    classes = charts.map_classes([row["events"] for row in rows])
    return {
        "level_title": title, "area_rows": rows, "map_classes": classes,
        "map_data": {"classes": charts.classes_json(classes), "counts": {r["area_code"]: r["events"] for r in rows},
                     "level": level},
        "area_text": describe.describe_areas(rows, level_title=title, partner_name=partner_name),
    }


def month_context(*, stores: Stores, partner: str | None) -> dict[str, Any]:
    rows = overview.events_by_month(stores=stores, partner=partner)
    text = describe.describe_months(rows)
    names, table = describe.month_table(rows)
    return {"month_text": text, "month_partners": names, "month_rows": table,
            "chart_spec": charts.monthly_chart(rows, description=text)}


@router.get("/accessibility", name="accessibility")
def accessibility_page(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "accessibility.html", {"versions": vendored_versions()})


@router.get("/api/docs", name="api_docs")
def api_docs_page(request: Request, templates: TemplatesDep) -> Response:
    """The API reference, rendered from the OpenAPI document with our own page (no Swagger UI,
    which would load its scripts from a CDN)."""
    operations = [
        {"path": path, "method": method.upper(), "summary": op.get("summary", ""),
         "parameters": [p for p in op.get("parameters", []) if p.get("in") == "query"]}
        for path, methods in request.app.openapi()["paths"].items()
        for method, op in methods.items()
    ]
    return templates.TemplateResponse(request, "api_docs.html", {"operations": operations})


@health_router.get("/health", response_model=Health, tags=["health"], summary="Liveness: the app is running")
def health() -> dict[str, str]:
    return {"status": "ok"}

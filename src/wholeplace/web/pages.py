"""The place overview page, the accessibility statement, the API documentation page and /health.

The overview's filters are a plain GET form, so they work without JavaScript; with htmx the
same request comes back as just the ``results`` block (rendered by jinja2-fragments) and is
swapped in place.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wholeplace import provenance, published
from wholeplace.governance.purposes import PURPOSES
from wholeplace.governance.scope import ReadScope
from wholeplace.store import Stores
from wholeplace.web import charts, describe
from wholeplace.web.dependencies import HtmxDep, StoresDep, TemplatesDep
from wholeplace.web.purpose import PageScopeDep
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
    request: Request, stores: StoresDep, templates: TemplatesDep, htmx: HtmxDep, scope: PageScopeDep,
    level: Annotated[str | None, Query(max_length=60)] = None,
    partner: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    context = overview_context(stores=stores, scope=scope, level=level or None, partner=partner or None)
    block = "results" if htmx else None
    response = templates.TemplateResponse(request, "overview.html", context, block_name=block)
    response.headers["Vary"] = "HX-Request"
    return response


def overview_context(*, stores: Stores, scope: ReadScope, level: str | None, partner: str | None) -> dict[str, Any]:
    """Everything the overview shows, as published for this reader; ``level`` defaults to the finest allowed."""
    headline = published.summary(stores=stores, scope=scope)
    levels = published.levels(stores=stores, scope=scope)
    partners = published.partners(stores=stores, scope=scope)
    level = level or (levels[0]["level"] if levels else None)
    context: dict[str, Any] = {
        "summary": headline, "levels": levels, "partners": partners.rows, "level": level, "partner": partner,
        "load_commands": LOAD_COMMANDS, "demo_command": DEMO_COMMAND, "statement": scope.rule.statement(),
        "nothing_shared": not scope.datasets and bool(provenance.list_datasets(stores=stores)),
        "purpose_title": PURPOSES[scope.purpose].title,
    }
    if not scope.datasets or headline["events"] == 0:
        return context
    partner_name = next((p["name"] for p in partners.rows if p["partner"] == partner), None)
    context.update(month_context(stores=stores, scope=scope, partner=partner))
    if level is not None:
        context.update(area_context(stores=stores, scope=scope, level=level, levels=levels, partner=partner,
                                    partner_name=partner_name))
    return context


def area_context(*, stores: Stores, scope: ReadScope, level: str, levels: list[dict[str, Any]], partner: str | None,
                 partner_name: str | None) -> dict[str, Any]:
    table = published.areas(stores=stores, scope=scope, level=level, partner=partner)
    rows = table.rows
    title = next(row["title"] for row in levels if row["level"] == level)
    classes = charts.map_classes([row["events"] for row in rows if row["events"] is not None])
    return {
        "level_title": title, "area_rows": rows, "map_classes": classes, "area_total": table.total_display,
        "map_data": {"classes": charts.classes_json(classes), "counts": {r["area_code"]: r["events"] for r in rows},
                     "hidden": scope.rule.marker, "hidden_colour": charts.HIDDEN_COLOUR, "level": level},
        "hidden_areas": sum(1 for r in rows if r["events"] is None), "hidden_colour": charts.HIDDEN_COLOUR,
        "area_text": describe.describe_areas(rows, level_title=title, partner_name=partner_name,
                                             marker=scope.rule.marker),
    }


def month_context(*, stores: Stores, scope: ReadScope, partner: str | None) -> dict[str, Any]:
    table = published.months(stores=stores, scope=scope, partner=partner)
    rows = table.rows
    totals = {row["key"]: row for row in table.line_totals.get("rows", [])}
    text = describe.describe_months(rows, totals=totals, marker=scope.rule.marker)
    partner_names, body = describe.month_table(rows, totals=totals)
    return {"month_text": text, "month_partners": partner_names, "month_rows": body,
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

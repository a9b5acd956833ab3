"""The data page (what is loaded, what was refused, where supplied and computed areas differ), one
page per dataset, and a dataset's records.

Every figure is read within the reader's scope (``governance.scope``) and published through
disclosure control (``wholeplace.published``). Loads, rows refused at load, area disagreements and
records describe individual records, so they are shown only for datasets the reader may see at
record level, only after the reader says why, and each view is a consultation in the audit log
(``wholeplace.records``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wholeplace import provenance, published, records
from wholeplace.governance.access import AccessLevel, authorise
from wholeplace.governance.scope import MIN_JUSTIFICATION, JustificationNeeded, ReadScope
from wholeplace.store import Stores
from wholeplace.web.dependencies import StoresDep, TemplatesDep
from wholeplace.web.pagination import PAGE_SIZE, offset, page_range, pagination
from wholeplace.web.purpose import PageScopeDep

router = APIRouter(include_in_schema=False)

PageQuery = Annotated[int, Query(ge=1, le=1_000_000, description="Page of the table, from 1.")]


JustificationQuery = Annotated[str | None, Query(max_length=1000, description="Why these records are needed.")]


@router.get("/data", name="data")
def data_page(
    request: Request, stores: StoresDep, templates: TemplatesDep, scope: PageScopeDep,
    dataset: Annotated[str | None, Query(max_length=100)] = None, justification: JustificationQuery = None,
    load_page: PageQuery = 1, quarantine_page: PageQuery = 1, disagreement_page: PageQuery = 1,
) -> Response:
    dataset, justification = dataset or None, (justification or "").strip() or None
    readable = published.datasets(stores=stores, scope=scope)
    context: dict[str, Any] = {
        "datasets": readable, "record_datasets": [row for row in readable if row["record_level"]],
        "levels": provenance.list_levels(stores=stores), "dataset": dataset, "justification": justification or "",
        "statement": scope.rule.statement(), "min_justification": MIN_JUSTIFICATION,
    }
    context |= load_context(request, stores, scope, load_page)
    context["problems"] = []
    if justification and context["record_datasets"]:
        try:
            context |= quarantine_context(request, stores, scope, dataset, justification, quarantine_page)
            context |= disagreement_context(request, stores, scope, dataset, justification, disagreement_page)
        except JustificationNeeded as exc:
            context["problems"] = [{"text": f"{exc.message} {exc.hint}", "href": "#justification"}]
            return templates.TemplateResponse(request, "data.html", context, status_code=422)
    return templates.TemplateResponse(request, "data.html", context)


def with_agreement(loads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each load with the share of its supplied area codes that match the computed areas."""
    for load in loads:
        check = load.get("area_check") or {}
        load["agreement"] = check.get("agreement")
        load["rows_compared"] = check.get("rows_compared")
    return loads


def load_context(request: Request, stores: Stores, scope: ReadScope, page: int) -> dict[str, Any]:
    """Loads newest first, a page at a time: a place loading monthly files soon has hundreds."""
    loads = records.loads(stores=stores, scope=scope, include_inactive=True)[::-1]
    return {
        "loads": with_agreement(loads[offset(page):offset(page) + PAGE_SIZE]), "loads_total": len(loads),
        "loads_range": page_range(page=page, total=len(loads)),
        "loads_pages": pagination(url=request.url, param="load_page", page=page, total=len(loads), anchor="loads"),
    }


def quarantine_context(request: Request, stores: Stores, scope: ReadScope, dataset: str | None, justification: str,
                       page: int) -> dict[str, Any]:
    rows, total = records.quarantined_rows(stores=stores, scope=scope, dataset=dataset, justification=justification,
                                           limit=PAGE_SIZE, offset=offset(page))
    return {
        "quarantine": rows, "quarantine_total": total, "shown": True,
        "quarantine_range": page_range(page=page, total=total),
        "quarantine_pages": pagination(url=request.url, param="quarantine_page", page=page, total=total,
                                       anchor="quarantined-rows"),
    }


def disagreement_context(request: Request, stores: Stores, scope: ReadScope, dataset: str | None, justification: str,
                         page: int) -> dict[str, Any]:
    rows, total = records.area_disagreements(stores=stores, scope=scope, dataset=dataset,
                                             justification=justification, limit=PAGE_SIZE, offset=offset(page))
    return {
        "disagreements": rows, "disagreements_total": total,
        "disagreements_range": page_range(page=page, total=total),
        "disagreements_pages": pagination(url=request.url, param="disagreement_page", page=page, total=total,
                                          anchor="area-disagreements"),
    }


@router.get("/datasets/{code}", name="dataset")
def dataset_page(request: Request, code: str, stores: StoresDep, templates: TemplatesDep,
                 scope: PageScopeDep) -> Response:
    found = published.dataset(stores=stores, scope=scope, code=code)
    loads = [load for load in records.loads(stores=stores, scope=scope, include_inactive=True)
             if load["dataset"] == code]
    context = {
        "found": found,
        "loads": with_agreement(loads),
        "categories": published.dataset_categories(stores=stores, scope=scope, code=code),
        "fields": published.dataset_fields(stores=stores, scope=scope, code=code),
        "mapping_versions": sorted({load["mapping_version"] for load in loads}),
        "statement": scope.rule.statement(),
    }
    return templates.TemplateResponse(request, "dataset.html", context)


@router.get("/datasets/{code}/records", name="dataset_records")
def records_page(request: Request, code: str, stores: StoresDep, templates: TemplatesDep, scope: PageScopeDep,
                 justification: JustificationQuery = None, page: PageQuery = 1) -> Response:
    """A dataset's event records, after the reader says why; each view is a consultation in the audit log."""
    found = published.dataset(stores=stores, scope=scope, code=code)
    justification = (justification or "").strip() or None
    context: dict[str, Any] = {"found": found, "justification": justification or "", "rows": None,
                               "min_justification": MIN_JUSTIFICATION, "problems": []}
    if not scope.record_level(code):  # refused here, logged, with the reason named
        authorise(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=code,
                  level=AccessLevel.PSEUDONYMISED)
    if justification is not None:
        try:
            rows, total, fields = records.event_records(stores=stores, scope=scope, dataset=code,
                                                        justification=justification, limit=PAGE_SIZE,
                                                        offset=offset(page))
        except JustificationNeeded as exc:
            context["problems"] = [{"text": f"{exc.message} {exc.hint}", "href": "#justification"}]
            return templates.TemplateResponse(request, "records.html", context, status_code=422)
        context |= {"rows": rows, "total": total, "fields": fields, "range": page_range(page=page, total=total),
                    "pages": pagination(url=request.url, param="page", page=page, total=total, anchor="records")}
    return templates.TemplateResponse(request, "records.html", context)

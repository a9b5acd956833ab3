"""The data page (what is loaded, what was refused, where supplied and computed areas differ)
and one page per dataset. Both are views of ``wholeplace.provenance``, like ``wholeplace status``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wholeplace import overview, provenance
from wholeplace.store import Stores
from wholeplace.web.dependencies import StoresDep, TemplatesDep
from wholeplace.web.pagination import PAGE_SIZE, offset, page_range, pagination

router = APIRouter(include_in_schema=False)

PageQuery = Annotated[int, Query(ge=1, le=1_000_000, description="Page of the table, from 1.")]


@router.get("/data", name="data")
def data_page(
    request: Request, stores: StoresDep, templates: TemplatesDep,
    dataset: Annotated[str | None, Query(max_length=100)] = None,
    load_page: PageQuery = 1, quarantine_page: PageQuery = 1, disagreement_page: PageQuery = 1,
) -> Response:
    dataset = dataset or None
    context: dict[str, Any] = {
        "datasets": provenance.list_datasets(stores=stores),
        "levels": provenance.list_levels(stores=stores),
        "dataset": dataset,
    }
    context |= load_context(request, stores, load_page)
    context |= quarantine_context(request, stores, dataset, quarantine_page)
    context |= disagreement_context(request, stores, dataset, disagreement_page)
    return templates.TemplateResponse(request, "data.html", context)


def with_agreement(loads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each load with the share of its supplied area codes that match the computed areas."""
    for load in loads:
        check = load.get("area_check") or {}
        load["agreement"] = check.get("agreement")
        load["rows_compared"] = check.get("rows_compared")
    return loads


def load_context(request: Request, stores: Stores, page: int) -> dict[str, Any]:
    """Loads newest first, a page at a time: a place loading monthly files soon has hundreds."""
    loads = provenance.list_loads(stores=stores, include_inactive=True)[::-1]
    return {
        "loads": with_agreement(loads[offset(page):offset(page) + PAGE_SIZE]), "loads_total": len(loads),
        "loads_range": page_range(page=page, total=len(loads)),
        "loads_pages": pagination(url=request.url, param="load_page", page=page, total=len(loads), anchor="loads"),
    }


def quarantine_context(request: Request, stores: Stores, dataset: str | None, page: int) -> dict[str, Any]:
    rows, total = provenance.list_quarantine(stores=stores, dataset=dataset, limit=PAGE_SIZE, offset=offset(page))
    return {
        "quarantine": rows, "quarantine_total": total,
        "quarantine_range": page_range(page=page, total=total),
        "quarantine_pages": pagination(url=request.url, param="quarantine_page", page=page, total=total,
                                       anchor="quarantined-rows"),
    }


def disagreement_context(request: Request, stores: Stores, dataset: str | None, page: int) -> dict[str, Any]:
    rows, total = provenance.list_area_disagreements(stores=stores, dataset=dataset, limit=PAGE_SIZE,
                                                     offset=offset(page))
    return {
        "disagreements": rows, "disagreements_total": total,
        "disagreements_range": page_range(page=page, total=total),
        "disagreements_pages": pagination(url=request.url, param="disagreement_page", page=page, total=total,
                                          anchor="area-disagreements"),
    }


@router.get("/datasets/{code}", name="dataset")
def dataset_page(request: Request, code: str, stores: StoresDep, templates: TemplatesDep) -> Response:
    found = overview.dataset(stores=stores, code=code)
    loads = [load for load in provenance.list_loads(stores=stores, include_inactive=True) if load["dataset"] == code]
    context = {
        "found": found,
        "loads": with_agreement(loads),
        "categories": overview.dataset_categories(stores=stores, code=code),
        "fields": overview.dataset_fields(stores=stores, code=code),
        "mapping_versions": sorted({load["mapping_version"] for load in loads}),
    }
    return templates.TemplateResponse(request, "dataset.html", context)

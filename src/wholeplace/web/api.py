"""The JSON API, version 1: thin wrappers over the published, records and provenance service functions.

Every read of partner data declares a purpose (``?purpose=CODE`` or the ``Wholeplace-Purpose``
header) and sees only what the agreements share for it; counts are published through disclosure
control, and record-level routes need a justification and are recorded in the audit log.

Lists are ``{"data": [...], "count": n}`` where ``count`` is every matching row, so a client
pages with ``limit``/``offset`` until it has ``count`` rows. Errors are
``{"error": {"status", "message", "detail"}}`` (see ``wholeplace.web.errors``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from wholeplace import overview, provenance, published, records
from wholeplace.errors import NotFoundError
from wholeplace.governance.scope import ReadScope
from wholeplace.web import schemas
from wholeplace.web.auth import PrincipalDep
from wholeplace.web.dependencies import StoresDep
from wholeplace.web.purpose import ApiScopeDep, purpose_choices

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorResponse, "description": "Not found"},
    422: {"model": schemas.ErrorResponse, "description": "A parameter is not valid"},
}
MAP_SIMPLIFY = 0.0002  # degrees, about 15 m: plenty for a choropleth, and a quarter of the bytes

router = APIRouter(prefix="/api/v1", tags=["api"], responses=ERRORS)

DatasetQuery = Annotated[str | None, Query(description="Only rows of this dataset code.")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Rows per page (1 to 1000).")]
OffsetQuery = Annotated[int, Query(ge=0, description="Rows to skip.")]
LevelQuery = Annotated[str | None, Query(description="Geography level; default the finest loaded.")]
PartnerQuery = Annotated[str | None, Query(description="Partner code; default all partners.")]
InactiveQuery = Annotated[bool, Query(description="Include superseded and failed loads.")]


JustificationQuery = Annotated[str | None, Query(
    max_length=1000, description="Why you need these records (at least 10 characters); kept in the audit log.")]


def listed(rows: list[dict[str, Any]], count: int | None = None) -> dict[str, Any]:
    return {"data": rows, "count": len(rows) if count is None else count}


def published_list(table: published.Published) -> dict[str, Any]:
    return {"data": table.rows, "count": len(table.rows), "total": table.total, "total_display": table.total_display,
            "disclosure": {"preset": table.preset, "statement": table.statement}}


def default_level(stores: StoresDep, scope: ReadScope, level: str | None) -> str:
    """The level asked for, or the finest the reader's agreements allow."""
    if level:
        return level
    allowed = published.levels(stores=stores, scope=scope)
    if not allowed:
        raise NotFoundError("No geography levels are loaded, so there are no areas yet.",
                            hint="Load boundaries first: wholeplace load boundaries FILE --level NAME")
    return allowed[0]["level"]


@router.get("/purposes", response_model=schemas.ListResponse[schemas.Purpose],
            summary="Purposes a read may declare, and what each opens to you")
def purposes(stores: StoresDep, principal: PrincipalDep) -> dict[str, Any]:
    return listed(purpose_choices(stores, principal))


@router.get("/status", response_model=schemas.Status,
            summary="What is loaded (as `wholeplace status --json`, within what is shared with you)")
def status(stores: StoresDep, scope: ApiScopeDep, include_inactive: InactiveQuery = False) -> dict[str, Any]:
    return {"loads": records.loads(stores=stores, scope=scope, include_inactive=include_inactive),
            "datasets": published.datasets(stores=stores, scope=scope),
            "levels": provenance.list_levels(stores=stores), "context": provenance.list_context_loads(stores=stores)}


@router.get("/datasets", response_model=schemas.ListResponse[schemas.Dataset],
            summary="Datasets shared with you for the purpose, with published row counts")
def datasets(stores: StoresDep, scope: ApiScopeDep) -> dict[str, Any]:
    return listed(published.datasets(stores=stores, scope=scope))


@router.get("/datasets/{code}/categories", response_model=schemas.PublishedList[schemas.CategoryCount],
            summary="Events of a dataset by category, published")
def dataset_categories(code: str, stores: StoresDep, scope: ApiScopeDep) -> dict[str, Any]:
    return published_list(published.dataset_categories(stores=stores, scope=scope, code=code))


@router.get("/datasets/{code}/records", response_model=schemas.Records,
            summary="Records of a dataset (person-level: needs record access, a justification, and is audited)")
def dataset_records(code: str, stores: StoresDep, scope: ApiScopeDep, justification: JustificationQuery = None,
                    limit: LimitQuery = 100, offset: OffsetQuery = 0) -> dict[str, Any]:
    rows, total, fields = records.event_records(stores=stores, scope=scope, dataset=code,
                                                justification=justification, limit=limit, offset=offset)
    return {"data": rows, "count": total, "fields": fields}


@router.get("/loads", response_model=schemas.ListResponse[schemas.Load],
            summary="Loads of the datasets whose records you may see")
def loads(stores: StoresDep, scope: ApiScopeDep, include_inactive: InactiveQuery = False) -> dict[str, Any]:
    return listed(records.loads(stores=stores, scope=scope, include_inactive=include_inactive))


@router.get("/quarantine", response_model=schemas.ListResponse[schemas.QuarantinedRow],
            summary="Rows refused at load, with file, line, column and reason (person-level: audited)")
def quarantine(stores: StoresDep, scope: ApiScopeDep, dataset: DatasetQuery = None,
               justification: JustificationQuery = None, limit: LimitQuery = 100,
               offset: OffsetQuery = 0) -> dict[str, Any]:
    rows, total = records.quarantined_rows(stores=stores, scope=scope, dataset=dataset, justification=justification,
                                           limit=limit, offset=offset)
    return listed(rows, total)


@router.get("/area-disagreements", response_model=schemas.ListResponse[schemas.AreaDisagreement],
            summary="Events whose supplied area differs from the area computed from their point (audited)")
def area_disagreements(stores: StoresDep, scope: ApiScopeDep, dataset: DatasetQuery = None,
                       justification: JustificationQuery = None, limit: LimitQuery = 100,
                       offset: OffsetQuery = 0) -> dict[str, Any]:
    rows, total = records.area_disagreements(stores=stores, scope=scope, dataset=dataset,
                                             justification=justification, limit=limit, offset=offset)
    return listed(rows, total)


@router.get("/levels", response_model=schemas.ListResponse[schemas.Level], summary="Geography levels, finest first")
def levels(stores: StoresDep) -> dict[str, Any]:
    return listed(overview.levels(stores=stores))


@router.get("/partners", response_model=schemas.PublishedList[schemas.Partner],
            summary="Partners whose data is shared with you, and their published event counts")
def partners(stores: StoresDep, scope: ApiScopeDep) -> dict[str, Any]:
    return published_list(published.partners(stores=stores, scope=scope))


@router.get("/areas", response_model=schemas.FeatureCollection, summary="Boundaries of a level as GeoJSON")
def areas(stores: StoresDep, level: LevelQuery = None) -> JSONResponse:
    # Boundaries are public geography, not partner data. Returned as a response directly:
    # re-validating every coordinate of a county would cost more than building it.
    chosen = level or (overview.levels(stores=stores) or [{"level": None}])[0]["level"]
    if chosen is None:
        raise NotFoundError("No geography levels are loaded, so there are no areas yet.",
                            hint="Load boundaries first: wholeplace load boundaries FILE --level NAME")
    geojson = overview.areas_geojson(stores=stores, level=chosen, simplify_tolerance=MAP_SIMPLIFY)
    return JSONResponse(geojson, media_type="application/geo+json")


@router.get("/overview/summary", response_model=schemas.Summary, summary="Headline counts of the place, published")
def summary(stores: StoresDep, scope: ApiScopeDep) -> dict[str, Any]:
    return published.summary(stores=stores, scope=scope)


@router.get("/overview/areas", response_model=schemas.PublishedList[schemas.AreaCount],
            summary="Events per area of a level, busiest first (every area), published")
def overview_areas(stores: StoresDep, scope: ApiScopeDep, level: LevelQuery = None,
                   partner: PartnerQuery = None) -> dict[str, Any]:
    return published_list(published.areas(stores=stores, scope=scope, level=default_level(stores, scope, level),
                                           partner=partner))


@router.get("/overview/months", response_model=schemas.PublishedList[schemas.MonthCount],
            summary="Events per month and partner (every month of the span), published")
def overview_months(stores: StoresDep, scope: ApiScopeDep, partner: PartnerQuery = None) -> dict[str, Any]:
    return published_list(published.months(stores=stores, scope=scope, partner=partner))

"""The JSON API, version 1: thin wrappers over the provenance and overview service functions.

Lists are ``{"data": [...], "count": n}`` where ``count`` is every matching row, so a client
pages with ``limit``/``offset`` until it has ``count`` rows. Errors are
``{"error": {"status", "message", "detail"}}`` (see ``wholeplace.web.errors``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from wholeplace import overview, provenance
from wholeplace.errors import NotFoundError
from wholeplace.web import schemas
from wholeplace.web.dependencies import StoresDep

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


def listed(rows: list[dict[str, Any]], count: int | None = None) -> dict[str, Any]:
    return {"data": rows, "count": len(rows) if count is None else count}


def default_level(stores: StoresDep, level: str | None) -> str:
    """The level asked for, or the finest loaded one."""
    if level:
        return level
    loaded = overview.levels(stores=stores)
    if not loaded:
        raise NotFoundError("No geography levels are loaded, so there are no areas yet.",
                            hint="Load boundaries first: wholeplace load boundaries FILE --level NAME")
    return loaded[0]["level"]


@router.get("/status", response_model=schemas.Status, summary="Everything loaded (as `wholeplace status --json`)")
def status(stores: StoresDep, include_inactive: InactiveQuery = False) -> dict[str, Any]:
    return provenance.status_report(stores=stores, include_inactive=include_inactive)


@router.get("/datasets", response_model=schemas.ListResponse[schemas.Dataset], summary="Datasets in the store")
def datasets(stores: StoresDep) -> dict[str, Any]:
    return listed(provenance.list_datasets(stores=stores))


@router.get("/loads", response_model=schemas.ListResponse[schemas.Load], summary="Loads of partner files")
def loads(stores: StoresDep, include_inactive: InactiveQuery = False) -> dict[str, Any]:
    return listed(provenance.list_loads(stores=stores, include_inactive=include_inactive))


@router.get("/quarantine", response_model=schemas.ListResponse[schemas.QuarantinedRow],
            summary="Rows refused at load, with file, line, column and reason")
def quarantine(stores: StoresDep, dataset: DatasetQuery = None, limit: LimitQuery = 100,
               offset: OffsetQuery = 0) -> dict[str, Any]:
    rows, total = provenance.list_quarantine(stores=stores, dataset=dataset, limit=limit, offset=offset)
    return listed(rows, total)


@router.get("/area-disagreements", response_model=schemas.ListResponse[schemas.AreaDisagreement],
            summary="Events whose supplied area differs from the area computed from their point")
def area_disagreements(stores: StoresDep, dataset: DatasetQuery = None, limit: LimitQuery = 100,
                       offset: OffsetQuery = 0) -> dict[str, Any]:
    rows, total = provenance.list_area_disagreements(stores=stores, dataset=dataset, limit=limit, offset=offset)
    return listed(rows, total)


@router.get("/levels", response_model=schemas.ListResponse[schemas.Level], summary="Geography levels, finest first")
def levels(stores: StoresDep) -> dict[str, Any]:
    return listed(overview.levels(stores=stores))


@router.get("/partners", response_model=schemas.ListResponse[schemas.Partner], summary="Partners and their events")
def partners(stores: StoresDep) -> dict[str, Any]:
    return listed(overview.partners(stores=stores))


@router.get("/areas", response_model=schemas.FeatureCollection, summary="Boundaries of a level as GeoJSON")
def areas(stores: StoresDep, level: LevelQuery = None) -> JSONResponse:
    # Returned as a response directly: re-validating every coordinate of a county would cost
    # more than building it, and the shape is fixed by overview.areas_geojson.
    geojson = overview.areas_geojson(stores=stores, level=default_level(stores, level), simplify_tolerance=MAP_SIMPLIFY)
    return JSONResponse(geojson, media_type="application/geo+json")


@router.get("/overview/summary", response_model=schemas.Summary, summary="Headline counts of the place")
def summary(stores: StoresDep) -> dict[str, Any]:
    return overview.summary(stores=stores)


@router.get("/overview/areas", response_model=schemas.ListResponse[schemas.AreaCount],
            summary="Events per area of a level, busiest first (every area, zero when none)")
def overview_areas(stores: StoresDep, level: LevelQuery = None, partner: PartnerQuery = None) -> dict[str, Any]:
    return listed(overview.events_by_area(stores=stores, level=default_level(stores, level), partner=partner))


@router.get("/overview/months", response_model=schemas.ListResponse[schemas.MonthCount],
            summary="Events per month and partner (every month of the span, zero when none)")
def overview_months(stores: StoresDep, partner: PartnerQuery = None) -> dict[str, Any]:
    return listed(overview.events_by_month(stores=stores, partner=partner))

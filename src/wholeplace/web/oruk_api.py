"""The Open Referral UK API (HSDS-UK-3.0) under ``/oruk``: open data, no key, every response with
``Access-Control-Allow-Origin: *``. Lists are HSDS pages with the seven page fields; an unknown id
is a JSON 404. Query parameters are named as the UK 3.0 OpenAPI names them (``wholeplace.directory.query``
says what each does, and which are extensions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from wholeplace.directory import query as directory
from wholeplace.directory.model import PROFILE_VERSION
from wholeplace.errors import NotFoundError, UserError
from wholeplace.web.dependencies import StoresDep

router = APIRouter(prefix="/oruk", tags=["open referral uk"])
PROFILE_URL = "https://openreferraluk.org/specifications/3.0/"
OPENAPI_URL = "https://openreferraluk.org/specifications/3.0/openapi.json"
CORS = {"Access-Control-Allow-Origin": "*"}
Text = Annotated[str | None, Query(max_length=200)]
Number = Annotated[str | None, Query(max_length=40)]


def _answer(work: Callable[[], Any]) -> Response:
    """The JSON of ``work()`` (bytes are JSON already), or the API's one error shape; both open to every
    origin."""
    try:
        result = work()
        if isinstance(result, bytes):
            return Response(result, media_type="application/json", headers=CORS)
        return JSONResponse(result, headers=CORS)
    except UserError as exc:
        return _error(exc)


def _error(exc: UserError) -> Response:
    status = 404 if isinstance(exc, NotFoundError) else 400
    body = {"error": {"status": status, "message": exc.message, "detail": {"hint": exc.hint}}}
    return JSONResponse(body, status_code=status, headers=CORS)


@router.get("/", summary="What this API serves")
def api_details() -> Response:
    return _answer(lambda: {"version": PROFILE_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL})


@router.get("/services", summary="Services, paged and filtered (every filter must hold)")
async def services(request: Request, stores: StoresDep, search: Text = None, taxonomy_term_id: Text = None,
             taxonomy_id: Text = None, organization_id: Text = None, minimum_age: Number = None,
             maximum_age: Number = None, day: Number = None, start_time: Number = None, end_time: Number = None,
             postcode: Text = None, proximity: Number = None, modified_after: Number = None, page: Number = None,
             per_page: Number = None, latitude: Number = None, longitude: Number = None, open_now: Number = None,
             age: Number = None) -> Response:
    """Answered on the event loop when the search index, postcode and documents are all in memory (about a
    millisecond of work, less than handing it to a worker thread costs); otherwise in a worker thread, as
    it reads the database."""
    params = dict(request.query_params)
    try:
        found = directory.service_page_json_from_memory(stores=stores, query=directory.parse_query(params))
    except UserError as exc:
        return _error(exc)
    if found is not None:
        return Response(found, media_type="application/json", headers=CORS)
    return await run_in_threadpool(
        _answer, lambda: directory.service_page_json(stores=stores, query=directory.parse_query(params)))


@router.get("/services/{service_id}", summary="One service, fully nested")
def service(service_id: str, stores: StoresDep) -> Response:
    return _answer(lambda: directory.get_service(stores=stores, service_id=service_id))


@router.get("/service_at_locations", summary="Services where they are delivered, paged and filtered")
def service_at_locations(request: Request, stores: StoresDep, search: Text = None, taxonomy_term_id: Text = None,
                         taxonomy_id: Text = None, organization_id: Text = None, minimum_age: Number = None,
                         maximum_age: Number = None, day: Number = None, start_time: Number = None,
                         end_time: Number = None, postcode: Text = None, proximity: Number = None,
                         modified_after: Number = None, page: Number = None, per_page: Number = None,
                         latitude: Number = None, longitude: Number = None, open_now: Number = None,
                         age: Number = None) -> Response:
    params = dict(request.query_params)
    return _answer(lambda: directory.service_at_location_page_json(stores=stores,
                                                                   query=directory.parse_query(params)))


@router.get("/service_at_locations/{record_id}", summary="One service at a location")
def service_at_location(record_id: str, stores: StoresDep) -> Response:
    return _answer(lambda: directory.get_record(stores=stores, kind="service_at_location", record_id=record_id))


@router.get("/taxonomies", summary="Taxonomies, paged")
def taxonomies(request: Request, stores: StoresDep, page: Number = None, per_page: Number = None) -> Response:
    params = dict(request.query_params)
    return _answer(lambda: directory.record_page(stores=stores, kind="taxonomy", params=params))


@router.get("/taxonomies/{record_id}", summary="One taxonomy")
def taxonomy(record_id: str, stores: StoresDep) -> Response:
    return _answer(lambda: directory.get_record(stores=stores, kind="taxonomy", record_id=record_id))


@router.get("/taxonomy_terms", summary="Taxonomy terms, paged")
def taxonomy_terms(request: Request, stores: StoresDep, page: Number = None, per_page: Number = None,
                   taxonomy_id: Text = None, parent_id: Text = None, top_only: Number = None,
                   search: Text = None) -> Response:
    params = dict(request.query_params)
    return _answer(lambda: directory.record_page(stores=stores, kind="taxonomy_term", params=params))


@router.get("/taxonomy_terms/{record_id}", summary="One taxonomy term")
def taxonomy_term(record_id: str, stores: StoresDep) -> Response:
    return _answer(lambda: directory.get_record(stores=stores, kind="taxonomy_term", record_id=record_id))


@router.get("/organizations", summary="Organisations, paged")
def organizations(request: Request, stores: StoresDep, page: Number = None, per_page: Number = None,
                  search: Text = None) -> Response:
    params = dict(request.query_params)
    return _answer(lambda: directory.record_page(stores=stores, kind="organization", params=params))


@router.get("/organizations/{record_id}", summary="One organisation with its services")
def organization(record_id: str, stores: StoresDep) -> Response:
    return _answer(lambda: directory.get_record(stores=stores, kind="organization", record_id=record_id))

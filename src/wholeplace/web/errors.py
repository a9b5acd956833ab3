"""Errors at the web boundary, translated once: one JSON shape for the API, an error page for people.

API: ``{"error": {"status": int, "message": str, "detail": ...}}`` for every status.
Pages: the GOV.UK error summary, listing each problem and what to do about it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from wholeplace.errors import NotFoundError, UserError
from wholeplace.overview import UnknownChoiceError

TITLES = {
    400: "There is a problem with the request",
    401: "Sign in to use this service",
    403: "You cannot do that",
    404: "Page not found",
    405: "This page cannot do that",
    422: "There is a problem with the request",
    500: "Sorry, there is a problem with the service",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def problem(text: str) -> dict[str, str]:
    """One entry of the error summary (plain text: the error page has no fields to link to)."""
    return {"text": text}


def respond(request: Request, status: int, message: str, detail: Any, problems: list[dict[str, str]]) -> Response:
    if wants_json(request):
        body = {"error": {"status": status, "message": message, "detail": jsonable_encoder(detail)}}
        return JSONResponse(body, status_code=status)
    templates = request.app.state.templates
    context = {"status": status, "title": TITLES.get(status, message), "message": message, "problems": problems}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    problems = [problem(f"{_where(e)}: {e.get('msg', 'is not valid')}") for e in errors]
    return respond(request, 422, "Some of the values given are not valid.", errors, problems)


async def on_user_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UserError)
    status = getattr(exc, "status", None) or (
        404 if isinstance(exc, NotFoundError) else 422 if isinstance(exc, UnknownChoiceError) else 400)
    detail: dict[str, Any] = {"hint": exc.hint}
    if isinstance(exc, UnknownChoiceError):
        detail |= {"field": exc.field, "value": exc.value, "choices": exc.choices}
    problems = [problem(exc.message + (f" {exc.hint}" if exc.hint else ""))]
    return respond(request, status, exc.message, detail, problems)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "There is nothing at this address." if exc.status_code == 404 else str(exc.detail)
    hint = "Check the address, or start from the place overview." if exc.status_code == 404 else ""
    response = respond(request, exc.status_code, message, None, [problem(f"{message} {hint}".strip())])
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: say so plainly; the traceback goes to the server log, never to the user."""
    message = "Something went wrong on our side. Try again later; if it keeps happening, tell the data team."
    return respond(request, 500, message, None, [problem(message)])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(UserError, on_user_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)


def _where(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
    return " ".join(location) or "The request"

"""Declaring a purpose: every read of partner data says why, and sees only what that purpose allows.

A person chooses their purpose on ``/purpose``; it is kept in their session and shown in the
header of every page, where they can change it. A page that reads partner data before a purpose
is chosen sends them to choose one and then back. A machine client declares its purpose on each
request, in the ``purpose`` query parameter or the ``Wholeplace-Purpose`` header. The scope
dependencies below turn the user and the purpose into a ``ReadScope`` (``governance.scope``).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from wholeplace.errors import UserError
from wholeplace.governance.access import AccessLevel, datasets_readable
from wholeplace.governance.purposes import PURPOSES, purpose_problem
from wholeplace.governance.scope import ReadScope, read_scope
from wholeplace.web.auth import PrincipalDep, current_principal, safe_next
from wholeplace.web.dependencies import StoresDep, TemplatesDep

router = APIRouter(include_in_schema=False)

SESSION_KEY = "purpose"
HEADER = "Wholeplace-Purpose"


class PurposeNeeded(Exception):
    """A page read partner data before its user chose a purpose."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def session_purpose(request: Request) -> str | None:
    return (request.scope.get("session") or {}).get(SESSION_KEY)


def page_scope(request: Request) -> ReadScope:
    """The reader's scope for a page: their session's purpose, or off to choose one."""
    purpose = session_purpose(request)
    if purpose is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise PurposeNeeded(target)
    return read_scope(stores=request.app.state.stores, principal=current_principal(request), purpose=purpose)


def api_scope(
    request: Request,
    purpose: Annotated[str | None, Query(max_length=100, description=(
        "Why you are reading: a purpose code (see `/api/v1/purposes`); or send the `Wholeplace-Purpose` header. "
        "Only data an agreement shares for this purpose is returned."))] = None,
) -> ReadScope:
    """The reader's scope for an API request: the purpose declared on the request (or the session's)."""
    declared = purpose or request.headers.get(HEADER) or session_purpose(request)
    if not declared:
        raise UserError("Declare the purpose of this request: every read of partner data says why.",
                        hint=f"Add ?purpose=CODE or the header '{HEADER}: CODE'; the codes are "
                             f"{', '.join(PURPOSES)}.")
    return read_scope(stores=request.app.state.stores, principal=current_principal(request), purpose=declared)


PageScopeDep = Annotated[ReadScope, Depends(page_scope)]
ApiScopeDep = Annotated[ReadScope, Depends(api_scope)]


def purpose_choices(stores: Any, principal: Any) -> list[dict[str, Any]]:
    """Every purpose, with how many datasets it opens to this user (aggregate, and as records)."""
    choices = []
    for code, purpose in PURPOSES.items():
        readable = datasets_readable(stores=stores, principal=principal, purpose=code)
        records = datasets_readable(stores=stores, principal=principal, purpose=code, level=AccessLevel.PSEUDONYMISED)
        choices.append({"code": code, "title": purpose.title, "description": purpose.description,
                        "datasets": len(readable), "records": len(records)})
    return choices


@router.get("/purpose", name="purpose")
def purpose_page(request: Request, stores: StoresDep, templates: TemplatesDep, principal: PrincipalDep,
                 next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    context = {"choices": purpose_choices(stores, principal), "chosen": session_purpose(request),
               "next": safe_next(next), "problems": []}
    return templates.TemplateResponse(request, "purpose.html", context)


@router.post("/purpose", name="choose_purpose")
def choose_purpose(request: Request, stores: StoresDep, templates: TemplatesDep, principal: PrincipalDep,
                   purpose: Annotated[str, Form(max_length=100)] = "",
                   next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    if problem := purpose_problem(purpose):
        context = {"choices": purpose_choices(stores, principal), "chosen": None, "next": safe_next(next),
                   "problems": [{"text": "Choose the purpose of your work" if not purpose else problem,
                                 "href": "#purpose"}]}
        return templates.TemplateResponse(request, "purpose.html", context, status_code=422)
    request.scope["session"][SESSION_KEY] = purpose
    return RedirectResponse(safe_next(next), status_code=303)


def choose_purpose_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PurposeNeeded)
    return RedirectResponse(f"/purpose?next={quote(exc.target, safe='')}", status_code=303)

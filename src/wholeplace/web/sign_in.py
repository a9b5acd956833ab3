"""The sign-in page (local accounts and any identity providers) and signing out.

Signing in replaces the session with a new one (new id, new CSRF token), so an id planted in a
browser beforehand is useless; signing out revokes the session on the server, not just the cookie.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from wholeplace.governance import audit
from wholeplace.governance.users import SignInError, authenticate
from wholeplace.web.auth import CSRF_FIELD, begin_session, ensure_session, safe_next, set_session_cookie
from wholeplace.web.dependencies import TemplatesDep
from wholeplace.web.sessions import COOKIE, revoke_session

router = APIRouter(include_in_schema=False)


def sign_in_context(request: Request, next_path: str, email: str = "", error: str | None = None) -> dict[str, Any]:
    providers = getattr(request.app.state, "oidc_providers", {})
    return {"next": next_path, "email": email, "error": error, "csrf_field": CSRF_FIELD,
            "providers": [{"name": name, "title": p.title} for name, p in providers.items()]}


@router.get("/sign-in", name="sign_in")
def sign_in_page(request: Request, templates: TemplatesDep, next: str | None = None) -> Response:
    session, new = ensure_session(request)
    response = templates.TemplateResponse(request, "sign_in.html", sign_in_context(request, safe_next(next)))
    if new:
        set_session_cookie(request, response, session.id)
    response.headers["Cache-Control"] = "no-store"
    return response


def record_sign_in(request: Request, *, actor: str, partner: str | None, method: str, outcome: str) -> None:
    """Every sign-in, and every refused one, goes in the audit log (who, when, how)."""
    audit.record(stores=request.app.state.stores, action=audit.AuditAction.SIGN_IN,
                 actor=(actor.strip() or "(no email given)")[:200], partner=partner,
                 what={"method": method}, outcome=outcome)


@router.post("/sign-in", name="sign_in_submit")
def sign_in(
    request: Request, templates: TemplatesDep,
    email: Annotated[str, Form(max_length=320)] = "", password: Annotated[str, Form(max_length=2048)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        user = authenticate(stores=request.app.state.stores, email=email, password=password)
    except SignInError as exc:
        record_sign_in(request, actor=email, partner=None, method="password", outcome="refused")
        context = sign_in_context(request, safe_next(next), email=email, error=exc.message)
        return templates.TemplateResponse(request, "sign_in.html", context, status_code=400)
    record_sign_in(request, actor=user.email, partner=user.partner, method="password", outcome="allowed")
    session = begin_session(request, user_id=user.id)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, session.id)
    return response


@router.post("/sign-out", name="sign_out")
def sign_out(request: Request) -> Response:
    session = request.state.web_session
    if session is not None:
        revoke_session(stores=request.app.state.stores, session_id=session.id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response

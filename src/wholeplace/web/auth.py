"""Who is asking, and may they: one middleware in front of every route.

Each request is identified once, here, before any route runs: by an API token
(``Authorization: Bearer …``, on ``/api/`` only) or by the session cookie. Everything except
the few public addresses below needs a signed-in user: an anonymous page request is sent to the
sign-in page, an anonymous API request gets a 401 in the API's error shape. Every state-changing
request (POST, PUT, PATCH, DELETE) made with a session must carry the session's CSRF token, in
the ``csrf_token`` form field or the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers``
on the body element); requests authenticated by an API token carry no cookie, so a browser
cannot forge them, and are exempt. Routes then ask for the user and their role through the
dependencies at the end of this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware.base import BaseHTTPMiddleware

from wholeplace.governance.access import Principal, Role
from wholeplace.governance.users import User, get_user, principal, user_for_token
from wholeplace.store import Stores
from wholeplace.web.errors import problem, respond, wants_json
from wholeplace.web.sessions import (
    COOKIE,
    WebSession,
    csrf_matches,
    load_session,
    revoke_session,
    save_session,
    start_session,
)

PUBLIC_PATHS = frozenset({"/health", "/accessibility", "/sign-in", "/public/outcomes"})
# residents' outcome pages and the open Open Referral UK API need no sign-in
PUBLIC_PREFIXES = ("/static/", "/sign-in/", "/public/outcomes/", "/oruk/")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class AuthMiddleware(BaseHTTPMiddleware):
    """Identifies the request, refuses anonymous and cross-site ones, and keeps the session."""

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        stores: Stores = request.app.state.stores
        identify(request, stores)
        refused = refusal(request) or await csrf_refusal(request)
        if refused is not None:
            return refused
        response = await call_next(request)
        session: WebSession | None = request.state.web_session
        if session is not None:
            data = request.scope["session"]
            save_session(stores=stores, session=session, data=data if data != session.data else None)
        return response


def identify(request: Request, stores: Stores) -> None:
    """Set ``request.state.user`` (or None), how it was known, and the session (Starlette's ``request.session``)."""
    request.state.user, request.state.auth, request.state.web_session = None, None, None
    request.scope["session"] = {}
    token = bearer_token(request)
    if token is not None:
        request.state.user = user_for_token(stores=stores, token=token) if wants_json(request) else None
        request.state.auth = "token" if request.state.user is not None else None
        return
    session = load_session(stores=stores, session_id=request.cookies.get(COOKIE, ""))
    if session is None:
        return
    user = get_user(stores=stores, user_id=session.user_id) if session.user_id is not None else None
    if session.user_id is not None and (user is None or not user.active):
        return
    request.state.user, request.state.auth, request.state.web_session = user, "session", session
    request.scope["session"] = dict(session.data)


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def refusal(request: Request) -> Response | None:
    """The response to an anonymous request for anything not public, else None."""
    if request.state.user is not None or is_public(request.url.path):
        return None
    if wants_json(request):
        message = "Sign in first: send an API token as `Authorization: Bearer <token>`."
        response = respond(request, 401, message, {"hint": "Ask an administrator for a token."}, [])
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)


async def csrf_refusal(request: Request) -> Response | None:
    """A 403 for a state-changing request without the session's CSRF token, else None."""
    if request.method not in UNSAFE_METHODS or request.state.auth == "token":
        return None
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        await request.body()  # cached, so the route can read the form again
        try:
            token = (await request.form()).get(CSRF_FIELD)  # type: ignore[assignment]
        except (MultiPartException, StarletteHTTPException) as exc:  # a field over 1 MB or a malformed body
            reason = getattr(exc, "detail", None) or str(exc)
            message = "The form could not be read: a field is too large (at most 1 MB) or the upload is malformed."
            return respond(request, 413, message, {"hint": reason}, [problem(f"{message} {reason}")])
    if csrf_matches(request.state.web_session, token if isinstance(token, str) else None):
        return None
    message = "This form has expired or did not come from this service. Go back, reload the page and try again."
    return respond(request, 403, message, {"hint": "Send the CSRF token of your session."}, [problem(message)])


# -- starting and ending sessions --------------------------------------------------------------

def begin_session(request: Request, *, user_id: int | None, keep: dict[str, Any] | None = None) -> WebSession:
    """Replace the request's session with a new one (new id): at sign-in, so a planted id is worthless.

    The caller sets the cookie on its response with ``set_session_cookie``.
    """
    stores: Stores = request.app.state.stores
    old: WebSession | None = request.state.web_session
    if old is not None:
        revoke_session(stores=stores, session_id=old.id)
    session = start_session(stores=stores, user_id=user_id, data=dict(keep or {}))
    request.state.web_session = session
    request.scope["session"] = dict(session.data)
    return session


def ensure_session(request: Request) -> tuple[WebSession, bool]:
    """The request's session, or a new anonymous one (for the sign-in forms); and whether it is new."""
    session: WebSession | None = request.state.web_session
    return (session, False) if session is not None else (begin_session(request, user_id=None), True)


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    configured = request.app.state.settings.session_secure_cookie
    secure = request.url.scheme == "https" if configured is None else configured
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", secure=secure, path="/")


def csrf_token(request: Request) -> str:
    return str(request.scope.get("session", {}).get("csrf", ""))


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: only a path on this site, never another site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


# -- dependencies ------------------------------------------------------------------------------

def current_user(request: Request) -> User:
    user: User | None = getattr(request.state, "user", None)
    if user is None:  # the middleware refuses these first; this keeps a route safe on its own
        raise HTTPException(401, "Sign in first.")
    return user


def require_role(*roles: Role) -> Callable[[Request], User]:
    """A dependency admitting only users with one of ``roles``."""
    def check(request: Request) -> User:
        user = current_user(request)
        if user.role not in roles:
            names = " or ".join(role.value.replace("_", " ") for role in roles)
            raise HTTPException(403, f"Only an {names} can use this page. You are signed in as {user.role.value}.")
        return user
    return check


def current_principal(request: Request) -> Principal:
    """The signed-in user as the data-access layer takes them (user id, partner, role)."""
    return principal(current_user(request))


CurrentUserDep = Annotated[User, Depends(current_user)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
AdministratorDep = Annotated[User, Depends(require_role(Role.ADMINISTRATOR))]

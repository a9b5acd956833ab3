"""Administrators' pages: the accounts of the partnership (list, add, disable, enable)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from wholeplace.errors import NotFoundError, UserError
from wholeplace.governance import users
from wholeplace.governance.users import Role
from wholeplace.web.auth import AdministratorDep
from wholeplace.web.dependencies import StoresDep, TemplatesDep
from wholeplace.web.sessions import revoke_user_sessions

router = APIRouter(prefix="/admin", include_in_schema=False)


def users_context(stores: StoresDep, **extra: Any) -> dict[str, Any]:
    chosen = extra.get("form", {}).get("role", Role.VIEWER.value)
    roles = [{"value": role.value, "text": role.value.replace("_", " "), "selected": role.value == chosen}
             for role in Role]
    return {"users": users.list_users(stores=stores), "role_items": roles, "form": {}, "error": None,
            "added": None} | extra


@router.get("/users", name="admin_users")
def users_page(request: Request, admin: AdministratorDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    added = request.query_params.get("added")
    return templates.TemplateResponse(request, "admin_users.html", users_context(stores, added=added))


@router.post("/users", name="admin_add_user")
def add_user(
    request: Request, admin: AdministratorDep, stores: StoresDep, templates: TemplatesDep,
    email: Annotated[str, Form(max_length=320)], partner: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=40)], password: Annotated[str, Form(max_length=2048)],
) -> Response:
    try:
        user = users.create_user(stores=stores, email=email, partner=partner, role=role, password=password)
    except UserError as exc:
        context = users_context(stores, form={"email": email, "partner": partner, "role": role},
                                error=f"{exc.message} {exc.hint}".strip())
        return templates.TemplateResponse(request, "admin_users.html", context, status_code=400)
    return RedirectResponse(f"/admin/users?added={quote(user.email)}", status_code=303)


@router.post("/users/{user_id}/{action}", name="admin_set_active")
def set_active(admin: AdministratorDep, stores: StoresDep, user_id: int, action: str) -> Response:
    if action not in ("disable", "enable"):
        raise NotFoundError(f"There is no action {action!r} for an account.", hint="Use disable or enable.")
    user = users.get_user(stores=stores, user_id=user_id)
    if user is None:
        raise NotFoundError(f"There is no account {user_id}.", hint="Go back to the list of users.")
    if user.id == admin.id:
        raise UserError("You cannot disable your own account.", hint="Ask another administrator.")
    users.set_active(stores=stores, email=user.email, active=action == "enable")
    if action == "disable":
        revoke_user_sessions(stores=stores, user_id=user.id)
    return RedirectResponse("/admin/users", status_code=303)

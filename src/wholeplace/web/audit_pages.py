"""The information governance officer's pages: search the audit log, export it, review access.

Open to information governance officers and administrators only. An export is itself a
disclosure, so it is recorded in the log it exports.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from wholeplace.errors import UserError
from wholeplace.governance import audit
from wholeplace.governance.access import Role
from wholeplace.governance.users import User
from wholeplace.web.auth import require_role
from wholeplace.web.dependencies import StoresDep, TemplatesDep

router = APIRouter(prefix="/audit", include_in_schema=False)
GovernanceDep = Annotated[User, Depends(require_role(Role.IG_OFFICER, Role.ADMINISTRATOR))]
PAGE_SIZE = 50
ACTIONS = [action.value for action in audit.AuditAction]


def _filters(actor: str | None, action: str | None, text: str | None) -> dict[str, Any]:
    if action and action not in ACTIONS:
        raise UserError(f"There is no audit action '{action}'.", hint=f"Choose one of: {', '.join(ACTIONS)}.")
    return {"actor": actor or None, "action": action or None, "text": text or None}


ActorQuery = Annotated[str | None, Query(max_length=200)]
ActionQuery = Annotated[str | None, Query(max_length=40)]
TextQuery = Annotated[str | None, Query(max_length=200)]


@router.get("", name="audit_log")
def audit_page(
    request: Request, officer: GovernanceDep, stores: StoresDep, templates: TemplatesDep,
    actor: ActorQuery = None, action: ActionQuery = None, text: TextQuery = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = _filters(actor, action, text)
    entries, total = audit.search(stores=stores, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
    context = {
        "entries": entries, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": {k: v or "" for k, v in filters.items()}, "actions": ACTIONS,
        "verification": audit.verify(stores=stores), "review": audit.access_review(stores=stores),
    }
    return templates.TemplateResponse(request, "audit.html", context)


@router.get("/export.csv", name="audit_export")
def audit_export(
    officer: GovernanceDep, stores: StoresDep,
    actor: ActorQuery = None, action: ActionQuery = None, text: TextQuery = None,
) -> Response:
    filters = _filters(actor, action, text)
    buffer = io.StringIO()
    written = audit.export_csv(stores=stores, path_or_stream=buffer, **filters)
    audit.record(stores=stores, action=audit.AuditAction.DISCLOSURE, actor=officer.email, partner=officer.partner,
                 what={"export": "audit log", "entries": written, "filters": {k: v for k, v in filters.items() if v}})
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})

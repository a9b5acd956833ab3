"""Referrals in the web app: make one from a directory service, follow it on both sides, act on it.

Only practitioners and administrators use these pages, and each sees only referrals their partner made
or received (anyone else gets the same 404 as for a referral that does not exist). The routes are thin:
``referrals.service`` checks, stores, audits and notifies. Actions are forms carrying the session's CSRF
token; an illegal status change answers 409, a missing reason or outcome 422.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from wholeplace.directory.query import get_service
from wholeplace.directory.search import no_room
from wholeplace.errors import NotFoundError
from wholeplace.governance.access import Role
from wholeplace.governance.users import User
from wholeplace.referrals import model
from wholeplace.referrals.model import ReferralDraft, ReferralProblems, next_steps
from wholeplace.referrals.notify import mark_read, notifications_for, unread_count
from wholeplace.referrals.service import birth_date, change_status, list_referrals, make_referral, view_referral
from wholeplace.web.auth import require_role
from wholeplace.web.dependencies import StoresDep, TemplatesDep

router = APIRouter(prefix="/referrals", include_in_schema=False)
ReferrerDep = Annotated[User, Depends(require_role(Role.PRACTITIONER, Role.ADMINISTRATOR))]
ReferralId = Annotated[str, Path(max_length=40)]
Text = Annotated[str, Form(max_length=4000)]
FIELDS = ("service_id", "person_name", "person_date_of_birth", "person_contact", "needs", "notes", "urgency",
          "consent", "consent_by", "consent_how", "consent_at", "basis_without_consent", "basis_reason")
TAG_COLOURS = {"new": "blue", "opened": "light-blue", "accepted": "green", "declined": "red",
               "in_progress": "turquoise", "completed": "green", "not_engaged": "orange", "cancelled": "grey",
               "expired": "grey"}
REFERRING = (Role.PRACTITIONER, Role.ADMINISTRATOR)


def install_nav_count(app: FastAPI) -> None:
    """Let every page's navigation show a practitioner's unread referral notifications."""
    stores = app.state.stores

    def unread(user: User | None) -> int:
        return unread_count(stores=stores, email=user.email) if user and user.role in REFERRING else 0

    app.state.templates.env.globals["referral_unread"] = unread


def _common(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    return {"email_on": bool(settings.smtp_host), "labels": {s.value: s.label for s in model.Status},
            "tag_colours": TAG_COLOURS, "urgencies": model.URGENCIES, "consent_labels": model.CONSENT,
            "consent_how": model.CONSENT_HOW, "bases": model.BASIS_WITHOUT_CONSENT}


@router.get("", name="referrals")
def referrals_page(request: Request, user: ReferrerDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    lists = list_referrals(stores=stores, user=user)
    context = _common(request) | lists | {"unread": unread_count(stores=stores, email=user.email)}
    return templates.TemplateResponse(request, "referrals_list.html", context)


@router.get("/notifications", name="referral_notifications")
def notifications_page(request: Request, user: ReferrerDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    rows = notifications_for(stores=stores, email=user.email)
    return templates.TemplateResponse(request, "referrals_notifications.html", _common(request) | {"rows": rows})


@router.post("/notifications/read", name="referral_notifications_read")
def notifications_read(user: ReferrerDep, stores: StoresDep) -> Response:
    mark_read(stores=stores, email=user.email)
    return RedirectResponse("/referrals/notifications", status_code=303)


@router.get("/new", name="referral_new")
def new_page(request: Request, user: ReferrerDep, stores: StoresDep, templates: TemplatesDep,
             service: Annotated[str, Query(max_length=200)] = "") -> Response:
    values = dict.fromkeys(FIELDS, "") | {"service_id": service, "urgency": "routine"}
    return _form(request, templates, stores, values, {})


@router.post("/new", name="referral_make")
async def make_page(request: Request, user: ReferrerDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, ""))[:4000] for name in FIELDS}
    try:
        made = make_referral(stores=stores, settings=request.app.state.settings, user=user, draft=_draft(values))
    except ReferralProblems as exc:
        return _form(request, templates, stores, values, exc.problems)
    return RedirectResponse(f"/referrals/{made.row.id}?made=1", status_code=303)


def _draft(values: dict[str, str]) -> ReferralDraft:
    consent_at = None
    if values["consent_at"].strip():
        try:
            consent_at = datetime.fromisoformat(values["consent_at"].strip()).replace(tzinfo=UTC)
        except ValueError:
            raise ReferralProblems({"consent_at": "Enter the date consent was given as YYYY-MM-DD"}) from None
    return ReferralDraft(
        service_id=values["service_id"], person_name=values["person_name"],
        person_date_of_birth=birth_date(values["person_date_of_birth"]), person_contact=values["person_contact"],
        needs=values["needs"], notes=values["notes"], urgency=values["urgency"], consent=values["consent"],
        consent_by=values["consent_by"], consent_how=values["consent_how"], consent_at=consent_at,
        basis_without_consent=values["basis_without_consent"], basis_reason=values["basis_reason"])


def _form(request: Request, templates: TemplatesDep, stores: StoresDep, values: dict[str, str],
          problems: dict[str, str]) -> Response:
    service = _service(stores, values["service_id"])
    if service is None and values["service_id"]:
        problems = problems | {"service_id": "There is no service with this id in the directory"}
    summary = [{"text": text, "href": f"#{name}"} for name, text in problems.items()]
    context = _common(request) | {"values": values, "problems": problems, "summary": summary, "service": service,
                                  "full": no_room(service) if service else None}
    return templates.TemplateResponse(request, "referrals_new.html", context, status_code=422 if problems else 200)


def _service(stores: StoresDep, service_id: str) -> dict[str, Any] | None:
    if not service_id:
        return None
    try:
        return get_service(stores=stores, service_id=service_id)
    except NotFoundError:
        return None


@router.get("/{referral_id}", name="referral")
def referral_page(request: Request, referral_id: ReferralId, user: ReferrerDep, stores: StoresDep,
                  templates: TemplatesDep, made: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    referral = view_referral(stores=stores, settings=request.app.state.settings, user=user, referral_id=referral_id)
    context = _common(request) | {"referral": referral, "r": referral.row, "made": bool(made),
                                  "steps": next_steps(referral.status, referral.sides),
                                  "needs_note": {s.value: w for s, w in model.NEEDS_NOTE.items()}}
    return templates.TemplateResponse(request, "referrals_detail.html", context)


@router.post("/{referral_id}/status", name="referral_status")
def status_page(request: Request, referral_id: ReferralId, user: ReferrerDep, stores: StoresDep,
                status: Annotated[str, Form(max_length=40)] = "", note: Text = "") -> Response:
    change_status(stores=stores, settings=request.app.state.settings, user=user, referral_id=referral_id,
                  status=status, note=note)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)

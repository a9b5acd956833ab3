"""The community support directory's pages under ``/directory``: practitioner search (phone first), a
service's page, reporting a problem with a record, and joint-working pathways with their edit form.

Every signed-in role may use the search, service pages and pathways: the directory is public-service
information and holds no partner event data, so no declared purpose is asked for. Editors of the
directory (practitioners and administrators) see reported problems and edit pathways; every edit is a
new version, audited as an alteration. Routes are thin: ``directory.search``, ``directory.pathways``
and ``directory.problems`` do the work.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from wholeplace.directory import pathways as pathway_store
from wholeplace.directory import problems as problem_store
from wholeplace.directory import search
from wholeplace.directory.opening import LONDON, open_state
from wholeplace.directory.query import get_service
from wholeplace.errors import UserError
from wholeplace.governance.access import Role
from wholeplace.governance.users import User
from wholeplace.web.auth import CurrentUserDep, require_role
from wholeplace.web.dependencies import StoresDep, TemplatesDep

router = APIRouter(prefix="/directory", include_in_schema=False)
EDITORS = (Role.PRACTITIONER, Role.ADMINISTRATOR)
EditorDep = Annotated[User, Depends(require_role(*EDITORS))]
ServiceId = Annotated[str, Path(max_length=200)]
Situation = Annotated[str, Path(max_length=100)]
Choice = Annotated[str | None, Query(max_length=200)]
NOTE_LIMIT = 500


def long_date(value: date | datetime | None) -> str:
    return "not recorded" if value is None else f"{value.day} {value:%B %Y}"


def distance_text(metres: float | None) -> str:
    if metres is None:
        return ""
    return f"{round(metres / 10) * 10:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


@router.get("", name="directory")
def search_page(request: Request, user: CurrentUserDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    params = dict(request.query_params)
    problems, found = [], None
    try:
        form = search.parse_form(params)
        searched = any(params.get(k) for k in ("need", "words", "postcode", "latitude"))
        found = search.search_services(stores=stores, form=form) if searched else None
    except UserError as exc:
        form, problems = search.SearchForm(), [_problem(_field_of(exc.message), f"{exc.message} {exc.hint or ''}")]
    context = {"needs": search.load_needs(), "values": params, "form": form, "found": found, "problems": problems,
               "modes": search.MODES, "choices": search.form_choices(stores=stores), "distance_text": distance_text,
               "long_date": long_date}
    return templates.TemplateResponse(request, "directory_search.html", context,
                                      status_code=400 if problems else 200)


def _field_of(message: str) -> str:
    for field, word in (("postcode", "postcode"), ("age", "Age"), ("distance_km", "Distance"),
                        ("need", "need"), ("mode", "delivered")):
        if word in message:
            return field
    return "postcode"


@router.get("/services/{service_id}", name="directory_service")
def service_page(request: Request, service_id: ServiceId, user: CurrentUserDep, stores: StoresDep,
                 templates: TemplatesDep, reported: Annotated[int | None, Query(ge=1)] = None) -> Response:
    service = get_service(stores=stores, service_id=service_id)
    return templates.TemplateResponse(request, "directory_service.html", _service_context(service) | {
        "reported": reported})


def _service_context(service: dict[str, Any]) -> dict[str, Any]:
    checked = str(service.get("assured_date") or "")[:10]
    return {"service": service, "state": open_state(service, datetime.now(LONDON)),
            "modes": [search.MODES[m] for m in search.service_modes(service)], "free": search.is_free(service),
            "accepts_referrals": search.accepts_referrals(service), "languages": search.languages(service),
            "accessibility": search.accessibility(service),
            "checked": long_date(date.fromisoformat(checked)) if checked else "not recorded",
            "schedules": [s for s in service.get("schedules", []) if s.get("description") or s.get("byday")],
            "venues": [at.get("location") or {} for at in service.get("service_at_locations", [])]}


@router.get("/services/{service_id}/problems", name="directory_problem_form")
def problem_form(request: Request, service_id: ServiceId, user: CurrentUserDep, stores: StoresDep,
                 templates: TemplatesDep) -> Response:
    service = get_service(stores=stores, service_id=service_id)
    return _problem_page(request, templates, service, [], {})


def _problem_page(request: Request, templates: TemplatesDep, service: dict[str, Any],
                  problems: list[dict[str, str]], values: dict[str, str]) -> Response:
    return templates.TemplateResponse(request, "directory_problem_form.html", {
        "service": service, "kinds": problem_store.KINDS, "problems": problems, "values": values,
        "limit": problem_store.DETAIL_LIMIT}, status_code=422 if problems else 200)


@router.post("/services/{service_id}/problems", name="directory_problem_report")
def report_problem(request: Request, service_id: ServiceId, user: CurrentUserDep, stores: StoresDep,
                   templates: TemplatesDep, kind: Annotated[str, Form(max_length=20)] = "",
                   detail: Annotated[str, Form(max_length=5000)] = "") -> Response:
    service = get_service(stores=stores, service_id=service_id)
    problems = []
    if kind not in problem_store.KINDS:
        problems.append(_problem("kind", "Select what is wrong"))
    if not detail.strip():
        problems.append(_problem("detail", "Say what is wrong and, if you know it, what is right"))
    elif len(detail) > problem_store.DETAIL_LIMIT:
        problems.append(_problem("detail", f"Say what is wrong in {problem_store.DETAIL_LIMIT:,} characters or "
                                           "fewer"))
    if problems:
        return _problem_page(request, templates, service, problems, {"kind": kind, "detail": detail})
    number = problem_store.report_problem(stores=stores, service_id=service_id, service_name=str(service["name"]),
                                          kind=kind, detail=detail.strip(), actor=user.email, partner=user.partner)
    return RedirectResponse(f"/directory/services/{quote(service_id)}?reported={number}", status_code=303)


@router.get("/problems", name="directory_problems")
def problems_page(request: Request, editor: EditorDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "directory_problems.html", {
        "reports": problem_store.list_problems(stores=stores), "kinds": problem_store.KINDS})


@router.get("/pathways", name="directory_pathways")
def pathways_page(request: Request, user: CurrentUserDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    situations: dict[str, dict[str, Any]] = {}
    for pathway in pathway_store.list_pathways(stores=stores):
        entry = situations.setdefault(pathway["situation"], {"title": pathway["title"], "lead": pathway["lead"],
                                                             "localities": []})
        if pathway["locality"] not in entry["localities"]:
            entry["localities"].append(pathway["locality"])
    return templates.TemplateResponse(request, "directory_pathways.html", {
        "situations": situations, "band": pathway_store.time_band_at(datetime.now(LONDON)),
        "bands": pathway_store.TIME_BANDS})


@router.get("/pathways/{situation}", name="directory_pathway")
def pathway_page(request: Request, situation: Situation, user: CurrentUserDep, stores: StoresDep,
                 templates: TemplatesDep, locality: Choice = None, time: Choice = None,
                 saved: Annotated[int | None, Query(ge=1)] = None) -> Response:
    pathway = pathway_store.find_pathway(stores=stores, situation=situation, locality=locality or None,
                                         time_band=time or None)
    return templates.TemplateResponse(request, "directory_pathway.html", _pathway_context(stores, pathway) | {
        "can_edit": user.role in EDITORS, "saved": saved})


def _pathway_context(stores: StoresDep, pathway: dict[str, Any]) -> dict[str, Any]:
    others = [p for p in pathway_store.list_pathways(stores=stores) if p["situation"] == pathway["situation"]]
    names: dict[str, dict[str, Any] | None] = {}
    for step in pathway["steps"]:
        try:
            names[step["service_id"]] = get_service(stores=stores, service_id=step["service_id"])
        except UserError:
            names[step["service_id"]] = None
    return {"pathway": pathway, "services": names, "bands": pathway_store.TIME_BANDS,
            "localities": sorted({p["locality"] for p in others}), "long_date": long_date,
            "versions": pathway_store.pathway_versions(stores=stores, pathway_id=pathway["id"])}


@router.get("/pathways/{situation}/edit", name="directory_pathway_edit")
def pathway_form(request: Request, situation: Situation, editor: EditorDep, stores: StoresDep,
                 templates: TemplatesDep, locality: Choice = None, time: Choice = None) -> Response:
    pathway = pathway_store.find_pathway(stores=stores, situation=situation, locality=locality or None,
                                         time_band=time or None)
    values = {"lead": pathway["lead"], "questions": "\n".join(pathway["threshold_questions"]),
              "steps": pathway_store.steps_text(pathway), "note": ""}
    return _pathway_form(request, templates, pathway, values, [])


def _pathway_form(request: Request, templates: TemplatesDep, pathway: dict[str, Any], values: dict[str, str],
                  problems: list[dict[str, str]]) -> Response:
    return templates.TemplateResponse(request, "directory_pathway_form.html", {
        "pathway": pathway, "values": values, "problems": problems, "bands": pathway_store.TIME_BANDS,
        "how": pathway_store.HOW}, status_code=422 if problems else 200)


@router.post("/pathways/{situation}/edit", name="directory_pathway_save")
def save_pathway(request: Request, situation: Situation, editor: EditorDep, stores: StoresDep,
                 templates: TemplatesDep, locality: Annotated[str, Form(max_length=200)] = "",
                 time: Annotated[str, Form(max_length=20)] = "", lead: Annotated[str, Form(max_length=500)] = "",
                 questions: Annotated[str, Form(max_length=5000)] = "",
                 steps: Annotated[str, Form(max_length=10000)] = "",
                 note: Annotated[str, Form(max_length=NOTE_LIMIT)] = "") -> Response:
    pathway = pathway_store.find_pathway(stores=stores, situation=situation, locality=locality or None,
                                         time_band=time or None)
    changed, found = pathway_store.edited(pathway, lead=lead, questions=questions, steps=steps)
    problems = [_problem(p.split(":")[0].split(",")[0], p[0].upper() + p[1:]) for p in found]
    if not note.strip():
        problems.append(_problem("note", "Say what changed and why"))
    unknown = [s["service_id"] for s in changed["steps"] if not _known(stores, s["service_id"])]
    problems += [_problem("steps", f"Steps: no service has the id '{u}'; copy the id from the service's page")
                 for u in unknown]
    if problems:
        values = {"lead": lead, "questions": questions, "steps": steps, "note": note}
        return _pathway_form(request, templates, pathway, values, problems)
    version = pathway_store.save_pathway(stores=stores, pathway=changed, actor=editor.email, note=note.strip(),
                                         partner=editor.partner)
    target = (f"/directory/pathways/{quote(situation)}?locality={quote(pathway['locality'])}"
              f"&time={pathway['time_band']}&saved={version or pathway['version']}")
    return RedirectResponse(target, status_code=303)


def _known(stores: StoresDep, service_id: str) -> bool:
    if not service_id:
        return True  # a step may name no service (for example "call 999")
    try:
        get_service(stores=stores, service_id=service_id)
    except UserError:
        return False
    return True

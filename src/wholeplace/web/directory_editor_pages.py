"""Keeping the directory right, under ``/directory``: likely duplicate organisations and merging them, the
approval queue for edits that providers propose, review reminders, and the form a provider proposes an edit on.

Anyone signed in may propose an edit to a service's own fields, as anyone may report a problem: every user
belongs to a partner, the providers among them know their own services best, and nothing changes until an
editor approves it. Editors (practitioners and administrators, as for problems and pathways) merge duplicates,
decide proposals and read the reminders. Routes are thin: ``directory.duplicates`` and ``directory.freshness``
do the work; the pages only check the form and say what happened.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from wholeplace.directory import duplicates, freshness
from wholeplace.directory.hsds_io import stored_records
from wholeplace.directory.model import STATUSES
from wholeplace.directory.query import get_service
from wholeplace.errors import NotFoundError, UserError
from wholeplace.store.stores import Stores
from wholeplace.web.auth import CurrentUserDep
from wholeplace.web.dependencies import StoresDep, TemplatesDep
from wholeplace.web.directory_pages import NOTE_LIMIT, EditorDep, ServiceId, long_date

router = APIRouter(prefix="/directory", include_in_schema=False)
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
RecordId = Annotated[str, Form(max_length=200)]
MERGED = "directory_merged"  # the session key of the banner shown once after a merge
FIELD_LIMIT = 5000
REASON_LIMIT = 1000
AGES = ("minimum_age", "maximum_age")
LONG_FIELDS = ("description", "eligibility_description", "application_process")
LABELS = {"name": "Name", "alternate_name": "Other name", "description": "Description", "url": "Web address",
          "email": "Email address", "status": "Status", "alert": "Alert, for example a closure",
          "fees_description": "Fees", "eligibility_description": "Who it is for",
          "application_process": "How to apply or be referred", "wait_time": "Waiting time",
          "accreditations": "Accreditations", "minimum_age": "Minimum age", "maximum_age": "Maximum age"}


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _error_status(exc: UserError) -> int:
    return 404 if isinstance(exc, NotFoundError) else 422


def shown(value: Any) -> str:
    """A field's value as a form or a page shows it: nothing for none, 16 for 16.0."""
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def checked_text(value: str | None) -> str:
    try:
        return long_date(date.fromisoformat(value[:10])) if value else "Never"
    except ValueError:
        return value or "Never"


# -- likely duplicates and merging -------------------------------------------------------------

@router.get("/duplicates", name="directory_duplicates")
def duplicates_page(request: Request, editor: EditorDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    return _duplicates_page(request, templates, stores, merged=request.session.pop(MERGED, None))


def _duplicates_page(request: Request, templates: TemplatesDep, stores: Stores, *, merged: str | None = None,
                     error: str = "", failed: tuple[str, str] = ("", ""), status: int = 200) -> Response:
    """The pairs and past merges; ``error`` is shown against the ``failed`` pair when it is still listed."""
    pairs = duplicates.find_duplicates(stores=stores)
    index = next((i for i, p in enumerate(pairs, 1) if (p.first_id, p.second_id) == failed), None)
    problems = [{"text": error, "href": f"#keep-{index}" if index else "#duplicates"}] if error else []
    return templates.TemplateResponse(request, "directory_duplicates.html", {
        "pairs": pairs, "merges": duplicates.merges(stores=stores)[::-1], "names": _organization_names(stores),
        "merged": merged, "problems": problems, "failed_index": index}, status_code=status)


def _organization_names(stores: Stores) -> dict[str, str]:
    return {str(r["id"]): str(r.get("name") or r["id"]) for r in stored_records(stores=stores, kind="organization")}


@router.post("/duplicates", name="directory_merge")
def merge(request: Request, editor: EditorDep, stores: StoresDep, templates: TemplatesDep,
          first_id: RecordId = "", second_id: RecordId = "", keep: RecordId = "") -> Response:
    if not keep or keep not in (first_id, second_id):
        return _duplicates_page(request, templates, stores, error="Choose which organisation to keep",
                                failed=(first_id, second_id), status=422)
    drop = second_id if keep == first_id else first_id
    names = _organization_names(stores)
    try:
        moved = duplicates.merge_organizations(stores=stores, keep_id=keep, drop_id=drop, by=editor.email)
    except UserError as exc:
        again = " It may have been merged already: the list below is up to date." if isinstance(
            exc, NotFoundError) else ""
        return _duplicates_page(request, templates, stores, error=exc.message + again,
                                failed=(first_id, second_id), status=_error_status(exc))
    kept, dropped = names.get(keep, keep), names.get(drop, drop)
    request.session[MERGED] = (f"{dropped} is merged into {kept}: {moved} record{'' if moved == 1 else 's'} "
                               f"(services, locations and identifiers) moved to {kept}.")
    return RedirectResponse("/directory/duplicates", status_code=303)


# -- proposing an edit (providers) ---------------------------------------------------------------

async def proposed_fields(request: Request) -> dict[str, str]:
    """The editable fields and the note as the form sent them (line endings as stored)."""
    form = await request.form()
    return {name: value.replace("\r\n", "\n").strip() for name in (*freshness.EDITABLE, "note")
            if isinstance(value := form.get(name), str)}


ProposedDep = Annotated[dict[str, str], Depends(proposed_fields)]


@router.get("/services/{service_id}/propose", name="directory_proposal_form")
def proposal_form(request: Request, service_id: ServiceId, user: CurrentUserDep, stores: StoresDep,
                  templates: TemplatesDep, sent: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    service = get_service(stores=stores, service_id=service_id)
    mine = [p for p in freshness.list_proposals(stores=stores, status=None) if sent and p.number == sent
            and p.service_id == service_id and p.proposed_by == user.email]
    return _proposal_form(request, templates, service, _current(service), [], sent=mine[0] if mine else None)


def _current(service: dict[str, Any]) -> dict[str, str]:
    return {name: shown(service.get(name)) for name in freshness.EDITABLE} | {"note": ""}


def _proposal_form(request: Request, templates: TemplatesDep, service: dict[str, Any], values: dict[str, str],
                   problems: list[dict[str, str]], sent: freshness.Proposal | None = None) -> Response:
    return templates.TemplateResponse(request, "directory_proposal_form.html", {
        "service": service, "values": values, "problems": problems, "sent": sent, "labels": LABELS,
        "fields": list(freshness.EDITABLE), "long_fields": LONG_FIELDS, "statuses": STATUSES,
        "note_limit": NOTE_LIMIT, "shown": shown}, status_code=422 if problems else 200)


@router.post("/services/{service_id}/propose", name="directory_proposal_send")
def send_proposal(request: Request, service_id: ServiceId, user: CurrentUserDep, stores: StoresDep,
                  templates: TemplatesDep, values: ProposedDep) -> Response:
    service = get_service(stores=stores, service_id=service_id)
    changes = {name: value for name, value in values.items()
               if name in freshness.EDITABLE and _differs(name, value, service.get(name))}
    problems = [p for name, value in changes.items() if (p := _field_problem(name, value))]
    if len(values.get("note", "")) > NOTE_LIMIT:
        problems.append(_problem("note", f"Say why in {NOTE_LIMIT} characters or fewer"))
    if not changes:
        problems.append(_problem("name", "Change at least one field: nothing differs from the directory now"))
    if not problems:
        try:
            proposal = freshness.propose_change(stores=stores, service_id=service_id, changes=changes,
                                                by=user.email, note=values.get("note", ""))
        except UserError as exc:
            problems.append(_problem("name", exc.message))
        else:
            return RedirectResponse(f"/directory/services/{quote(service_id)}/propose?sent={proposal.number}",
                                    status_code=303)
    return _proposal_form(request, templates, service, _current(service) | values, problems)


def _differs(name: str, value: str, current: Any) -> bool:
    if name in AGES and value:
        try:
            return current is None or float(value) != float(current)
        except ValueError:
            return True
    return value != shown(current).replace("\r\n", "\n").strip()


def _field_problem(name: str, value: str) -> dict[str, str] | None:
    label = LABELS.get(name, name)
    if name == "name" and not value:
        return _problem(name, "Enter the service's name")
    if name == "status" and value not in STATUSES:
        return _problem(name, "Select whether the service is active, inactive, defunct or temporarily closed")
    if name in AGES and value and not _whole_age(value):
        return _problem(name, f"{label} must be a whole number of years from 0 to 120, like 16")
    if len(value) > FIELD_LIMIT:
        return _problem(name, f"{label} must be {FIELD_LIMIT:,} characters or fewer")
    return None


def _whole_age(value: str) -> bool:
    try:
        return float(value).is_integer() and 0 <= float(value) <= 120
    except ValueError:
        return False


# -- the approval queue (editors) --------------------------------------------------------------

@router.get("/proposals", name="directory_proposals")
def proposals_page(request: Request, editor: EditorDep, stores: StoresDep, templates: TemplatesDep,
                   status: Annotated[str, Query(max_length=20)] = freshness.PENDING,
                   approved: Annotated[int | None, Query(ge=1)] = None,
                   rejected: Annotated[int | None, Query(ge=1)] = None) -> Response:
    decided = [p for p in freshness.list_proposals(stores=stores, status=None) if p.number in (approved, rejected)]
    return _proposals_page(request, templates, stores, status, decided=decided[0] if decided else None)


def _proposals_page(request: Request, templates: TemplatesDep, stores: Stores, status: str, *,
                    decided: freshness.Proposal | None = None, problems: list[dict[str, str]] | None = None,
                    values: dict[str, str] | None = None, code: int = 200) -> Response:
    proposals = freshness.list_proposals(stores=stores, status=status)
    return templates.TemplateResponse(request, "directory_proposals.html", {
        "proposals": [(p, _comparison(stores, p)) for p in proposals], "status": status, "decided": decided,
        "statuses": (freshness.PENDING, freshness.APPROVED, freshness.REJECTED), "problems": problems or [],
        "values": values or {}, "reason_limit": REASON_LIMIT}, status_code=code)


def _comparison(stores: Stores, proposal: freshness.Proposal) -> list[dict[str, str]]:
    """Each proposed field with its value in the directory now and the value proposed."""
    try:
        service = get_service(stores=stores, service_id=proposal.service_id)
    except NotFoundError:
        service = {}
    return [{"label": LABELS.get(name, name), "now": shown(service.get(name)), "proposed": shown(value)}
            for name, value in proposal.changes.items()]


@router.post("/proposals/{number}/approve", name="directory_proposal_approve")
def approve(request: Request, number: Number, editor: EditorDep, stores: StoresDep,
            templates: TemplatesDep) -> Response:
    try:
        freshness.approve_proposal(stores=stores, number=number, by=editor.email)
    except UserError as exc:
        return _proposals_page(request, templates, stores, freshness.PENDING, code=_error_status(exc),
                               problems=[{"text": exc.message, "href": "#proposals"}])
    return RedirectResponse(f"/directory/proposals?approved={number}", status_code=303)


@router.post("/proposals/{number}/reject", name="directory_proposal_reject")
def reject(request: Request, number: Number, editor: EditorDep, stores: StoresDep, templates: TemplatesDep,
           reason: Annotated[str, Form(max_length=REASON_LIMIT * 2)] = "") -> Response:
    field = f"reason-{number}"
    if not reason.strip() or len(reason) > REASON_LIMIT:
        text = ("Give a reason for rejecting this proposal: the provider can see it" if not reason.strip() else
                f"Give the reason in {REASON_LIMIT:,} characters or fewer")
        return _proposals_page(request, templates, stores, freshness.PENDING, code=422,
                               problems=[_problem(field, text)], values={field: reason})
    try:
        freshness.reject_proposal(stores=stores, number=number, by=editor.email, reason=reason)
    except UserError as exc:
        return _proposals_page(request, templates, stores, freshness.PENDING, code=_error_status(exc),
                               problems=[{"text": exc.message, "href": "#proposals"}])
    return RedirectResponse(f"/directory/proposals?rejected={number}", status_code=303)


# -- review reminders (editors) ----------------------------------------------------------------

@router.get("/reviews", name="directory_reviews")
def reviews_page(request: Request, editor: EditorDep, stores: StoresDep, templates: TemplatesDep,
                 days: Annotated[str, Query(max_length=10)] = "") -> Response:
    wanted = int(days) if days.strip().isdigit() else freshness.DEFAULT_REVIEW_DAYS
    problems = [] if not days.strip() or days.strip().isdigit() else [
        _problem("days", "Enter the number of days as a whole number, like 180")]
    return templates.TemplateResponse(request, "directory_reviews.html", {
        "reminders": freshness.review_reminders(stores=stores, days=wanted), "days": wanted,
        "value": days if problems else str(wanted), "problems": problems, "checked_text": checked_text},
        status_code=400 if problems else 200)

"""Data sharing agreements in the web app: read them, and (information governance officers) edit them.

Every signed-in user can read every agreement, so staff know which agreements govern their
data. Only information governance officers add agreements, save new versions (the YAML in a
text box, with a note saying what changed and why) and change an agreement's status. The
routes are thin: the registry checks and stores every version and writes it to the audit log.
An uploaded file is read in memory only; its name is never used as a path.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from wholeplace.errors import NotFoundError
from wholeplace.governance import registry
from wholeplace.governance.access import Role
from wholeplace.governance.agreements import Agreement, AgreementError, AgreementStatus, dump_agreement
from wholeplace.governance.gateways import GATEWAYS
from wholeplace.governance.purposes import PURPOSES
from wholeplace.governance.registry import StoredAgreement
from wholeplace.governance.users import User
from wholeplace.store import Stores
from wholeplace.web.auth import CurrentUserDep, require_role
from wholeplace.web.dependencies import StoresDep, TemplatesDep

router = APIRouter(prefix="/agreements", include_in_schema=False)
OfficerDep = Annotated[User, Depends(require_role(Role.IG_OFFICER))]
AgreementId = Annotated[str, Path(max_length=200)]
VersionQuery = Annotated[int | None, Query(ge=1, le=1_000_000)]

MAX_BYTES = 1024 * 1024  # 1 MB: a real agreement is a few kilobytes
UPLOAD_SUFFIXES = (".yaml", ".yml", ".json")
NOTE_LIMIT = 2000
STATUS_CHOICES = (AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.TERMINATED)
RESERVED_IDS = frozenset({"new"})  # /agreements/new is the form for adding one
STATUS_COLOURS = {"active": "green", "draft": "grey", "suspended": "yellow", "terminated": "red"}
LAWFUL_BASES = {
    "uk_gdpr_6_1_a": "UK GDPR Art 6(1)(a): consent",
    "uk_gdpr_6_1_b": "UK GDPR Art 6(1)(b): contract",
    "uk_gdpr_6_1_c": "UK GDPR Art 6(1)(c): legal obligation",
    "uk_gdpr_6_1_d": "UK GDPR Art 6(1)(d): vital interests",
    "uk_gdpr_6_1_e": "UK GDPR Art 6(1)(e): public task",
    "uk_gdpr_6_1_f": "UK GDPR Art 6(1)(f): legitimate interests",
    "dpa2018_s35": "DPA 2018 s35: law enforcement",
}


def _problem(field: str, text: str) -> dict[str, str]:
    """One entry of the GOV.UK error summary, linked to the field it concerns."""
    return {"text": text, "href": f"#{field}", "field": field}


def _get(stores: Stores, agreement_id: str, version: int | None = None) -> StoredAgreement:
    try:
        return registry.get_agreement(stores=stores, agreement_id=agreement_id, version=version)
    except NotFoundError as exc:
        raise NotFoundError(exc.message, hint="The list of agreements is at /agreements.") from None


def _names(agreement: Agreement, codes: list[str]) -> list[str]:
    """Party names for partner codes, each once, in order."""
    return list(dict.fromkeys((p.name if (p := agreement.party(code)) else code) for code in codes))


def _purposes(agreement: Agreement) -> list[dict[str, str]]:
    return [{"code": code, "title": PURPOSES[code].title if code in PURPOSES else code} for code in agreement.purposes]


def _summary(stored: StoredAgreement, today: date) -> dict[str, Any]:
    agreement = stored.agreement
    return {"agreement": agreement, "not_in_force": registry.not_in_force_reason(agreement, today),
            "providers": _names(agreement, [d.provider for d in agreement.datasets]),
            "recipients": _names(agreement, agreement.recipients), "purposes": _purposes(agreement)}


def _common(user: User) -> dict[str, Any]:
    return {"can_edit": user.role is Role.IG_OFFICER, "status_colours": STATUS_COLOURS}


@router.get("", name="agreements")
def agreements_page(request: Request, user: CurrentUserDep, stores: StoresDep, templates: TemplatesDep) -> Response:
    today = date.today()
    rows = [_summary(stored, today) for stored in registry.list_agreements(stores=stores)]
    return templates.TemplateResponse(request, "agreements.html", _common(user) | {"rows": rows})


# -- adding an agreement (before /{agreement_id}, so "new" is not read as an id) -----------------

def _form_context(user: User, mode: str, **extra: Any) -> dict[str, Any]:
    return _common(user) | {"mode": mode, "text": "", "note": "", "problems": [], "from_file": False} | extra


def _form(request: Request, templates: TemplatesDep, context: dict[str, Any]) -> Response:
    status = 422 if context["problems"] else 200
    return templates.TemplateResponse(request, "agreement_form.html", context, status_code=status)


@router.get("/new", name="agreement_new")
def new_page(request: Request, officer: OfficerDep, templates: TemplatesDep) -> Response:
    return _form(request, templates, _form_context(officer, "new"))


def _uploaded_text(file: UploadFile) -> tuple[str | None, list[dict[str, str]]]:
    """The file's text, read in memory (its name is only checked, never used as a path)."""
    name = file.filename or ""
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        return None, [_problem("file", "The selected file must be a .yaml, .yml or .json file")]
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return None, [_problem("file", "The selected file must be smaller than 1 MB")]
    if not data.strip():
        return None, [_problem("file", "The selected file is empty")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [_problem("file", f"The selected file must be UTF-8 text; byte {exc.start + 1} is not "
                                       f"({exc.reason})")]


@router.post("/new", name="agreement_add")
def add_agreement(
    request: Request, officer: OfficerDep, stores: StoresDep, templates: TemplatesDep,
    agreement_text: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    has_file = file is not None and bool(file.filename)
    problems = _note_problems(note, required=False, field="upload-note" if has_file else "note")
    if has_file and agreement_text.strip():
        problems.append(_problem("file", "Either paste the agreement or choose a file, not both"))
    elif not has_file and not agreement_text.strip():
        problems.append(_problem("agreement", "Paste the agreement, or choose a file to upload"))
    text: str | None = agreement_text
    if has_file and not problems:
        assert file is not None
        text, file_problems = _uploaded_text(file)
        problems += file_problems
    agreement = _checked(text, problems) if text and not problems else None
    if agreement is not None and agreement.id in RESERVED_IDS:
        problems.append(_problem("agreement", f"id: '{agreement.id}' cannot be an agreement's id in the web app "
                                              "(its address is the form for adding one); choose another id"))
    if agreement is not None and not problems:
        default = f"added from the file {_shown_name(file)}" if has_file else "added in the web app"
        try:
            stored = registry.create_agreement(stores=stores, agreement=agreement, actor=officer.email,
                                               note=note.strip() or default)
        except AgreementError as exc:
            problems += [_problem("agreement", p) for p in exc.problems]
        else:
            return _saved(stored)
    context = _form_context(officer, "new", text=text or "", note=note, problems=problems,
                            from_file=has_file and bool(text))
    return _form(request, templates, context)


def _shown_name(file: UploadFile | None) -> str:
    """The uploaded file's own name (no folders), quoted, for the version's note only."""
    name = ((file.filename if file else "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    return repr(name[:100])


# -- reading one agreement ----------------------------------------------------------------------

def _detail_context(stores: Stores, user: User, agreement_id: str, version: int | None,
                    **extra: Any) -> dict[str, Any]:
    stored = _get(stores, agreement_id, version)
    versions = registry.agreement_versions(stores=stores, agreement_id=agreement_id)
    agreement, latest = stored.agreement, versions[-1].agreement
    superseded = agreement.version != latest.version
    current = agreement.status
    return _common(user) | {
        "stored": stored, "agreement": agreement, "versions": versions, "latest": latest.version,
        "superseded": superseded,
        "not_in_force": (f"superseded by version {latest.version}" if superseded
                         else registry.not_in_force_reason(agreement, date.today())),
        "purposes": _purposes(agreement), "gateway": GATEWAYS.get(agreement.gateway),
        "lawful_bases": LAWFUL_BASES, "recipients": _names(agreement, agreement.recipients),
        "status_choices": [str(s) for s in STATUS_CHOICES if s != current],
        "can_change_status": not superseded and current is not AgreementStatus.TERMINATED,
        "latest_status": str(latest.status),
        "problems": [], "form": {}, "saved": None,
    } | extra


@router.get("/{agreement_id}", name="agreement")
def agreement_page(
    request: Request, user: CurrentUserDep, stores: StoresDep, templates: TemplatesDep, agreement_id: AgreementId,
    version: VersionQuery = None, saved: VersionQuery = None,
) -> Response:
    context = _detail_context(stores, user, agreement_id, version, saved=saved)
    return templates.TemplateResponse(request, "agreement.html", context)


@router.get("/{agreement_id}/agreement.yaml", name="agreement_yaml")
def agreement_yaml(user: CurrentUserDep, stores: StoresDep, agreement_id: AgreementId,
                   version: VersionQuery = None) -> Response:
    agreement = _get(stores, agreement_id, version).agreement
    filename = f"{agreement.id}-v{agreement.version}.yaml"  # the id is a slug: safe in a header
    return Response(dump_agreement(agreement), media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- editing: a new version, and status changes -------------------------------------------------

def _note_problems(note: str, *, required: bool, field: str = "note") -> list[dict[str, str]]:
    if required and not note.strip():
        return [_problem(field, "Enter what changed and why")]
    if len(note) > NOTE_LIMIT:
        return [_problem(field, f"The note must be {NOTE_LIMIT:,} characters or fewer")]
    return []


def _checked(text: str | None, problems: list[dict[str, str]]) -> Agreement | None:
    """The agreement in ``text``, or None with its problems added to ``problems``."""
    if not text or not text.strip():
        problems.append(_problem("agreement", "Enter the agreement as YAML or JSON"))
        return None
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        problems.append(_problem("agreement", "The agreement must be smaller than 1 MB"))
        return None
    try:
        return registry.read_agreement_text(text, source="(the text entered)")
    except AgreementError as exc:
        problems += [_problem("agreement", p) for p in exc.problems]
        return None


def _saved(stored: StoredAgreement) -> Response:
    agreement = stored.agreement
    return RedirectResponse(f"/agreements/{agreement.id}?saved={agreement.version}", status_code=303)


@router.get("/{agreement_id}/edit", name="agreement_edit")
def edit_page(request: Request, officer: OfficerDep, stores: StoresDep, templates: TemplatesDep,
              agreement_id: AgreementId) -> Response:
    agreement = _get(stores, agreement_id).agreement
    context = _form_context(officer, "edit", agreement=agreement, text=dump_agreement(agreement))
    return _form(request, templates, context)


@router.post("/{agreement_id}/edit", name="agreement_save")
def save_version(
    request: Request, officer: OfficerDep, stores: StoresDep, templates: TemplatesDep, agreement_id: AgreementId,
    agreement_text: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
) -> Response:
    current = _get(stores, agreement_id).agreement
    problems: list[dict[str, str]] = []
    agreement = _checked(agreement_text, problems)
    problems += _note_problems(note, required=True)
    if agreement is not None and not problems:
        try:
            stored = registry.revise_agreement(stores=stores, agreement_id=agreement_id, agreement=agreement,
                                               actor=officer.email, note=note.strip())
        except AgreementError as exc:
            problems += [_problem("agreement", p) for p in exc.problems]
        else:
            return _saved(stored)
    context = _form_context(officer, "edit", agreement=current, text=agreement_text, note=note, problems=problems)
    return _form(request, templates, context)


@router.post("/{agreement_id}/status", name="agreement_status")
def change_status(
    request: Request, officer: OfficerDep, stores: StoresDep, templates: TemplatesDep, agreement_id: AgreementId,
    status: Annotated[str, Form(max_length=40)] = "", reason: Annotated[str, Form()] = "",
) -> Response:
    _get(stores, agreement_id)  # a 404 before anything else
    problems = []
    if status not in STATUS_CHOICES:
        problems.append(_problem("status", "Choose the new status: active, suspended or terminated"))
    if not reason.strip():
        problems.append(_problem("reason", "Enter the reason for the change"))
    elif len(reason) > NOTE_LIMIT:
        problems.append(_problem("reason", f"The reason must be {NOTE_LIMIT:,} characters or fewer"))
    if not problems:
        try:
            stored = registry.set_status(stores=stores, agreement_id=agreement_id, status=AgreementStatus(status),
                                         actor=officer.email, note=reason.strip())
        except AgreementError as exc:
            problems += [_problem("status", p) for p in exc.problems]
        else:
            if stored.created:
                return _saved(stored)
            problems.append(_problem("status", f"The agreement is already {status}; nothing was saved"))
    context = _detail_context(stores, officer, agreement_id, None, problems=problems,
                              form={"status": status, "reason": reason})
    return templates.TemplateResponse(request, "agreement.html", context, status_code=422)

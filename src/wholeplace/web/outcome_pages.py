"""Shared outcomes in the web app: the place dashboard, indicator pages, scorecards, the public pages for
residents, the framework editor, the board pack and the exports of indicator values.

Routes are thin: they turn the reader into an ``Audience`` (their scope for the declared purpose, or the public)
and call ``web.outcome_views`` and ``reports.board_pack``, which read only published figures. The public pages
under ``/public/outcomes`` need no sign-in and publish under the strictest preset of the framework's indicators,
never at the finest level. Every download is written to the audit log as a disclosure.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wholeplace.governance.access import Role
from wholeplace.governance.users import User
from wholeplace.outcomes.framework import FrameworkError, framework_versions, import_framework
from wholeplace.outcomes.published import Audience, public_audience, reader_audience
from wholeplace.outcomes.values import PLACE_LEVEL
from wholeplace.reports import board_pack
from wholeplace.web import exports, outcome_views
from wholeplace.web.auth import CurrentUserDep, require_role
from wholeplace.web.dependencies import StoresDep, TemplatesDep
from wholeplace.web.purpose import PageScopeDep

router = APIRouter(include_in_schema=False)
EditorDep = Annotated[User, Depends(require_role(Role.ADMINISTRATOR, Role.IG_OFFICER))]
EDITORS = ("administrator", "ig_officer")
MAX_BYTES = 1024 * 1024
NOTE_LIMIT = 2000

Code = Annotated[str, Path(max_length=64)]
LevelQuery = Annotated[str | None, Query(max_length=60)]
AreaQuery = Annotated[str | None, Query(max_length=64)]
FrameworkQuery = Annotated[str | None, Query(max_length=64)]


def _page(request: Request, templates: TemplatesDep, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _public(stores: StoresDep, framework: str | None) -> Audience:
    stored = outcome_views.framework_code(stores=stores, code=framework)
    return public_audience(stores=stores, framework=stored.framework)


# -- the dashboard, indicators and scorecards (signed in, within the reader's scope) -----------------------


@router.get("/outcomes", name="outcomes")
def dashboard_page(request: Request, stores: StoresDep, templates: TemplatesDep, scope: PageScopeDep,
                   framework: FrameworkQuery = None) -> Response:
    context = outcome_views.dashboard(stores=stores, audience=reader_audience(scope), framework=framework,
                                      level=None, area=None)
    return _page(request, templates, "outcomes_dashboard.html", context | {"base": "/outcomes"})


@router.get("/outcomes/places/{level}/{code}", name="outcomes_place")
def place_page(request: Request, stores: StoresDep, templates: TemplatesDep, scope: PageScopeDep, level: Code,
               code: Code, framework: FrameworkQuery = None) -> Response:
    context = outcome_views.dashboard(stores=stores, audience=reader_audience(scope), framework=framework,
                                      level=level, area=code)
    return _page(request, templates, "outcomes_dashboard.html", context | {"base": "/outcomes"})


@router.get("/outcomes/indicators/{code}", name="outcomes_indicator")
def indicator_page(request: Request, stores: StoresDep, templates: TemplatesDep, scope: PageScopeDep, code: Code,
                   level: LevelQuery = None, area: AreaQuery = None, framework: FrameworkQuery = None) -> Response:
    context = outcome_views.indicator_page(stores=stores, audience=reader_audience(scope), framework=framework,
                                           code=code, level=level or None, area=area or None)
    return _page(request, templates, "outcomes_indicator.html", context | {"base": "/outcomes"})


@router.get("/outcomes/scorecards/{outcome}", name="outcomes_scorecard")
def scorecard_page(request: Request, stores: StoresDep, templates: TemplatesDep, scope: PageScopeDep, outcome: Code,
                   level: LevelQuery = None, area: AreaQuery = None, framework: FrameworkQuery = None) -> Response:
    context = outcome_views.scorecard(stores=stores, audience=reader_audience(scope), framework=framework,
                                      outcome=outcome, level=level or None, area=area or None)
    return _page(request, templates, "outcomes_scorecard.html", context | {"base": "/outcomes"})


# -- the public pages: no sign-in ------------------------------------------------------------------------


@router.get("/public/outcomes", name="public_outcomes")
def public_dashboard(request: Request, stores: StoresDep, templates: TemplatesDep,
                     framework: FrameworkQuery = None) -> Response:
    context = outcome_views.dashboard(stores=stores, audience=_public(stores, framework), framework=framework,
                                      level=None, area=None)
    return _page(request, templates, "outcomes_dashboard.html", context | {"base": "/public/outcomes", "public": True})


@router.get("/public/outcomes/places/{level}/{code}", name="public_outcomes_place")
def public_place(request: Request, stores: StoresDep, templates: TemplatesDep, level: Code, code: Code,
                 framework: FrameworkQuery = None) -> Response:
    context = outcome_views.dashboard(stores=stores, audience=_public(stores, framework), framework=framework,
                                      level=level, area=code)
    return _page(request, templates, "outcomes_dashboard.html", context | {"base": "/public/outcomes", "public": True})


@router.get("/public/outcomes/indicators/{code}", name="public_outcomes_indicator")
def public_indicator(request: Request, stores: StoresDep, templates: TemplatesDep, code: Code,
                     level: LevelQuery = None, area: AreaQuery = None, framework: FrameworkQuery = None) -> Response:
    context = outcome_views.indicator_page(stores=stores, audience=_public(stores, framework), framework=framework,
                                           code=code, level=level or None, area=area or None)
    return _page(request, templates, "outcomes_indicator.html", context | {"base": "/public/outcomes", "public": True})


# -- the framework editor --------------------------------------------------------------------------------


@router.get("/outcomes/framework", name="outcomes_framework")
def framework_page(request: Request, user: CurrentUserDep, stores: StoresDep, templates: TemplatesDep,
                   framework: FrameworkQuery = None, saved: Annotated[int | None, Query(ge=1)] = None) -> Response:
    stored = outcome_views.framework_code(stores=stores, code=framework)
    return _page(request, templates, "outcomes_framework.html",
                 _framework_context(stores, user, stored.framework.code, text=stored.content, saved=saved))


@router.post("/outcomes/framework", name="outcomes_framework_save")
def save_framework(request: Request, editor: EditorDep, stores: StoresDep, templates: TemplatesDep,
                   framework_text: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
                   framework: FrameworkQuery = None) -> Response:
    current = outcome_views.framework_code(stores=stores, code=framework)
    problems = _text_problems(framework_text) + _note_problems(note)
    if not problems:
        try:
            stored = import_framework(stores=stores, text=framework_text, actor=editor.email, note=note.strip())
        except FrameworkError as exc:
            problems = [_problem("framework", p) for p in exc.problems]
        else:
            if not stored.created:
                problems = [_problem("framework", "The framework is unchanged, so no version was saved")]
            else:
                return RedirectResponse(f"/outcomes/framework?framework={stored.framework.code}"
                                        f"&saved={stored.version}", status_code=303)
    context = _framework_context(stores, editor, current.framework.code, text=framework_text, note=note,
                                 problems=problems)
    return _page(request, templates, "outcomes_framework.html", context, status=422)


def _framework_context(stores: StoresDep, user: User, code: str, **extra: Any) -> dict[str, Any]:
    versions = list(reversed(framework_versions(stores=stores, code=code)))
    return {"versions": versions, "current": versions[0], "can_edit": user.role.value in EDITORS,
            "problems": [], "note": "", "saved": None} | extra


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


def _text_problems(text: str) -> list[dict[str, str]]:
    if not text.strip():
        return [_problem("framework", "Enter the framework as YAML")]
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return [_problem("framework", "The framework must be smaller than 1 MB")]
    return []


def _note_problems(note: str) -> list[dict[str, str]]:
    if not note.strip():
        return [_problem("note", "Enter what changed and why")]
    if len(note) > NOTE_LIMIT:
        return [_problem("note", f"The note must be {NOTE_LIMIT:,} characters or fewer")]
    return []


# -- the board pack and the exports ----------------------------------------------------------------------


@router.get("/outcomes/board-pack.{fmt}", name="outcomes_board_pack")
def board_pack_download(fmt: Literal["html", "pdf"], stores: StoresDep, scope: PageScopeDep,
                        level: LevelQuery = None, area: AreaQuery = None, framework: FrameworkQuery = None) -> Response:
    audience = reader_audience(scope)
    pack = board_pack.board_pack(stores=stores, audience=audience, framework=framework, level=level or None,
                                 area=area or None)
    exports.record_disclosure(stores, scope, {"export": "outcomes board pack", "format": fmt, "level": pack.place.level,
                                              "area": pack.place.code, "framework": pack.framework})
    if fmt == "html":
        return HTMLResponse(pack.html)
    name = f"board-pack-{pack.place.code}"
    return Response(board_pack.to_pdf(pack.html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})


VALUE_HEADER = ["indicator", "indicator_title", "unit", "level", "area_code", "area_name", "period_type", "period",
                "months", "numerator", "denominator", "value", "lower", "upper", "place_value", "vs_place",
                "peer_value", "vs_peers"]


@router.get("/outcomes/exports/values.{fmt}", name="outcomes_export_values")
def export_values(fmt: Literal["csv", "xlsx", "parquet"], stores: StoresDep, scope: PageScopeDep,
                  level: LevelQuery = None, indicator: Annotated[str | None, Query(max_length=64)] = None,
                  framework: FrameworkQuery = None) -> Response:
    download, count = values_download(stores=stores, audience=reader_audience(scope), framework=framework,
                                      level=level or PLACE_LEVEL, indicator=indicator or None)
    download = exports.Download(download.name, download.header, download.rows, exports.rule_notes(scope) +
                                download.notes, counts=True)
    exports.record_disclosure(stores, scope, {"export": "outcome indicator values", "level": level or PLACE_LEVEL,
                                              "indicator": indicator, "rows": count})
    return exports.respond(download, fmt)


def values_download(*, stores: StoresDep, audience: Audience, framework: str | None, level: str,
                    indicator: str | None) -> tuple[exports.Download, int]:
    """Published indicator values at ``level`` (and the whole place) as a table for Excel and Power BI."""
    from wholeplace.outcomes.published import outcome_figures

    stored = outcome_views.framework_code(stores=stores, code=framework)
    indicators = [stored.framework.indicator(indicator).code] if indicator else None
    figures = outcome_figures(stores=stores, framework=stored, audience=audience, level=level, indicators=indicators)
    titles = {i.code: (i.title, i.unit) for i in stored.framework.indicators()}
    frame = figures.values.sort("indicator", "level", "area_code", "period_type", "period")
    rows = [[r["indicator"], *titles[r["indicator"]], r["level"], r["area_code"], r["area_name"], r["period_type"],
             r["period"].isoformat(), r["months"], r["numerator_display"], r["denominator_display"],
             *(_rounded(r[c]) for c in ("value", "lower", "upper", "place_value")), r["vs_place"] or "",
             _rounded(r["peer_value"]), r["vs_peers"] or ""] for r in frame.iter_rows(named=True)]
    notes = [f"Not available: {code}: {why}" for code, why in figures.unavailable.items()]
    notes.append("Values are recomputed from the published counts; a value from a hidden count is left blank.")
    return exports.Download(f"outcome-values-{level}", VALUE_HEADER, rows, notes), frame.height


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


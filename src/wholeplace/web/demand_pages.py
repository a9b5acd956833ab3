"""The demand pages under ``/demand``: the profile, repeat demand, not police business, failure demand (with the
sample-coding workflow), response and time lost, and future demand with the scenario tool; and their downloads.

Routes are thin: the page's filters are a GET form (``demand_forms``), the figures are published sections
(``demand_views``, ``demand_outlook``) for the reader's scope, and every download is written to the audit log as
a disclosure. Coding a sample means reading contacts, so it needs record-level access and a justification.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

import polars as pl
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wholeplace.demand import response as demand_response
from wholeplace.demand import sample_coding
from wholeplace.errors import UserError
from wholeplace.governance.access import AccessLevel, AccessRefused, refuse
from wholeplace.governance.scope import ReadScope, authorise_records
from wholeplace.reports import demand_section
from wholeplace.store.stores import Stores
from wholeplace.web import demand_forms, exports
from wholeplace.web.auth import CurrentUserDep
from wholeplace.web.dependencies import StoresDep, TemplatesDep
from wholeplace.web.purpose import PageScopeDep

router = APIRouter(include_in_schema=False)
SectionName = Literal["profile", "repeat", "rcrp", "failure", "response", "forecast", "scenario"]
ExportFormat = Literal["csv", "xlsx", "parquet"]
SampleId = Annotated[str, Path(max_length=32)]
Justification = Annotated[str | None, Query(max_length=1000)]
INTRO = {
    "profile": "Where demand comes from, when and what it is about, by count or by the time it takes.",
    "repeat": "How much demand comes back again and again from the same locations, callers and people.",
    "rcrp": "Incidents in the Right Care, Right Person categories, where health and care should usually respond.",
    "failure": "Contacts caused by something not done, or not done right, upstream: proxies, and coded samples.",
    "response": "Each incident's timeline split into segments, and how long each takes.",
    "forecast": "Demand up to four years ahead with prediction intervals, in hours of work by agency and role.",
    "scenario": "If a share of a Right Care, Right Person group moved to health: police hours released and health "
                "hours required, per place and month.",
}
LOCATION_NOTE = ("A police.uk location is an anonymised snap point (the centre of a street or a public place, shared "
                 "by every address near it), not an address, and police.uk records only the month.")


@router.get("/demand", name="demand")
def demand_index(request: Request, templates: TemplatesDep, scope: PageScopeDep) -> Response:
    return templates.TemplateResponse(request, "demand_index.html", {
        "sections": [(name, title, INTRO[name]) for name, title in demand_forms.TITLES.items()],
        "statement": scope.rule.statement()})


@router.get("/demand/report.{fmt}", name="demand_report")
def demand_report(fmt: Literal["html", "pdf"], stores: StoresDep, scope: PageScopeDep) -> Response:
    """The demand section of reports on its own: every summary page's words, charts (drawn offline) and tables."""
    report = demand_section.demand_section(stores=stores, scope=scope)
    exports.record_disclosure(stores, scope, {"export": "demand report", "format": fmt, "charts": report.charts})
    page = demand_section.document(report.html, title="Demand")
    if fmt == "html":
        return HTMLResponse(page)
    return Response(demand_section.to_pdf(page), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="demand-report.pdf"'})


@router.get("/demand/{section}.{fmt}", name="demand_export")
def demand_export(request: Request, section: SectionName, fmt: ExportFormat, stores: StoresDep, scope: PageScopeDep,
                  table: Annotated[str | None, Query(max_length=40)] = None,
                  justification: Justification = None) -> Response:
    extra = {"justification": justification} if section == "repeat" else {}
    built = demand_forms.section_for(section, request.query_params, stores=stores, scope=scope, **extra) \
        if section != "scenario" or request.query_params.get("percent") else None
    if built is None:
        raise UserError("Give the share moved to health (percent) to download a scenario.", hint="For example 30.")
    chosen = built.table(table) if table in {t.key for t in built.tables} else built.tables[0] if not table else None
    if chosen is None:
        raise UserError(f"The {section} page has no table '{table}'.",
                        hint=f"Choose one of: {', '.join(t.key for t in built.tables)}.")
    exports.record_disclosure(stores, scope, {"export": f"demand {section}", "table": chosen.key, "format": fmt,
                                              "rows": len(chosen.rows)})
    notes = exports.rule_notes(scope) + built.notes
    download = exports.Download(f"demand-{section}-{chosen.key}", [c.field for c in chosen.columns],
                                chosen.export_rows(), notes, counts=chosen.key != "top")
    return exports.respond(download, fmt)


@router.get("/demand/{section}", name="demand_section")
def demand_page(request: Request, section: SectionName, stores: StoresDep, templates: TemplatesDep,
                scope: PageScopeDep, justification: Justification = None) -> Response:
    values = demand_forms.form_values(section, request.query_params)
    built = None
    if section != "scenario" or values["percent"]:
        extra = {"justification": justification} if section == "repeat" else {}
        built = demand_forms.section_for(section, request.query_params, stores=stores, scope=scope, **extra)
    return templates.TemplateResponse(request, "demand.html", page_context(
        section=section, built=built, values=values, stores=stores, scope=scope, query=request.url.query,
        justification=justification))


def page_context(*, section: str, built: Any, values: dict[str, str], stores: Stores, scope: ReadScope, query: str,
                 justification: str | None) -> dict[str, Any]:
    fields = [(f, demand_forms.choices(f, stores=stores, scope=scope)) for f in demand_forms.FIELDS[section]]
    charted = {c.table for c in built.charts} if built else set()
    return {"section": section, "title": demand_forms.TITLES[section], "intro": INTRO[section], "fields": fields,
            "values": values, "built": built, "query": query, "statement": scope.rule.statement(),
            "other_tables": [t for t in built.tables if t.key not in charted] if built else [],
            "location_note": LOCATION_NOTE, "justification": justification or "",
            "record_level": bool(scope.record_datasets())}


# -- sample coding ---------------------------------------------------------------------------------------

@router.post("/demand/failure/samples", name="demand_draw_sample")
def draw_sample(request: Request, user: CurrentUserDep, stores: StoresDep, templates: TemplatesDep,
                scope: PageScopeDep, size: Annotated[str, Form()] = "", seed: Annotated[str, Form()] = "",
                name: Annotated[str, Form()] = "") -> Response:
    """Draw a random sample of public contacts from the datasets the reader may see as records."""
    datasets = _record_datasets(stores, scope)
    problems = [_problem(f, "Enter a whole number") for f, v in (("size", size), ("seed", seed))
                if not v.strip().isdigit()]
    if not problems:
        try:
            drawn = sample_coding.draw_sample(stores=stores, size=int(size), seed=int(seed), datasets=datasets,
                                              name=name.strip()[:200], created_by=user.email)
        except UserError as exc:
            problems = [_problem("size", exc.message)]
        else:
            return RedirectResponse(f"/demand/failure/samples/{drawn.id}", status_code=303)
    return templates.TemplateResponse(request, "demand_sample.html", {
        "sample": None, "problems": problems, "form": {"size": size, "seed": seed, "name": name}}, status_code=422)


def _record_datasets(stores: Stores, scope: ReadScope) -> list[str]:
    """Calls for service the reader may read as records: the only contacts they may code."""
    readable = scope.record_datasets()
    if not readable:
        reason = (f"no agreement in force lets {scope.principal.partner} see records for '{scope.purpose}' with the "
                  f"role {scope.principal.role}")
        refuse(stores, scope.principal, scope.purpose, None, AccessLevel.PSEUDONYMISED, None, [reason])
        raise AccessRefused(f"Coding a sample means reading contacts, and {reason}.", principal=scope.principal,
                            purpose=scope.purpose, dataset=None, level=AccessLevel.PSEUDONYMISED, reasons=[reason])
    return readable


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


@router.get("/demand/failure/samples/{sample_id}", name="demand_sample")
def sample_page(request: Request, sample_id: SampleId, stores: StoresDep, templates: TemplatesDep,
                scope: PageScopeDep, justification: Justification = None) -> Response:
    sample = sample_coding.get_sample(stores=stores, sample_id=sample_id)
    result = sample_coding.sample_result(stores=stores, sample_id=sample_id)
    contacts = _contacts(stores, scope, sample, justification) if justification else None
    return templates.TemplateResponse(request, "demand_sample.html", {
        "sample": sample, "result": result, "contacts": contacts, "justification": justification or "",
        "problems": [], "record_level": bool(scope.record_datasets())})


def _contacts(stores: Stores, scope: ReadScope, sample: sample_coding.Sample,
              justification: str) -> list[dict[str, Any]]:
    """The sampled contacts with what an analyst needs to judge them, once each dataset is authorised."""
    for code in sample.datasets or scope.record_datasets():
        authorise_records(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=code,
                          justification=justification, what={"view": "demand sample", "sample": sample.id})
    incidents = demand_response.read_incidents(stores=stores, datasets=sample.datasets or None).filter(
        pl.col("event_id").is_in(sample.event_ids))
    coded = {c.event_id: c for c in sample_coding.codings(stores=stores, sample_id=sample.id)}
    order = {e: i for i, e in enumerate(sample.event_ids)}
    rows = sorted(incidents.select("event_id", "month", "category_opening", "category_closing", "grade", "outcome",
                                   "raised_by").to_dicts(), key=lambda r: order[r["event_id"]])
    return [r | {"coding": coded.get(r["event_id"])} for r in rows]


@router.post("/demand/failure/samples/{sample_id}/codings", name="demand_code_contact")
def code_contact(sample_id: SampleId, user: CurrentUserDep, stores: StoresDep, scope: PageScopeDep,
                 event_id: Annotated[str, Form(max_length=200)] = "",
                 classification: Annotated[str, Form(max_length=20)] = "",
                 failure_type: Annotated[str, Form(max_length=100)] = "",
                 note: Annotated[str, Form(max_length=2000)] = "",
                 justification: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """Record one contact's judgement as value or failure, then back to the sample."""
    sample = sample_coding.get_sample(stores=stores, sample_id=sample_id)
    for code in sample.datasets or _record_datasets(stores, scope):
        authorise_records(stores=stores, principal=scope.principal, purpose=scope.purpose, dataset=code,
                          justification=justification, what={"view": "demand sample coding", "sample": sample_id})
    sample_coding.record_coding(stores=stores, sample_id=sample_id, event_id=event_id, classification=classification,
                                coder=user.email, failure_type=failure_type.strip() or None, note=note)
    return RedirectResponse(f"/demand/failure/samples/{sample_id}?justification={quote(justification)}"
                            f"#contact-{quote(event_id)}", status_code=303)

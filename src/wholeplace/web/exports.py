"""Downloads: the overview's and a dataset's tables as CSV, published exactly as the pages show them.

Every export is a disclosure, so it is written to the audit log with the purpose, the rule applied
and the number of rows. Counts come from ``wholeplace.published`` (the reader's scope, then
disclosure control): a hidden count is the rule's marker, never a number, and the last lines state
the rule. A dataset's records (person-level) download only with a justification, like the records
page, and the download is recorded as a consultation and a disclosure.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from wholeplace import published, records
from wholeplace.governance import audit
from wholeplace.governance.scope import ReadScope
from wholeplace.web.dependencies import StoresDep
from wholeplace.web.purpose import PageScopeDep

router = APIRouter(include_in_schema=False)
BOM = "\ufeff"  # so Excel reads the file as UTF-8
MAX_RECORDS = 100_000


def csv_response(name: str, header: list[str], rows: list[list[Any]], notes: list[str]) -> Response:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    for note in notes:
        writer.writerow([])
        writer.writerow([note])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def record_disclosure(stores: StoresDep, scope: ReadScope, what: dict[str, Any]) -> None:
    audit.record(stores=stores, action=audit.AuditAction.DISCLOSURE, actor=scope.principal.user_id,
                 partner=scope.principal.partner, purpose=scope.purpose,
                 what=what | {"preset": scope.rule.preset.value})


def rule_notes(scope: ReadScope) -> list[str]:
    return [f"Disclosure control: {scope.rule.statement()}", f"Purpose: {scope.purpose}"]


LevelQuery = Annotated[str | None, Query(max_length=60)]
PartnerQuery = Annotated[str | None, Query(max_length=64)]


@router.get("/exports/areas.csv", name="export_areas")
def export_areas(stores: StoresDep, scope: PageScopeDep, level: LevelQuery = None,
                 partner: PartnerQuery = None) -> Response:
    allowed = published.levels(stores=stores, scope=scope)
    level = level or (allowed[0]["level"] if allowed else "")
    table = published.areas(stores=stores, scope=scope, level=level, partner=partner or None)
    rows = [[r["area_code"], r["area_name"], r["display"]] for r in table.rows]
    rows.append(["", "Total", table.total_display])
    record_disclosure(stores, scope, {"export": "events by area", "level": level, "partner": partner,
                                      "rows": len(table.rows)})
    return csv_response(f"events-by-{level}.csv", ["area_code", "area_name", "events"], rows, rule_notes(scope))


@router.get("/exports/months.csv", name="export_months")
def export_months(stores: StoresDep, scope: PageScopeDep, partner: PartnerQuery = None) -> Response:
    table = published.months(stores=stores, scope=scope, partner=partner or None)
    rows = [[r["month"], r["partner"], r["partner_name"], r["display"]] for r in table.rows]
    rows += [[t["key"], "", "All partners", t["display"]] for t in table.line_totals.get("rows", [])]
    record_disclosure(stores, scope, {"export": "events by month", "partner": partner, "rows": len(table.rows)})
    return csv_response("events-by-month.csv", ["month", "partner", "partner_name", "events"], rows, rule_notes(scope))


@router.get("/datasets/{code}/categories.csv", name="export_categories")
def export_categories(code: str, stores: StoresDep, scope: PageScopeDep) -> Response:
    table = published.dataset_categories(stores=stores, scope=scope, code=code)
    rows = [[r["category"], r["source_category"] or "", r["display"]] for r in table.rows]
    rows.append(["Total", "", table.total_display])
    record_disclosure(stores, scope, {"export": "events by category", "dataset": code, "rows": len(table.rows)})
    return csv_response(f"{code}-categories.csv", ["category", "source_category", "events"], rows, rule_notes(scope))


@router.get("/datasets/{code}/records.csv", name="export_records")
def export_records(code: str, stores: StoresDep, scope: PageScopeDep,
                   justification: Annotated[str | None, Query(max_length=1000)] = None) -> Response:
    found, total, fields = records.event_records(stores=stores, scope=scope, dataset=code, justification=justification,
                                                 limit=MAX_RECORDS, offset=0)
    record_disclosure(stores, scope, {"export": "records", "dataset": code, "rows": len(found), "of": total})
    notes = [f"Purpose: {scope.purpose}"] + ([f"The first {MAX_RECORDS:,} of {total:,} records."]
                                             if total > MAX_RECORDS else [])
    return csv_response(f"{code}-records.csv", fields, [[row[f] for f in fields] for row in found], notes)

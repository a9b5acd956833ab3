"""Downloads: the overview's and a dataset's tables as CSV, Excel, Parquet or tagged PDF, published exactly as the
pages show them.

Every export is a disclosure, so it is written to the audit log with the purpose, the rule applied
and the number of rows. Counts come from ``wholeplace.published`` (the reader's scope, then
disclosure control): a hidden count is the rule's marker, never a number, and the last lines state
the rule (in Parquet, hidden counts are null and the notes are in the file's key-value metadata under
``notes``). A dataset's records (person-level) download only with a justification, like the records
page, and the download is recorded as a consultation and a disclosure.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from fastapi import APIRouter, Query
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader

from wholeplace import published, records
from wholeplace.governance import audit
from wholeplace.governance.disclosure import RULES
from wholeplace.governance.scope import ReadScope
from wholeplace.web.dependencies import StoresDep
from wholeplace.web.purpose import PageScopeDep
from wholeplace.web.templating import TEMPLATES

router = APIRouter(include_in_schema=False)
BOM = "\ufeff"  # so Excel reads the file as UTF-8
MAX_RECORDS = 100_000


Format = Literal["csv", "xlsx", "pdf", "parquet"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PARQUET = "application/vnd.apache.parquet"
HIDDEN = frozenset(rule.marker for rule in RULES.values())  # what disclosure control shows instead of a count
WHOLE_NUMBER = re.compile(r"^\d{1,3}(,\d{3})*$|^\d+$")


@dataclass(frozen=True)
class Download:
    name: str  # file name without extension
    header: list[str]
    rows: list[list[Any]]
    notes: list[str]
    counts: bool = True  # a table of counts: whole numbers become Excel numbers (never for records' identifiers)


def respond(download: Download, fmt: Format) -> Response:
    if fmt == "pdf":
        body, media = _pdf(download), "application/pdf"
    elif fmt == "xlsx":
        body, media = _xlsx(download), XLSX
    elif fmt == "parquet":
        body, media = _parquet(download), PARQUET
    else:
        body, media = _csv(download).encode(), "text/csv; charset=utf-8"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{download.name}.{fmt}"'})


def _csv(download: Download) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(download.header)
    writer.writerows(download.rows)
    for note in download.notes:
        writer.writerow([])
        writer.writerow([note])
    return buffer.getvalue()


def _xlsx(download: Download) -> bytes:
    """A real Excel table: whole numbers as numbers, hidden counts as the rule's marker (text), the notes below."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        book.set_properties({"title": download.name, "comments": " ".join(download.notes)})
        sheet = book.add_worksheet("data")
        for r, row in enumerate(download.rows, start=1):
            sheet.write_row(r, 0, [_cell(value, download.counts) for value in row])
        # An Excel table (not just a filtered range): Power BI and Excel's Get Data read it by name.
        sheet.add_table(0, 0, max(len(download.rows), 1), len(download.header) - 1,
                        {"name": "data", "columns": [{"header": h} for h in _unique(download.header)],
                         "style": "Table Style Medium 2"})
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, len(download.header) - 1, 22)
        for i, note in enumerate(download.notes):
            sheet.write(len(download.rows) + 2 + i, 0, note)
    return buffer.getvalue()


def _unique(header: list[str]) -> list[str]:
    """Column names as tables need them: unique, a repeat numbered ("events", "events 2")."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return names


def _parquet(download: Download) -> bytes:
    """Typed columns: counts as 64-bit integers with hidden counts null; the notes in the key-value metadata."""
    columns = {name: _parquet_column([row[i] for row in download.rows], download.counts)
               for i, name in enumerate(_unique(download.header))}
    table = pa.table(columns).replace_schema_metadata({
        "title": download.name, "notes": json.dumps(download.notes, ensure_ascii=False)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _parquet_column(values: list[Any], counts: bool) -> pa.Array:
    if not values:
        return pa.array([], pa.string())
    if counts and _count_column(values):
        return pa.array([_count(v) for v in values], pa.int64())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds in one column: text, as CSV would show them
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def _count_column(values: list[Any]) -> bool:
    """Whole numbers, hidden counts and blanks only, and not blanks only."""
    whole = [_count(v) is not None for v in values]
    hidden = [v is None or v == "" or v in HIDDEN for v in values]
    return all(w or h for w, h in zip(whole, hidden, strict=True)) and any(v not in (None, "") for v in values)


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and WHOLE_NUMBER.match(value):
        return int(value.replace(",", ""))
    return None


def _pdf(download: Download) -> bytes:
    """A tagged PDF (PDF/UA-1) of the table, its notes first, page numbers in the footer, local fonts only."""
    import weasyprint  # imported here: it loads Pango, which only PDF downloads need

    title = download.name.replace("-", " ").capitalize()
    page = _EXPORT_TEMPLATE.render(title=title, header=download.header, rows=download.rows, notes=download.notes,
                                   counts=download.counts)
    return weasyprint.HTML(string=page).write_pdf(pdf_variant="pdf/ua-1")  # type: ignore[no-any-return]


_EXPORT_TEMPLATE = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True).get_template("export.html")


def _cell(value: Any, counts: bool) -> Any:
    if counts and isinstance(value, str) and WHOLE_NUMBER.match(value):
        return int(value.replace(",", ""))
    return "" if value is None else value if isinstance(value, int | float | str) else str(value)


def record_disclosure(stores: StoresDep, scope: ReadScope, what: dict[str, Any]) -> None:
    audit.record(stores=stores, action=audit.AuditAction.DISCLOSURE, actor=scope.principal.user_id,
                 partner=scope.principal.partner, purpose=scope.purpose,
                 what=what | {"preset": scope.rule.preset.value})


def rule_notes(scope: ReadScope) -> list[str]:
    return [f"Disclosure control: {scope.rule.statement()}", f"Purpose: {scope.purpose}"]


LevelQuery = Annotated[str | None, Query(max_length=60)]
PartnerQuery = Annotated[str | None, Query(max_length=64)]


@router.get("/exports/areas.{fmt}", name="export_areas")
def export_areas(fmt: Format, stores: StoresDep, scope: PageScopeDep, level: LevelQuery = None,
                 partner: PartnerQuery = None) -> Response:
    allowed = published.levels(stores=stores, scope=scope)
    level = level or (allowed[0]["level"] if allowed else "")
    table = published.areas(stores=stores, scope=scope, level=level, partner=partner or None)
    rows = [[r["area_code"], r["area_name"], r["display"]] for r in table.rows]
    rows.append(["", "Total", table.total_display])
    record_disclosure(stores, scope, {"export": "events by area", "level": level, "partner": partner,
                                      "rows": len(table.rows)})
    return respond(Download(f"events-by-{level}", ["area_code", "area_name", "events"], rows, rule_notes(scope)), fmt)


@router.get("/exports/months.{fmt}", name="export_months")
def export_months(fmt: Format, stores: StoresDep, scope: PageScopeDep, partner: PartnerQuery = None) -> Response:
    table = published.months(stores=stores, scope=scope, partner=partner or None)
    rows = [[r["month"], r["partner"], r["partner_name"], r["display"]] for r in table.rows]
    rows += [[t["key"], "", "All partners", t["display"]] for t in table.line_totals.get("rows", [])]
    record_disclosure(stores, scope, {"export": "events by month", "partner": partner, "rows": len(table.rows)})
    header = ["month", "partner", "partner_name", "events"]
    return respond(Download("events-by-month", header, rows, rule_notes(scope)), fmt)


@router.get("/datasets/{code}/categories.{fmt}", name="export_categories")
def export_categories(code: str, fmt: Format, stores: StoresDep, scope: PageScopeDep) -> Response:
    table = published.dataset_categories(stores=stores, scope=scope, code=code)
    rows = [[r["category"], r["source_category"] or "", r["display"]] for r in table.rows]
    rows.append(["Total", "", table.total_display])
    record_disclosure(stores, scope, {"export": "events by category", "dataset": code, "rows": len(table.rows)})
    header = ["category", "source_category", "events"]
    return respond(Download(f"{code}-categories", header, rows, rule_notes(scope)), fmt)


@router.get("/datasets/{code}/records.{fmt}", name="export_records")
def export_records(code: str, fmt: Format, stores: StoresDep, scope: PageScopeDep,
                   justification: Annotated[str | None, Query(max_length=1000)] = None) -> Response:
    found, total, fields = records.event_records(stores=stores, scope=scope, dataset=code, justification=justification,
                                                 limit=MAX_RECORDS, offset=0)
    record_disclosure(stores, scope, {"export": "records", "dataset": code, "rows": len(found), "of": total})
    notes = [f"Purpose: {scope.purpose}"] + ([f"The first {MAX_RECORDS:,} of {total:,} records."]
                                             if total > MAX_RECORDS else [])
    rows = [[_plain(row[f]) for f in fields] for row in found]
    return respond(Download(f"{code}-records", fields, rows, notes, counts=False), fmt)


def _plain(value: Any) -> Any:
    """Dates and times as ISO text, so CSV and Excel show the same thing."""
    return value.isoformat() if hasattr(value, "isoformat") else value

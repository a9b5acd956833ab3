"""Import and export of the directory: HSDS JSON (a list of services, one service, an API page or a
list of pages), HSDS CSV data packages (datapackage.json and one CSV per table) and the spreadsheet
template (``template``). Every problem in a file is reported at once, with file, line or JSON path and
field; nothing is stored unless the whole input is good, and a load replaces records with the same ids.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wholeplace.directory.model import KINDS, NUMBERS, STATUSES, TABLE_FILES, Nester, RecordSet, flatten
from wholeplace.directory.store import all_records, directory_session, records_of, save_records
from wholeplace.directory.template import read_template
from wholeplace.errors import InputError, Problem, UserError
from wholeplace.store.stores import Stores

FORMATS = ("auto", "json", "datapackage", "template")
JSON_KINDS = ("service", "organization", "service_at_location", "location", "taxonomy", "taxonomy_term")
_REQUIRED = {"service": ("name", "status"), "organization": ("name",), "location": ("location_type",),
             "taxonomy": ("name",), "taxonomy_term": ("name",)}


@dataclass(frozen=True)
class ImportResult:
    source: str
    format: str
    records: int
    services: int


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    tables: dict[str, int]  # CSV file -> rows
    services: int


def import_directory(*, stores: Stores, path: Path, format: str = "auto", kind: str = "service") -> ImportResult:
    """Read ``path`` in ``format`` (auto: a folder is a data package, .csv the template, else JSON)
    and store it in one transaction."""
    chosen = _choose_format(path, format)
    records = read_input(path=path, format=chosen, kind=kind)
    with directory_session(stores) as session:
        count = save_records(session, records, source=str(path))
    return ImportResult(str(path), chosen, count, len(records.of_kind("service")))


def read_input(*, path: Path, format: str, kind: str = "service") -> RecordSet:
    if not path.exists():
        raise UserError(f"{path} does not exist.", hint="Give the path of an HSDS JSON file, a data package folder "
                                                         "or a template CSV.")
    if format == "datapackage":
        return read_datapackage(path)
    if format == "template":
        return read_template(path)
    return read_json(path, kind=kind)


def read_json(path: Path, *, kind: str = "service") -> RecordSet:
    if kind not in JSON_KINDS:
        raise UserError(f"Cannot import JSON objects of kind '{kind}'.", hint=f"Use one of {', '.join(JSON_KINDS)}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(str(path), f"is not JSON in UTF-8: {exc}")],
                         hint="Export the feed again as JSON (UTF-8).") from exc
    items = _json_items(data)
    if items is None:
        raise InputError([Problem(str(path), "holds no HSDS objects: expected a list of objects, one object, "
                                             "a page with 'contents' or a list of pages")])
    records, problems = RecordSet(), []
    for where, item in items:
        problems += _required(item, kind, where) + flatten(item, kind, records, where=where)
    if problems:
        raise InputError([Problem(str(path), p) for p in problems],
                         hint="Fix these objects (HSDS 3.0 names the required fields) and import the file again.")
    return records


def read_datapackage(folder: Path) -> RecordSet:
    """An HSDS CSV data package: the tables datapackage.json lists (or the standard file names)."""
    tables = _package_tables(folder)
    records, problems = RecordSet(), []
    for kind, file in tables.items():
        problems += _read_table(file, kind, records)
    if not tables:
        problems.append(Problem(str(folder), f"has no HSDS tables (such as {TABLE_FILES['service']})"))
    if problems:
        raise InputError(problems, hint="Fix these rows (numbers as plain numbers, every row with an id) "
                                        "and import the package again.")
    return records


def export_directory(*, stores: Stores, folder: Path) -> ExportResult:
    """Write the whole directory as an HSDS data package: one CSV per table, datapackage.json and
    services.json (every service fully nested)."""
    folder.mkdir(parents=True, exist_ok=True)
    with directory_session(stores) as session:
        records = all_records(session)
    written = {}
    for kind in KINDS:
        rows = [r for k, r in records if k == kind]
        if rows:
            written[TABLE_FILES[kind]] = _write_table(folder / TABLE_FILES[kind], rows)
    nester = Nester(records)
    services = [nester.nest("service", str(r["id"])) for k, r in sorted(records, key=lambda x: str(x[1]["id"]))
                if k == "service"]
    (folder / "services.json").write_text(json.dumps(services, indent=1, ensure_ascii=False), encoding="utf-8")
    (folder / "datapackage.json").write_text(json.dumps(_descriptor(folder, written), indent=1), encoding="utf-8")
    return ExportResult(folder, written, len(services))


def stored_records(*, stores: Stores, kind: str) -> list[dict[str, Any]]:
    with directory_session(stores) as session:
        return records_of(session, kind)


def _choose_format(path: Path, format: str) -> str:
    if format not in FORMATS:
        raise UserError(f"Unknown import format '{format}'.", hint=f"Use one of {', '.join(FORMATS)}.")
    if format != "auto":
        return format
    if path.is_dir():
        return "datapackage"
    return "template" if path.suffix.lower() == ".csv" else "json"


def _json_items(data: Any) -> list[tuple[str, dict[str, Any]]] | None:
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        return [(f"contents[{i}]", item) for i, item in enumerate(data["contents"])]
    if isinstance(data, dict):
        return [("(the object)", data)]
    if isinstance(data, list) and data and all(isinstance(p, dict) and isinstance(p.get("contents"), list)
                                               for p in data):
        return [(f"[{p}].contents[{i}]", item)
                for p, page in enumerate(data) for i, item in enumerate(page["contents"])]
    if isinstance(data, list):
        return [(f"[{i}]", item) for i, item in enumerate(data)]
    return None


def _required(item: Any, kind: str, where: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: is not an object"]
    problems = [f"{where}.{name}: a {kind} needs a '{name}'" for name in _REQUIRED.get(kind, ())
                if item.get(name) in (None, "")]
    if kind == "service" and item.get("status") not in (None, "") and item["status"] not in STATUSES:
        problems.append(f"{where}.status: '{item['status']}' is not one of {', '.join(STATUSES)}")
    return problems


def _package_tables(folder: Path) -> dict[str, Path]:
    descriptor = folder / "datapackage.json"
    try:
        resources = json.loads(descriptor.read_text(encoding="utf-8"))["resources"]
        listed = {r["name"]: folder / r["path"] for r in resources if r.get("name") in TABLE_FILES}
    except (OSError, ValueError, KeyError, TypeError):
        listed = {kind: folder / name for kind, name in TABLE_FILES.items()}
    return {kind: path for kind, path in listed.items() if path.exists()}


def _read_table(file: Path, kind: str, records: RecordSet) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if "id" not in (reader.fieldnames or []):
                return [Problem(str(file), "has no 'id' column", line=1)]
            for row in reader:
                record = _typed_row(row, file, reader.line_num, problems)
                if record is None:
                    continue
                if record["id"] in seen:
                    problems.append(Problem(str(file), f"id {record['id']} appears twice",
                                            line=reader.line_num, column="id"))
                seen.add(record["id"])
                records.add(kind, record)
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(file), f"is not UTF-8 text ({exc.reason})"))
    return problems


def _typed_row(row: dict[str, Any], file: Path, line: int, problems: list[Problem]) -> dict[str, Any] | None:
    if not row.get("id"):
        problems.append(Problem(str(file), "the row has no id", line=line, column="id"))
        return None
    record: dict[str, Any] = {}
    for name, value in row.items():
        if name is None or value in (None, ""):
            continue
        if name in NUMBERS:
            try:
                number = float(value)
            except ValueError:
                problems.append(Problem(str(file), f"'{value}' is not a number", line=line, column=name))
                continue
            record[name] = int(number) if number.is_integer() and "." not in value else number
        else:
            record[name] = value
    return record


def _write_table(file: Path, rows: list[dict[str, Any]]) -> int:
    columns = ["id", *sorted({k for r in rows for k, v in r.items() if k != "id" and not isinstance(v, dict | list)})]
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: str(r["id"])))
    return len(rows)


def _descriptor(folder: Path, written: dict[str, int]) -> dict[str, Any]:
    resources = []
    for kind, file in TABLE_FILES.items():
        if file in written:
            with (folder / file).open(encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            resources.append({"name": kind, "path": file, "profile": "tabular-data-resource",
                              "schema": {"fields": [{"name": c} for c in header], "primaryKey": "id"}})
    return {"name": "hsds-directory", "profile": "tabular-data-package", "resources": resources}

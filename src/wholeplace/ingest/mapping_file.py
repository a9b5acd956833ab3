"""Mapping files: the YAML that says how a partner's extract becomes canonical events.

The file is parsed into pydantic models so that every mistake is reported at once, each
named by its key path (``timestamps.received_at.formats``) and line in the mapping file,
with a "did you mean" for misspelt keys. docs/mapping-files.md documents every key.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from wholeplace.errors import InputError, MappingError
from wholeplace.ingest.category_tables import CategoryTable, load_category_table
from wholeplace.model.categories import CATEGORIES
from wholeplace.model.events import EventKind
from wholeplace.model.partners import PartnerKind

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# strftime directives the parser (polars, via chrono) understands; anything else is a typo.
DIRECTIVE = re.compile(r"%[-_0^#]?(?:\.?\d)?([A-Za-z%+:])")
KNOWN_DIRECTIVES = set("YCymbBhdejHkIlMSfpPzZaAwuUWTDFRrxXcsnt%+:")
SECOND_DIRECTIVES = set("STXcsfr")
MINUTE_DIRECTIVES = set("MR")
DAY_DIRECTIVES = set("dejDFxa")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ColumnRef(Strict):
    column: str = Field(min_length=1)
    missing: list[str] = []  # values that mean "not given", e.g. "-1"


class TimestampRef(ColumnRef):
    formats: list[str] = Field(min_length=1)

    @field_validator("formats")
    @classmethod
    def _formats_are_dates(cls, formats: list[str]) -> list[str]:
        problems = [p for fmt in formats if (p := format_problem(fmt))]
        if problems:
            raise ValueError("; ".join(problems))
        return formats


class CategoryRef(ColumnRef):
    table: str = Field(min_length=1)
    unmapped: Literal["quarantine", "uncategorised"] = "quarantine"


class AreaRef(ColumnRef):
    level: str = Field(min_length=1)


class Source(Strict):
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"'{encoding}' is not an encoding Python knows (try utf-8, utf-8-sig or cp1252)") from None
        return encoding


class PartnerSpec(Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    kind: PartnerKind


class DatasetSpec(Strict):
    code: str = Field(pattern=CODE_PATTERN)
    kind: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""


class Timestamps(Strict):
    occurred_at: TimestampRef | None = None
    received_at: TimestampRef | None = None
    dispatched_at: TimestampRef | None = None
    arrived_at: TimestampRef | None = None
    closed_at: TimestampRef | None = None


class Location(Strict):
    longitude: ColumnRef | None = None
    latitude: ColumnRef | None = None
    easting: ColumnRef | None = None
    northing: ColumnRef | None = None
    area_code: AreaRef | None = None
    text: ColumnRef | None = None

    @model_validator(mode="after")
    def _pairs(self) -> Location:
        if (self.longitude is None) != (self.latitude is None):
            raise ValueError("longitude and latitude must be given together")
        if (self.easting is None) != (self.northing is None):
            raise ValueError("easting and northing must be given together")
        if self.longitude is not None and self.easting is not None:
            raise ValueError("give longitude/latitude or easting/northing, not both")
        return self


class Person(Strict):
    forename: ColumnRef | None = None
    surname: ColumnRef | None = None
    name: ColumnRef | None = None
    date_of_birth: ColumnRef | None = None
    nhs_number: ColumnRef | None = None
    postcode: ColumnRef | None = None
    phone: ColumnRef | None = None
    sex: ColumnRef | None = None

    @model_validator(mode="after")
    def _one_way_of_naming(self) -> Person:
        if self.name is not None and (self.forename is not None or self.surname is not None):
            raise ValueError("give name, or forename and surname, not both")
        return self


class Identifiers(Strict):
    subject: Person | None = None
    caller: Person | None = None
    address: ColumnRef | None = None


class FlagRule(Strict):
    column: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    truthy: Literal[True] | None = None
    matches: str | None = None
    categories: list[str] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> FlagRule:
        tests = [name for name in ("in_", "truthy", "matches", "categories") if getattr(self, name) is not None]
        if len(tests) != 1:
            raise ValueError("each rule needs exactly one of in, truthy, matches or categories")
        if (self.column is None) != (tests[0] == "categories"):
            raise ValueError("in, truthy and matches need a column; categories takes none")
        unknown = [c for c in self.categories or [] if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"not Wholeplace categories: {', '.join(unknown)} (see docs/categories.md)")
        if self.matches is not None:
            _check_pattern(self.matches)
        return self


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


Rules = Annotated[list[FlagRule], BeforeValidator(_as_list)]


class Flags(Strict):
    self_initiated: Rules | None = None
    mental_health: Rules | None = None
    alcohol: Rules | None = None
    domestic_abuse: Rules | None = None


class MappingSpec(Strict):
    mapping: str = Field(pattern=CODE_PATTERN)
    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
    partner: PartnerSpec
    dataset: DatasetSpec
    event_kind: EventKind
    source: Source = Source()
    partition: Literal["file", "month"] = "file"
    record_id: ColumnRef | None = None
    timestamps: Timestamps = Timestamps()
    occurred_month: TimestampRef | None = None
    category: CategoryRef | None = None
    category_opening: CategoryRef | None = None
    category_closing: CategoryRef | None = None
    location: Location = Location()
    identifiers: Identifiers = Identifiers()
    flags: Flags = Flags()
    outcome: ColumnRef | None = None
    priority: ColumnRef | None = None
    attributes: list[str] | None = None


def format_problem(fmt: str) -> str | None:
    """Why ``fmt`` is not a usable date format, or None when it is."""
    letters = DIRECTIVE.findall(fmt)
    unknown = [f"%{x}" for x in letters if x not in KNOWN_DIRECTIVES]
    if unknown:
        return f"'{fmt}' uses {', '.join(unknown)}, which is not a date format directive"
    if fmt.count("%") != len(DIRECTIVE.findall(fmt)) + fmt.count("%%"):
        return f"'{fmt}' has a '%' that does not start a directive (write %% for a literal %)"
    if not {"Y", "y", "C", "D", "F", "c", "s"} & set(letters):
        return f"'{fmt}' has no year (%Y); formats look like '%Y-%m-%d %H:%M:%S' or '%d/%m/%Y %H:%M'"
    return None


def precision_of(fmt: str) -> str:
    """The time precision a format records: second, minute, day or month."""
    letters = set(DIRECTIVE.findall(fmt))
    for precision, directives in (("second", SECOND_DIRECTIVES), ("minute", MINUTE_DIRECTIVES),
                                  ("day", DAY_DIRECTIVES)):
        if letters & directives:
            return precision
    return "month"


def _check_pattern(pattern: str) -> None:
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        detail = str(exc).split("\n")[-1].strip() or "invalid"
        raise ValueError(f"'{pattern}' is not a valid regular expression ({detail})") from None


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file with its category tables loaded."""

    path: Path
    spec: MappingSpec
    tables: dict[str, CategoryTable]  # key path (category, category_opening, ...) → table
    version: str


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; raise MappingError listing every problem found."""
    file = str(path)
    text = _read_text(path)
    raw = _parse_yaml(file, text)
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        raise MappingError(file, [_describe(error, text) for error in exc.errors()]) from None
    problems = check_mapping(spec, text)
    tables, table_problems = _load_tables(path, spec, text)
    if problems or table_problems:
        raise MappingError(file, problems + table_problems)
    return Mapping(path, spec, tables, _version(path, spec, tables))


def check_mapping(spec: MappingSpec, text: str) -> list[str]:
    """Checks across keys, which the models cannot make one key at a time."""
    problems = _check_occurrence(spec) + _check_categories(spec) + _check_clear_columns(spec)
    return [f"{key}{locate_key(text, key)}: {message}" for key, message in problems]


def _check_occurrence(spec: MappingSpec) -> list[tuple[str, str]]:
    if spec.timestamps.occurred_at or spec.timestamps.received_at or spec.occurred_month:
        return []
    return [("timestamps", "give timestamps.occurred_at, timestamps.received_at or occurred_month: "
             "every event needs a time")]


def _check_categories(spec: MappingSpec) -> list[tuple[str, str]]:
    if spec.category is not None and (spec.category_opening or spec.category_closing):
        return [("category", "give category, or category_opening and category_closing, not both")]
    if spec.category is None and spec.category_closing is None:
        key = "category_opening" if spec.category_opening else "category"
        return [(key, "give category (or category_closing, with category_opening if the source has one): "
                 "every event needs a category")]
    return []


def _check_clear_columns(spec: MappingSpec) -> list[tuple[str, str]]:
    """Identifier columns must never be stored in clear, so they cannot be used elsewhere."""
    identifiers = identifier_columns(spec)
    return [
        (key, f"column '{column}' is declared as an identifier ({identifiers[column]}), so it cannot "
              "also be stored in clear here")
        for key, column in clear_columns(spec) if column in identifiers
    ]


def identifier_columns(spec: MappingSpec) -> dict[str, str]:
    """Identifier column → its key path (sex is not an identifier and is kept in clear)."""
    found: dict[str, str] = {}
    for role in ("subject", "caller"):
        person: Person | None = getattr(spec.identifiers, role)
        for name, ref in (person or Person()):
            if ref is not None and name != "sex":
                found.setdefault(ref.column, f"identifiers.{role}.{name}")
    if spec.identifiers.address is not None:
        found.setdefault(spec.identifiers.address.column, "identifiers.address")
    return found


def clear_columns(spec: MappingSpec) -> list[tuple[str, str]]:
    """(key path, column) of every column whose values are stored as they are."""
    refs: list[tuple[str, ColumnRef | None]] = [
        ("record_id", spec.record_id), ("occurred_month", spec.occurred_month),
        ("outcome", spec.outcome), ("priority", spec.priority),
        ("location.area_code", spec.location.area_code), ("location.text", spec.location.text),
        *((f"timestamps.{name}", ref) for name, ref in spec.timestamps),
        *((key, getattr(spec, key)) for key in ("category", "category_opening", "category_closing")),
    ]
    found = [(key, ref.column) for key, ref in refs if ref is not None]
    return found + [(f"attributes[{i}]", column) for i, column in enumerate(spec.attributes or [])]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise MappingError(str(path), ["the mapping file does not exist; check the --mapping path"])
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(str(path), [f"the mapping file is not UTF-8 text ({exc.reason})"]) from None


def _parse_yaml(file: str, text: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise MappingError(file, [f"{where}not valid YAML: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise MappingError(file, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise MappingError(file, ["the file must be a YAML mapping of keys (mapping:, version:, ...)"])
    return raw


def _describe(error: Any, text: str) -> str:
    loc = tuple(part for part in error["loc"] if part not in ("list[FlagRule]",))
    key = key_path(loc)
    where = locate_key(text, loc)
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), fields_at(loc[:-1]), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys here: {', '.join(fields_at(loc[:-1]))}"
        return f"{key}{where}: unknown key{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key or '(top level)'}{where}: {message}"


def key_path(loc: tuple[Any, ...]) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else str(p).rstrip("_") for p in loc]
    return ".".join(parts).replace(".[", "[")


def fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc``, for "did you mean" suggestions."""
    model: Any = MappingSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or model.model_fields.get(f"{part}_")
        model = _inner_model(field.annotation) if field else None
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    for arg in typing.get_args(annotation) if typing.get_origin(annotation) in (list, types.UnionType) else ():
        if found := _inner_model(arg):
            return found
    return None


def locate_key(text: str, loc: tuple[Any, ...] | str) -> str:
    """`` (line N)`` for the deepest key of ``loc`` found in the YAML, or ``""``."""
    parts = tuple(loc.split(".")) if isinstance(loc, str) else loc
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return ""
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value in (part, str(part).rstrip("_"))), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return f" (line {line})" if line else ""


def _load_tables(path: Path, spec: MappingSpec, text: str) -> tuple[dict[str, CategoryTable], list[str]]:
    tables: dict[str, CategoryTable] = {}
    problems: list[str] = []
    for key in ("category", "category_opening", "category_closing"):
        ref: CategoryRef | None = getattr(spec, key)
        if ref is None:
            continue
        table_path = (path.parent / ref.table).resolve()
        try:
            tables[key] = load_category_table(table_path)
        except InputError as exc:
            where = locate_key(text, (key, "table"))
            problems += [f"{key}.table{where}: {problem}" for problem in exc.problems]
    return tables, problems


def _version(path: Path, spec: MappingSpec, tables: dict[str, CategoryTable]) -> str:
    digest = hashlib.sha256(path.read_bytes())
    for table in sorted({t.path for t in tables.values()}):
        digest.update(table.read_bytes())
    return f"{spec.mapping}@{spec.version}+{digest.hexdigest()[:10]}"

"""The mapping-file format as pydantic models: one model per key, unknown keys refused.

docs/mapping-files.md documents every key; these models are the contract it describes.
A column reference may list ``missing`` values (such as ``-1``) that mean "not given".
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

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


def _texts(value: Any) -> Any:
    """YAML reads 1149 or -1 as numbers; in a list of source values they are text."""
    if isinstance(value, list):
        return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value]
    return value


Texts = Annotated[list[str], BeforeValidator(_texts)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRef(Strict):
    column: str = Field(min_length=1)
    missing: Texts = []  # values that mean "not given", e.g. "-1"


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
    in_: Texts | None = Field(default=None, alias="in")
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
    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v)]
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
        detail = next((line for line in str(exc).splitlines() if line.startswith("error:")), "error: invalid")
        raise ValueError(f"'{pattern}' is not a valid regular expression ({detail.removeprefix('error: ')})") from None


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


def column_refs(node: BaseModel) -> Iterator[ColumnRef]:
    """Every column reference in a mapping, at any depth."""
    for _, value in node:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ColumnRef):
                yield item
            elif isinstance(item, BaseModel):
                yield from column_refs(item)


def used_columns(spec: MappingSpec) -> list[str]:
    """Every source column the mapping reads: the file must have them all."""
    names = [ref.column for ref in column_refs(spec)]
    names += [rule.column for _, rules in spec.flags for rule in rules or [] if rule.column]
    return list(dict.fromkeys(names + (spec.attributes or [])))


def missing_values(spec: MappingSpec) -> dict[str, set[str]]:
    """Column → the values declared to mean "not given" wherever the column is used."""
    found: dict[str, set[str]] = {}
    for ref in column_refs(spec):
        if ref.missing:
            found.setdefault(ref.column, set()).update(value.strip() for value in ref.missing)
    return found

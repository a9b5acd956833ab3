"""Field declarations: the one place a column's type, meaning and constraints are stated.

Validation, documentation and synthetic data all derive from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"
    MONTH = "month"


class IdentifierKind(StrEnum):
    """Kinds of direct identifier; each is pseudonymised at the door."""

    NAME = "name"
    FORENAME = "forename"
    SURNAME = "surname"
    DATE_OF_BIRTH = "date_of_birth"
    NHS_NUMBER = "nhs_number"
    ADDRESS = "address"
    POSTCODE = "postcode"
    PHONE = "phone"


ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.TEXT: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.DECIMAL: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.TIMESTAMP: pa.timestamp("us"),
    FieldType.DATE: pa.date32(),
    FieldType.MONTH: pa.date32(),
}


@dataclass(frozen=True)
class FieldSpec:
    """One column: name, type, meaning and constraints."""

    name: str
    type: FieldType
    meaning: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    identifier: IdentifierKind | None = None
    quirks: tuple[str, ...] = ()

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class DatasetSchema:
    """A partner feed's columns as the source delivers them, declared once."""

    name: str
    title: str
    description: str
    fields: tuple[FieldSpec, ...]
    quirks: tuple[str, ...] = ()
    source_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def identifier_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.identifier is not None]

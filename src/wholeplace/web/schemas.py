"""Response models of the JSON API: the contract partners and Power BI read from /openapi.json."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class ListResponse(BaseModel, Generic[T]):
    """Every list: the rows, and how many rows match in all (not just on this page)."""

    data: list[T]
    count: int = Field(description="Rows matching the request in all; with limit/offset, more than len(data).")


class ErrorBody(BaseModel):
    status: int
    message: str
    detail: Any = Field(default=None, description="What exactly was wrong, e.g. the invalid parameters.")


class ErrorResponse(BaseModel):
    """The one shape of every API error."""

    error: ErrorBody


class Load(BaseModel):
    load_id: str
    dataset: str
    adapter: str
    file: str
    file_sha256: str
    file_bytes: int
    mapping_version: str
    status: str = Field(description="active, superseded or failed")
    started_at: datetime
    finished_at: datetime
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_unlocated: int
    partitions: list[Any]
    area_check: dict[str, Any] = Field(description="Supplied area codes compared with computed ones.")
    message: str


class Dataset(BaseModel):
    dataset: str
    title: str
    kind: str
    partner: str
    partner_name: str
    partner_kind: str
    rows_in_store: int
    rows_quarantined: int
    first_month: date | None
    last_month: date | None


class Level(BaseModel):
    level: str
    hierarchy: str
    title: str
    features: int = Field(description="Number of areas.")
    parent_level: str | None
    source_file: str
    loaded_at: datetime


class ContextLoad(BaseModel):
    table: str
    file: str
    rows_read: int
    rows_stored: int
    loaded_at: datetime


class Status(BaseModel):
    """The same report as ``wholeplace status --json``."""

    loads: list[Load]
    datasets: list[Dataset]
    levels: list[Level]
    context: list[ContextLoad]


class QuarantinedRow(BaseModel):
    dataset: str
    load_id: str
    file: str
    line: int | None
    column: str | None
    reason: str
    record: str | None = Field(description="The raw row as JSON, identifiers already replaced by tokens.")


class AreaDisagreement(BaseModel):
    event_id: str
    dataset: str
    source_line: int
    longitude: float | None
    latitude: float | None
    source_area_code: str
    source_level: str
    computed_area_code: str | None = Field(description="Area containing the point; null when it is in none.")


class AreaCount(BaseModel):
    area_code: str
    area_name: str
    events: int


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM", examples=["2021-01"])
    partner: str
    partner_name: str
    events: int


class Partner(BaseModel):
    partner: str
    name: str
    kind: str
    events: int


class Health(BaseModel):
    status: Literal["ok"]


class FeatureCollection(BaseModel):
    """GeoJSON (RFC 7946), WGS84; each feature's properties are ``code`` and ``name``."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class Summary(BaseModel):
    events: int
    partners: int
    datasets: int
    months: int = Field(description="Distinct months with at least one event.")
    first_month: date | None
    last_month: date | None
    events_placed: int = Field(description="Events whose point lies in a loaded area (events supplied with only "
                               "an area code are not included).")
    levels: int
    finest_level: str | None
    areas: int = Field(description="Areas at the finest level.")

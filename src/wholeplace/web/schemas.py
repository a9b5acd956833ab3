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


class Disclosure(BaseModel):
    """The disclosure control rule applied to every count of a response, and its statement."""

    preset: str = Field(description="opensafely, nhs_subnational or threshold10: the strictest of the agreements "
                        "sharing the data counted.")
    statement: str


class PublishedList(BaseModel, Generic[T]):
    """A table of counts as published: hidden cells have ``events`` null and ``display`` the marker."""

    data: list[T]
    count: int = Field(description="Rows in the table.")
    total: int | None = Field(description="The published total (under opensafely, the sum of the published cells).")
    total_display: str
    disclosure: Disclosure


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
    rows_in_store: int | None = Field(description="Published count (null where hidden).")
    rows_in_store_display: str
    rows_quarantined: int | None = Field(description="Published count (null where hidden).")
    rows_quarantined_display: str
    record_level: bool = Field(description="Whether you may see this dataset's records for the declared purpose.")
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


PUBLISHED = "Published count: null where disclosure control hides it (see `display` and `disclosure`)."


class AreaCount(BaseModel):
    area_code: str
    area_name: str
    events: int | None = Field(description=PUBLISHED)
    display: str


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM", examples=["2021-01"])
    partner: str
    partner_name: str
    events: int | None = Field(description=PUBLISHED)
    display: str


class Partner(BaseModel):
    partner: str
    name: str
    kind: str
    events: int | None = Field(description=PUBLISHED)
    display: str


class CategoryCount(BaseModel):
    category: str
    source_category: str | None
    events: int | None = Field(description=PUBLISHED)
    display: str


class Purpose(BaseModel):
    code: str
    title: str
    description: str
    datasets: int = Field(description="Datasets shared with you for this purpose.")
    records: int = Field(description="Of those, datasets whose records you may see.")


class Records(BaseModel):
    """One page of a dataset's records; reading it is recorded in the audit log with your justification."""

    data: list[dict[str, Any]]
    count: int
    fields: list[str] = Field(description="The fields the agreement shares for your purpose.")


class Health(BaseModel):
    status: Literal["ok"]


class FeatureCollection(BaseModel):
    """GeoJSON (RFC 7946), WGS84; each feature's properties are ``code`` and ``name``."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class Summary(BaseModel):
    events: int | None = Field(description=PUBLISHED)
    events_display: str
    partners: int
    datasets: int
    months: int = Field(description="Distinct months with at least one event.")
    first_month: date | None
    last_month: date | None
    events_placed: int | None = Field(description="Events whose point lies in a loaded area (events supplied with "
                                      "only an area code are not included); published, null where hidden.")
    events_placed_display: str
    preset: str
    statement: str = Field(description="The disclosure control rule applied.")
    levels: int = Field(description="Geography levels your outputs may use.")
    finest_level: str | None = Field(description="The finest level the agreements allow for your purpose.")
    areas: int = Field(description="Areas at that level.")

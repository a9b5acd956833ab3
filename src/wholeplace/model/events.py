"""The canonical event: one row per call, incident, crime, attendance or report.

Every partner's feed is mapped to this shape on the way in. Direct identifiers never
appear here: people are represented only by keyed pseudonymous tokens.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa

from wholeplace.model.fields import FieldSpec, FieldType


class EventKind(StrEnum):
    CRIME = "crime"
    ANTI_SOCIAL_BEHAVIOUR = "anti_social_behaviour"
    CALL_FOR_SERVICE = "call_for_service"
    AMBULANCE_INCIDENT = "ambulance_incident"
    AE_ATTENDANCE = "ae_attendance"
    MENTAL_HEALTH_CONTACT = "mental_health_contact"
    COUNCIL_REPORT = "council_report"
    REFERRAL = "referral"
    OTHER = "other"


class LocationStatus(StrEnum):
    """How an event is located, before it is assigned to a place."""

    POINT = "point"  # has a WGS84 point
    AREA_ONLY = "area_only"  # has only an area code from the source
    UNLOCATED = "unlocated"  # the source gives no location at all


class TimePrecision(StrEnum):
    SECOND = "second"
    MINUTE = "minute"
    DAY = "day"
    MONTH = "month"


TIMESTAMP_FIELDS = ("occurred_at", "received_at", "dispatched_at", "arrived_at", "closed_at")
FLAG_FIELDS = ("flag_mental_health", "flag_alcohol", "flag_domestic_abuse", "flag_self_initiated")

EVENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("event_id", FieldType.TEXT, "Stable id: the same source row always gets the same id.", required=True),
    FieldSpec("dataset", FieldType.TEXT, "Dataset (partner feed) the event came from.", required=True),
    FieldSpec("partner", FieldType.TEXT, "Partner organisation that supplied it.", required=True),
    FieldSpec("kind", FieldType.TEXT, "What sort of event it is.", required=True, allowed=tuple(EventKind)),
    FieldSpec("load_id", FieldType.TEXT, "Load that stored it (provenance).", required=True),
    FieldSpec("partition_key", FieldType.TEXT, "Unit of replacement, e.g. a force's month.", required=True),
    FieldSpec("source_line", FieldType.INTEGER, "Line of the source file the row started on.", required=True),
    FieldSpec("source_record_id", FieldType.TEXT, "The source's own reference, if any (not unique for every source)."),
    FieldSpec(
        "category", FieldType.TEXT, "Canonical category (closing category where the source gives both).", required=True
    ),
    FieldSpec("category_opening", FieldType.TEXT, "Canonical category as first recorded."),
    FieldSpec("category_closing", FieldType.TEXT, "Canonical category as finally recorded."),
    FieldSpec("source_category", FieldType.TEXT, "The source's own category text or code."),
    FieldSpec("mapping_version", FieldType.TEXT, "Version of the mapping and category table used.", required=True),
    FieldSpec("occurred_month", FieldType.MONTH, "First day of the month the event happened in.", required=True),
    FieldSpec(
        "occurred_at",
        FieldType.TIMESTAMP,
        "When it happened (or was first recorded); null when only the month is known.",
    ),
    FieldSpec("received_at", FieldType.TIMESTAMP, "When the call or report was received."),
    FieldSpec("dispatched_at", FieldType.TIMESTAMP, "When a resource was dispatched."),
    FieldSpec("arrived_at", FieldType.TIMESTAMP, "When the first resource arrived."),
    FieldSpec("closed_at", FieldType.TIMESTAMP, "When the event was closed."),
    FieldSpec(
        "time_precision",
        FieldType.TEXT,
        "Precision of the source's timestamps.",
        required=True,
        allowed=tuple(TimePrecision),
    ),
    FieldSpec("longitude", FieldType.DECIMAL, "WGS84 longitude.", minimum=-180, maximum=180),
    FieldSpec("latitude", FieldType.DECIMAL, "WGS84 latitude.", minimum=-90, maximum=90),
    FieldSpec(
        "location_status",
        FieldType.TEXT,
        "point, area_only or unlocated.",
        required=True,
        allowed=tuple(LocationStatus),
    ),
    FieldSpec("location_text", FieldType.TEXT, "The source's own location description (never a full address)."),
    FieldSpec("source_area_code", FieldType.TEXT, "Area code supplied by the source."),
    FieldSpec("source_area_level", FieldType.TEXT, "Geography level of the supplied area code."),
    FieldSpec("subject_token", FieldType.TEXT, "Pseudonymous token of the person the event is about."),
    FieldSpec("caller_token", FieldType.TEXT, "Pseudonymous token of the caller or reporter."),
    FieldSpec("address_token", FieldType.TEXT, "Pseudonymous token of the event's address."),
    FieldSpec("flag_mental_health", FieldType.BOOLEAN, "Mental health qualifier."),
    FieldSpec("flag_alcohol", FieldType.BOOLEAN, "Alcohol qualifier."),
    FieldSpec("flag_domestic_abuse", FieldType.BOOLEAN, "Domestic abuse qualifier."),
    FieldSpec("flag_self_initiated", FieldType.BOOLEAN, "Officer- or staff-initiated rather than public demand."),
    FieldSpec("outcome", FieldType.TEXT, "The source's outcome or disposition."),
    FieldSpec("priority", FieldType.TEXT, "The source's grade or priority."),
    FieldSpec("attributes", FieldType.TEXT, "The original non-identifying attributes, as JSON."),
)

EVENT_SCHEMA: pa.Schema = pa.schema([pa.field(f.name, f.arrow_type) for f in EVENT_FIELDS])

QUARANTINE_SCHEMA: pa.Schema = pa.schema(
    [
        ("dataset", pa.string()),
        ("load_id", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("column", pa.string()),
        ("reason", pa.string()),
        ("record", pa.string()),  # JSON of the raw row, identifiers replaced by tokens
    ]
)

PERSON_KEY_SCHEMA: pa.Schema = pa.schema(
    [
        ("dataset", pa.string()),
        ("load_id", pa.string()),
        ("event_id", pa.string()),
        ("role", pa.string()),
        ("person_token", pa.string()),
        ("forename_phonetic", pa.string()),
        ("surname_phonetic", pa.string()),
        ("forename_initial", pa.string()),
        ("birth_year", pa.string()),
        ("birth_date", pa.string()),
        ("postcode_district", pa.string()),
        ("nhs_number", pa.string()),
        ("sex", pa.string()),
    ]
)

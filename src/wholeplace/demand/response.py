"""Response and time lost: each incident's timeline split into segments, and how long each takes.

An incident's timeline is received → dispatched → arrived → closed (the canonical event's
timestamps; answered and created times are not canonical fields, so no segment uses them).
Every incident lands in exactly one status, so the totals always add up to the incidents read:

- ``invalid``: a timestamp before an earlier one (e.g. arrived before dispatched), no received
  time, or a segment longer than ``max_segment_hours`` — with the reason;
- ``censored``: neither arrived nor closed, so the timeline has no end;
- ``valid``: everything else, including incidents closed without anyone arriving.

Segment medians and 90th percentiles use valid incidents only, by grade, urban/rural and area.
The emergency standard (attended within 15 minutes in urban areas and 20 in rural ones) is
measured from a clock start the caller chooses: ``received`` or ``dispatched``. The rural areas
are the caller's, else those of the loaded rural-urban classification (``wholeplace load
rural-urban``), in which an area it does not classify is "not available"; with neither, the split
is "not available" and every emergency incident is held to the urban 15 minutes.

This module also reads the incidents (calls for service) the other demand analyses classify.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import polars as pl

from wholeplace import overview
from wholeplace.overview import UnknownChoiceError
from wholeplace.store.stores import Stores

EMERGENCY_GRADES = ("G1", "1", "P1", "GRADE 1", "E", "EMERGENCY", "IMMEDIATE")
TIMELINE = ("received_at", "dispatched_at", "arrived_at", "closed_at")
SEGMENTS = {  # name → (from, to)
    "call_to_dispatch": ("received_at", "dispatched_at"),
    "dispatch_to_arrival": ("dispatched_at", "arrived_at"),
    "on_scene": ("arrived_at", "closed_at"),
    "call_to_arrival": ("received_at", "arrived_at"),
    "call_to_close": ("received_at", "closed_at"),
}
CLOCK_STARTS = {"received": "received_at", "dispatched": "dispatched_at"}
TARGET_MINUTES = {"urban": 15, "rural": 20, "not available": 15}
NOT_AVAILABLE = "not available"
MAX_SEGMENT_HOURS = 72.0
BREAKDOWNS = ("all", "grade", "urban_rural", "area_code")

INCIDENTS_SQL = """
SELECT e.event_id, e.dataset, e.occurred_month AS month, e.category,
  coalesce(e.category_opening, e.category) AS category_opening,
  coalesce(e.category_closing, e.category) AS category_closing,
  upper(trim(e.priority)) AS grade, e.outcome, e.flag_mental_health, e.flag_alcohol, e.flag_domestic_abuse,
  e.flag_self_initiated, e.caller_token, e.address_token, e.subject_token,
  e.received_at, e.dispatched_at, e.arrived_at, e.closed_at, coalesce(e.received_at, e.occurred_at) AS contact_at,
  CASE WHEN $level IS NULL THEN e.area_code
       ELSE coalesce(pp.area_code, CASE WHEN e.source_area_level = $level THEN e.source_area_code END) END AS area_code,
  upper(trim(json_extract_string(e.attributes, '$.caller_type'))) AS caller_type,
  upper(trim(json_extract_string(e.attributes, '$.call_source'))) AS call_source,
  replace(lower(trim(json_extract_string(e.attributes, '$.location_type'))), ' ', '_') AS location_type
FROM events e
LEFT JOIN point_places pp ON e.location_status = 'point' AND pp.longitude = e.longitude
  AND pp.latitude = e.latitude AND pp.level = $level
WHERE e.kind = 'call_for_service' AND ($datasets IS NULL OR list_contains($datasets, e.dataset))
ORDER BY e.dataset, e.event_id
"""
PUBLIC_CALLERS = ("PUBLIC", "MEMBER OF PUBLIC", "CALLER")
OFFICER_CALLERS = ("OFFICER", "POLICE")


# -- reading incidents -----------------------------------------------------------------------------

def check_datasets(*, stores: Stores, datasets: list[str] | None) -> None:
    """A user error naming the loaded datasets when ``datasets`` names one that is not loaded."""
    if not datasets:
        return
    loaded = [r[0] for r in stores.connect().execute("SELECT DISTINCT dataset FROM events_stored ORDER BY 1")
              .fetchall()]
    for code in datasets:
        if code not in loaded:
            raise UnknownChoiceError(field="dataset", value=code, choices=loaded)


def read_incidents(*, stores: Stores, datasets: list[str] | None = None, level: str | None = None) -> pl.DataFrame:
    """Calls for service (of ``datasets``) with the fields the demand analyses use; ``area_code``
    is at ``level`` when given, else at the finest level containing the incident.

    ``raised_by`` is officer (self-initiated), public, agency (another organisation's caller
    type) or unknown (the source does not say).
    """
    if level is not None:
        overview.check_level(stores=stores, level=level)
    frame = stores.connect().execute(INCIDENTS_SQL, {"level": level, "datasets": datasets}).pl()
    caller = pl.col("caller_type")
    raised = (pl.when(pl.col("flag_self_initiated").fill_null(False) | caller.is_in(OFFICER_CALLERS))
              .then(pl.lit("officer")).when(caller.is_in(PUBLIC_CALLERS)).then(pl.lit("public"))
              .when(caller.is_not_null() & (caller != "")).then(pl.lit("agency")).otherwise(pl.lit("unknown")))
    return frame.with_columns(raised_by=raised)


# -- classifying timelines -------------------------------------------------------------------------

def _minutes(start: str, end: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_seconds() / 60.0


def _invalid_reason(max_segment_hours: float) -> pl.Expr:
    """The first thing wrong with a timeline, or null."""
    checks: list[tuple[pl.Expr, str]] = [(pl.col("received_at").is_null(), "no received time")]
    for i, earlier in enumerate(TIMELINE):
        for later in TIMELINE[i + 1:]:
            checks.append((pl.col(later) < pl.col(earlier),
                           f"{later.removesuffix('_at')} before {earlier.removesuffix('_at')}"))
    for name, (start, end) in SEGMENTS.items():
        too_long = _minutes(start, end) > max_segment_hours * 60
        checks.append((too_long, f"{name} longer than {max_segment_hours:g} hours"))
    reason: pl.Expr = pl.lit(None, pl.String)
    for test, text in reversed(checks):
        reason = pl.when(test.fill_null(False)).then(pl.lit(text)).otherwise(reason)
    return reason


def stored_rural_urban(*, stores: Stores, level: str | None = None) -> pl.DataFrame | None:
    """The loaded rural-urban classification as ``area_code``, ``rural`` (of ``level``, or of every
    level when None), or None when none is loaded."""
    frame = stores.connect().execute(
        "SELECT area_code, bool_or(rural) AS rural FROM rural_urban WHERE $level IS NULL OR level = $level "
        "GROUP BY area_code ORDER BY area_code", {"level": level}).pl()
    return frame if frame.height else None


def classify_timelines(*, stores: Stores, datasets: list[str] | None = None, level: str | None = None,
                       rural_areas: Collection[str] | None = None,
                       max_segment_hours: float = MAX_SEGMENT_HOURS) -> pl.DataFrame:
    """One row per incident: ``status`` (valid / invalid / censored) and ``reason``, each segment's
    minutes, ``urban_rural``, and whether it was never attended, cancelled or recategorised.
    Without ``rural_areas``, the loaded rural-urban classification is used where there is one."""
    check_datasets(stores=stores, datasets=datasets)
    frame = read_incidents(stores=stores, datasets=datasets, level=level)
    stored = stored_rural_urban(stores=stores, level=level) if rural_areas is None else None
    if stored is None:
        return timeline_status(frame, rural_areas=rural_areas, max_segment_hours=max_segment_hours)
    return timeline_status(frame, rural_areas=stored.filter("rural")["area_code"].to_list(),
                           classified_areas=stored["area_code"].to_list(), max_segment_hours=max_segment_hours)


def timeline_status(frame: pl.DataFrame, *, rural_areas: Collection[str] | None = None,
                    classified_areas: Collection[str] | None = None,
                    max_segment_hours: float = MAX_SEGMENT_HOURS) -> pl.DataFrame:
    """The status columns for incidents read by ``read_incidents`` (pure: no store needed).

    An area outside ``rural_areas`` is urban, unless ``classified_areas`` is given and does not
    hold it, when it is "not available"."""
    invalid = _invalid_reason(max_segment_hours)
    no_end = pl.col("arrived_at").is_null() & pl.col("closed_at").is_null()
    not_arrived = pl.col("arrived_at").is_null() & pl.col("closed_at").is_not_null()
    return frame.with_columns(
        status=pl.when(invalid.is_not_null()).then(pl.lit("invalid"))
        .when(no_end).then(pl.lit("censored")).otherwise(pl.lit("valid")),
        reason=pl.coalesce(invalid, pl.when(no_end).then(pl.lit("no end time (neither arrived nor closed)"))),
        urban_rural=_urban_rural(rural_areas, classified_areas),
        never_attended=not_arrived & pl.col("dispatched_at").is_null(),
        cancelled=not_arrived & pl.col("dispatched_at").is_not_null(),
        recategorised=(pl.col("category_opening") != pl.col("category_closing")).fill_null(False),
        **{name: _minutes(start, end) for name, (start, end) in SEGMENTS.items()},
    )


def _urban_rural(rural_areas: Collection[str] | None, classified_areas: Collection[str] | None) -> pl.Expr:
    if rural_areas is None:
        return pl.lit(NOT_AVAILABLE)
    unclassified = pl.col("area_code").is_null()
    if classified_areas is not None:
        unclassified = unclassified | ~pl.col("area_code").is_in(list(classified_areas))
    return (pl.when(unclassified).then(pl.lit(NOT_AVAILABLE))
            .when(pl.col("area_code").is_in(list(rural_areas))).then(pl.lit("rural")).otherwise(pl.lit("urban")))


# -- the report ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResponseReport:
    """How incidents' time is spent and lost; ``statuses`` add up to ``incidents``."""

    incidents: int
    statuses: pl.DataFrame  # status, reason, incidents
    segments: pl.DataFrame  # breakdown, group, segment, incidents, median_minutes, p90_minutes
    emergency: pl.DataFrame  # urban_rural, target_minutes, emergency, attended, within_target, share_within_target
    counts: dict[str, int | str]  # never_attended, cancelled, recategorised, regraded
    clock_start: str
    notes: list[str] = field(default_factory=list)

    def status_count(self, status: str) -> int:
        return int(self.statuses.filter(pl.col("status") == status)["incidents"].sum())


def response_report(*, stores: Stores, datasets: list[str] | None = None, level: str | None = None,
                    clock_start: str = "received", rural_areas: Collection[str] | None = None,
                    emergency_grades: tuple[str, ...] = EMERGENCY_GRADES,
                    max_segment_hours: float = MAX_SEGMENT_HOURS) -> ResponseReport:
    """Segment medians and 90th percentiles, the emergency standard, and time lost counts."""
    if clock_start not in CLOCK_STARTS:
        raise UnknownChoiceError(field="clock start", value=clock_start, choices=list(CLOCK_STARTS),
                                 where="for response times")
    frame = classify_timelines(stores=stores, datasets=datasets, level=level, rural_areas=rural_areas,
                               max_segment_hours=max_segment_hours)
    rural_known = rural_areas is not None or stored_rural_urban(stores=stores, level=level) is not None
    return summarise_timelines(frame, clock_start=clock_start, emergency_grades=emergency_grades,
                               rural_known=rural_known)


def summarise_timelines(frame: pl.DataFrame, *, clock_start: str = "received",
                        emergency_grades: tuple[str, ...] = EMERGENCY_GRADES,
                        rural_known: bool = False) -> ResponseReport:
    """The report for incidents classified by ``timeline_status``."""
    statuses = (frame.group_by("status", "reason").agg(incidents=pl.len())
                .sort("status", "incidents", descending=[False, True]))
    counts: dict[str, int | str] = {
        name: int(frame[name].sum()) for name in ("never_attended", "cancelled", "recategorised")}
    counts["regraded"] = NOT_AVAILABLE  # the canonical event keeps one priority, not opening and closing
    return ResponseReport(
        incidents=frame.height, statuses=statuses, segments=segment_statistics(frame),
        emergency=emergency_attendance(frame, clock_start=clock_start, emergency_grades=emergency_grades),
        counts=counts, clock_start=clock_start, notes=_notes(rural_known),
    )


def segment_statistics(frame: pl.DataFrame) -> pl.DataFrame:
    """Median and 90th percentile minutes of each segment of valid incidents, by each breakdown."""
    valid = frame.filter(pl.col("status") == "valid").with_columns(all=pl.lit("all"))
    parts = []
    for breakdown in BREAKDOWNS:
        for segment in SEGMENTS:
            part = (valid.filter(pl.col(segment).is_not_null())
                    .group_by(pl.col(breakdown).cast(pl.String).fill_null(NOT_AVAILABLE).alias("group"))
                    .agg(incidents=pl.len(), median_minutes=pl.col(segment).median(),
                         p90_minutes=pl.col(segment).quantile(0.9, "linear")))
            parts.append(part.with_columns(breakdown=pl.lit(breakdown), segment=pl.lit(segment)))
    columns = ["breakdown", "group", "segment", "incidents", "median_minutes", "p90_minutes"]
    return (pl.concat([p.select(columns) for p in parts]) if parts else pl.DataFrame()).sort(
        "breakdown", "group", "segment")


def emergency_attendance(frame: pl.DataFrame, *, clock_start: str = "received",
                         emergency_grades: tuple[str, ...] = EMERGENCY_GRADES) -> pl.DataFrame:
    """Emergency incidents attended within 15 minutes (urban) or 20 (rural) of ``clock_start``.

    ``attended`` counts valid emergency incidents with an arrival and a clock start; the share is
    of those. ``emergency`` counts every emergency incident, whatever its status, so those not
    attended or with an invalid timeline are visible beside the share.
    """
    start = CLOCK_STARTS[clock_start]
    emergency = frame.filter(pl.col("grade").is_in(list(emergency_grades)))
    waited = _minutes(start, "arrived_at")
    target = pl.col("urban_rural").replace_strict(TARGET_MINUTES, return_dtype=pl.Int64)
    measured = (pl.col("status") == "valid") & waited.is_not_null()
    return (emergency.with_columns(target_minutes=target, measured=measured, waited=waited)
            .group_by("urban_rural", "target_minutes")
            .agg(emergency=pl.len(), attended=pl.col("measured").sum(),
                 within_target=(pl.col("measured") & (pl.col("waited") <= pl.col("target_minutes"))).sum())
            .with_columns(share_within_target=pl.when(pl.col("attended") > 0)
                          .then(pl.col("within_target") / pl.col("attended")).otherwise(None),
                          clock_start=pl.lit(clock_start))
            .sort("urban_rural"))


def _notes(rural_known: bool) -> list[str]:
    notes = ["Segments use valid incidents only; invalid and censored incidents are counted in statuses.",
             "Answered and created times are not canonical fields, so no segment starts or ends at them.",
             "Regrading needs the opening and closing priority; the canonical event keeps one, so it is not "
             "available. Recategorised counts incidents whose opening and closing category differ."]
    if not rural_known:
        notes.append("No urban/rural classification of areas is loaded (wholeplace load rural-urban), so the "
                     "urban/rural split is not available and every emergency incident is held to the urban "
                     "15 minutes.")
    return notes

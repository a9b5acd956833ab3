"""Not police business: incidents in the Right Care, Right Person (RCRP) categories.

The National Partnership Agreement names five kinds of demand where health and care, not the
police, should usually respond: concern for welfare; walking out of a healthcare setting;
absence without leave from mental health services; medical incidents; and the conveyance and
handover of people detained under section 136. Incidents are put into those categories by the
versioned table ``tables/rcrp-mapping.csv`` (canonical category, plus rules on qualifiers,
location type where a source records it, who raised the incident and its outcome), and each is
flagged where it meets the police threshold all the same (an emergency grade, or a crime).

Only public demand is classified by default: officer-initiated incidents are kept out, as they
are of public demand everywhere in Wholeplace. Categories the table does not know are listed with
their counts in every result (``unmapped``), never dropped, and every result names the table's
version.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from wholeplace.demand.response import EMERGENCY_GRADES, check_datasets, read_incidents
from wholeplace.errors import UserError
from wholeplace.model.categories import CATEGORIES
from wholeplace.overview import UnknownChoiceError
from wholeplace.store.stores import Stores

TABLE = Path(__file__).parent / "tables" / "rcrp-mapping.csv"
RCRP_MAPPING_VERSION = "rcrp-mapping 1 (NPA July 2023, updated April 2024)"
RCRP_CATEGORIES = {
    "concern_for_welfare": "Concern for welfare",
    "walked_out_of_healthcare": "Walked out of a healthcare setting",
    "awol_mental_health": "Absent without leave from mental health services",
    "medical": "Medical incident",
    "s136_conveyance_handover": "Conveyance and handover of people detained under s136",
}
CONDITIONS = ("flag", "raised_by", "location", "outcome")
HEALTH_CALLERS = ("HEALTH", "MENTAL HEALTH", "AMBULANCE", "NHS", "HOSPITAL", "A&E")
LOCATION_TYPES = {
    "healthcare": ("hospital", "emergency_department", "a&e", "healthcare", "mental_health_unit"),
    "mental_health_unit": ("mental_health_unit",),
}
CRIME_OUTCOMES = ("crime recorded", "arrest")
HANDOVER_EXPECTATION_MINUTES = 60
BASES = {"opening": "category_opening", "closing": "category_closing"}  # which category is classified


@dataclass(frozen=True)
class Rule:
    line: int
    category: str  # a canonical category, or "any"
    rcrp_category: str | None  # None: not a Right Care, Right Person category
    when: str  # "" for always, else "kind:value"
    note: str


@dataclass(frozen=True)
class HandoverWaits:
    """Waits to hand a person over to health against the one-hour expectation, or why there are none."""

    status: str  # "available" or "not available"
    reason: str
    expectation_minutes: int = HANDOVER_EXPECTATION_MINUTES


@dataclass(frozen=True)
class RcrpReport:
    """Right Care, Right Person demand for the incidents read; ``mapping_version`` names the table."""

    mapping_version: str
    incidents: int  # incidents classified (public demand unless officer-initiated were asked for)
    rcrp_incidents: int
    by_category: pl.DataFrame  # rcrp_category, label, incidents, share, above_threshold, officer_hours, ...
    monthly: pl.DataFrame  # month, rcrp_category, incidents (every month of the span)
    unmapped: pl.DataFrame  # category, incidents: categories the table does not know
    handover: HandoverWaits
    notes: list[str] = field(default_factory=list)

    @property
    def rcrp_share(self) -> float | None:
        return self.rcrp_incidents / self.incidents if self.incidents else None


# -- the mapping table ---------------------------------------------------------------------------

def load_rules(path: Path = TABLE) -> list[Rule]:
    """The rules of a mapping table, checked; every problem is reported at once with its line."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"category", "rcrp_category", "when"} - set(reader.fieldnames or ())
        if missing:
            raise UserError(f"{path}: line 1 lacks the column(s) {', '.join(sorted(missing))}.",
                            hint="The header must be: category,rcrp_category,when,note.")
        rows = [(number, row) for number, row in enumerate(reader, start=2)]
    problems = [p for number, row in rows for p in _row_problems(path, number, row)]
    if problems:
        raise UserError("The Right Care, Right Person mapping table has errors:\n" + "\n".join(problems),
                        hint="Fix the lines named above; src/wholeplace/demand/tables/README.md lists the values.")
    return [Rule(number, row["category"].strip(), row["rcrp_category"].strip() or None, row["when"].strip(),
                 (row.get("note") or "").strip()) for number, row in rows]


def _row_problems(path: Path, number: int, row: dict[str, str]) -> list[str]:
    where = f"  - {path.name}, line {number}"
    category, target, when = ((row.get(key) or "").strip() for key in ("category", "rcrp_category", "when"))
    problems = []
    if category != "any" and category not in CATEGORIES:
        problems.append(f"{where}, column 'category': '{category}' is not a canonical category.")
    if target and target not in RCRP_CATEGORIES:
        problems.append(f"{where}, column 'rcrp_category': '{target}' is not one of {', '.join(RCRP_CATEGORIES)}.")
    if when and (when.split(":", 1)[0] not in CONDITIONS or when.endswith(":")):
        problems.append(f"{where}, column 'when': '{when}' is not empty or one of "
                        f"{', '.join(c + ':VALUE' for c in CONDITIONS)}.")
    if category == "any" and not when:
        problems.append(f"{where}: an 'any' rule needs a condition in 'when'.")
    return problems


def _condition(when: str) -> pl.Expr:
    kind, _, value = when.partition(":")
    if kind == "flag":
        return pl.col(f"flag_{value}").fill_null(False)
    if kind == "raised_by":
        if value == "health":
            return pl.col("caller_type").is_in(list(HEALTH_CALLERS)).fill_null(False)
        return (pl.col("raised_by") == value).fill_null(False)
    if kind == "location":
        return pl.col("location_type").is_in(list(LOCATION_TYPES.get(value, (value,)))).fill_null(False)
    return pl.col("outcome").str.to_lowercase().str.contains(value.lower(), literal=True).fill_null(False)


def classify_expression(rules: list[Rule]) -> pl.Expr:
    """The RCRP category of each incident: its category's conditional rules in order, then the
    ``any`` rules, then its category's unconditional rule; null when none applies."""
    conditional = [r for r in rules if r.when and r.category != "any"]
    ordered = [(pl.col("category").eq(r.category) & _condition(r.when), r.rcrp_category) for r in conditional]
    ordered += [(_condition(r.when), r.rcrp_category) for r in rules if r.category == "any"]
    ordered += [(pl.col("category").eq(r.category), r.rcrp_category) for r in rules if not r.when]
    expression: pl.Expr = pl.lit(None, pl.String)
    for test, target in reversed(ordered):
        expression = pl.when(test).then(pl.lit(target, pl.String)).otherwise(expression)
    return expression


# -- classifying incidents ------------------------------------------------------------------------

def classify_incidents(*, stores: Stores, datasets: list[str] | None = None, basis: str = "opening",
                       include_self_initiated: bool = False, level: str | None = None,
                       emergency_grades: tuple[str, ...] = EMERGENCY_GRADES, table: Path = TABLE) -> pl.DataFrame:
    """One row per incident with its RCRP category (null: not RCRP), whether the table maps its
    category, whether it meets the police threshold and why, and its officer (unit) hours.

    ``basis`` chooses the category classified: ``opening`` (what the call was about at first
    contact, the default) or ``closing`` (what it turned out to be); ``category`` holds it.
    """
    if basis not in BASES:
        raise UnknownChoiceError(field="category basis", value=basis, choices=list(BASES), where="for RCRP")
    rules = load_rules(table)
    incidents = read_incidents(stores=stores, datasets=datasets, level=level)
    incidents = incidents.with_columns(category=pl.col(BASES[basis]))
    if not include_self_initiated:
        incidents = incidents.filter(pl.col("raised_by") != "officer")
    known = {r.category for r in rules}
    return incidents.with_columns(
        rcrp_category=classify_expression(rules),
        mapped=pl.col("category").is_in(list(known)),
        **_threshold(emergency_grades),
        officer_hours=_hours(),
    )


def _threshold(emergency_grades: tuple[str, ...]) -> dict[str, pl.Expr]:
    crimes = [code for code, c in CATEGORIES.items() if c.group == "crime"]
    emergency = pl.col("grade").is_in(list(emergency_grades)).fill_null(False)
    crime_category = pl.coalesce("category_closing", "category").is_in(crimes).fill_null(False)
    outcome = pl.col("outcome").str.to_lowercase()
    crime_outcome = pl.any_horizontal([outcome.str.contains(t, literal=True) for t in CRIME_OUTCOMES]).fill_null(False)
    reason = (pl.when(emergency).then(pl.lit("emergency grade"))
              .when(crime_category).then(pl.lit("crime (closing category)"))
              .when(crime_outcome).then(pl.lit("crime (outcome)")).otherwise(pl.lit(None, pl.String)))
    return {"police_threshold": emergency | crime_category | crime_outcome, "threshold_reason": reason}


def _hours() -> pl.Expr:
    """Deployment hours: dispatch (else arrival) to close, where both exist and are in order."""
    start = pl.coalesce("dispatched_at", "arrived_at")
    seconds = (pl.col("closed_at") - start).dt.total_seconds()
    return pl.when(seconds >= 0).then(seconds / 3600.0).otherwise(None)


# -- the report -----------------------------------------------------------------------------------

def rcrp_report(*, stores: Stores, datasets: list[str] | None = None, basis: str = "opening",
                include_self_initiated: bool = False,
                emergency_grades: tuple[str, ...] = EMERGENCY_GRADES) -> RcrpReport:
    """Volume, officer hours, monthly trend, share raised by another agency and unmapped categories."""
    check_datasets(stores=stores, datasets=datasets)
    frame = classify_incidents(stores=stores, datasets=datasets, basis=basis,
                               include_self_initiated=include_self_initiated, emergency_grades=emergency_grades)
    rcrp = frame.filter(pl.col("rcrp_category").is_not_null())
    return RcrpReport(
        mapping_version=RCRP_MAPPING_VERSION, incidents=frame.height, rcrp_incidents=rcrp.height,
        by_category=_by_category(rcrp, frame.height), monthly=_monthly(frame),
        unmapped=_unmapped(frame), handover=handover_waits(frame), notes=_notes(frame, include_self_initiated),
    )


def _by_category(rcrp: pl.DataFrame, total: int) -> pl.DataFrame:
    known = pl.col("raised_by").is_in(["public", "agency"])
    grouped = rcrp.group_by("rcrp_category").agg(
        incidents=pl.len(), above_threshold=pl.col("police_threshold").sum(),
        officer_hours=pl.col("officer_hours").sum(), incidents_with_hours=pl.col("officer_hours").count(),
        raised_by_agency=(pl.col("raised_by") == "agency").sum(), raised_by_known=known.sum(),
    )
    every = pl.DataFrame({"rcrp_category": list(RCRP_CATEGORIES), "label": list(RCRP_CATEGORIES.values())})
    return every.join(grouped, on="rcrp_category", how="left").with_columns(
        pl.col("incidents", "above_threshold", "incidents_with_hours", "raised_by_agency", "raised_by_known")
        .fill_null(0).cast(pl.Int64),
        pl.col("officer_hours").fill_null(0.0),
    ).with_columns(
        share=pl.col("incidents") / total if total else pl.lit(None, pl.Float64),
        share_raised_by_agency=pl.when(pl.col("raised_by_known") > 0)
        .then(pl.col("raised_by_agency") / pl.col("raised_by_known")).otherwise(None),
    )


def _monthly(frame: pl.DataFrame) -> pl.DataFrame:
    schema = {"month": pl.Date, "rcrp_category": pl.String, "incidents": pl.Int64}
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    first, last = frame["month"].min(), frame["month"].max()
    months = pl.DataFrame({"month": pl.date_range(first, last, "1mo", eager=True)})  # type: ignore[arg-type]
    grid = months.join(pl.DataFrame({"rcrp_category": list(RCRP_CATEGORIES)}), how="cross")
    counts = (frame.filter(pl.col("rcrp_category").is_not_null())
              .group_by("month", "rcrp_category").agg(incidents=pl.len()))
    return (grid.join(counts, on=["month", "rcrp_category"], how="left")
            .with_columns(pl.col("incidents").fill_null(0).cast(pl.Int64)).sort("month", "rcrp_category"))


def _unmapped(frame: pl.DataFrame) -> pl.DataFrame:
    return (frame.filter(~pl.col("mapped")).group_by("category").agg(incidents=pl.len())
            .sort("incidents", "category", descending=[True, False]))


def handover_waits(frame: pl.DataFrame) -> HandoverWaits:
    """The canonical event has no time of handover to a place of safety, so no wait can be
    measured; a section 136 incident's deployment hours include travel and time on scene."""
    s136 = frame.filter(pl.col("rcrp_category") == "s136_conveyance_handover").height
    return HandoverWaits(
        status="not available",
        reason=(f"{s136} section 136 incidents found, but no dataset records when a detained person arrived at "
                "the place of safety and when health took them over, so waits against the one-hour expectation "
                "cannot be measured. A partner feed with arrival and handover times would make it available."),
    )


def _notes(frame: pl.DataFrame, include_self_initiated: bool) -> list[str]:
    notes = ["Officer hours are deployment hours of the first resource (dispatch, else arrival, to close); "
             "incidents without those times count in volume but not in hours."]
    if not include_self_initiated:
        notes.append("Officer-initiated incidents are left out: this is public demand.")
    unknown = frame.filter(pl.col("raised_by") == "unknown").height
    if unknown:
        notes.append(f"{unknown} incidents do not say who raised them; the share raised by another agency is of "
                     "the incidents that do.")
    return notes

"""The demo force's incident types, with the rates and traits each is generated with.

Rates are incidents per resident per year. Together they make about 0.34 incidents per
resident per year, about 9 % officer-initiated, and about a fifth of public demand is
concern for welfare, mental health, missing persons, walk-outs from care, sudden deaths
and medical incidents: the "Right Care, Right Person" categories (see docs/demo-place.md
for the sources).
"""

from __future__ import annotations

from dataclasses import dataclass

from wholeplace.synth.demand import Demand


@dataclass(frozen=True)
class CallType:
    demand: Demand
    category: str  # Wholeplace category (model/categories.py)
    family: str  # welfare / crime / asb / traffic / other / proactive: closing types stay in the family
    grades: tuple[float, float, float, float]  # shares of G1..G4
    mental_health: float = 0.0  # probability of the MH qualifier
    alcohol: float = 0.0
    domestic: float = 0.0
    person: float = 0.0  # probability that the person concerned is recorded
    agency: float = 0.0  # share reported by another agency rather than the public
    agency_kinds: tuple[str, ...] = ("HEALTH", "SOCIAL CARE", "COUNCIL")


def _t(name: str, rate: float, category: str, family: str, grades: tuple[float, float, float, float],
       **traits: object) -> CallType:
    demand_keys = {"profile", "season", "peak_month", "deprivation", "centre", "rural", "driver", "premises",
                   "premises_share"}
    demand = Demand(name, rate, **{k: v for k, v in traits.items() if k in demand_keys})  # type: ignore[arg-type]
    return CallType(demand, category, family, grades, **{k: v for k, v in traits.items()  # type: ignore[arg-type]
                                                          if k not in demand_keys})


WELFARE_AGENCIES = ("HEALTH", "MENTAL HEALTH", "SOCIAL CARE")
CALL_TYPES: tuple[CallType, ...] = (
    _t("CONCERN FOR SAFETY", 0.028, "concern_for_welfare", "welfare", (0.2, 0.5, 0.2, 0.1), mental_health=0.4,
       alcohol=0.15, domestic=0.05, person=0.9, agency=0.55, agency_kinds=WELFARE_AGENCIES, deprivation=0.45,
       premises="care_home", premises_share=0.05),
    _t("MENTAL HEALTH", 0.013, "mental_health", "welfare", (0.25, 0.5, 0.15, 0.1), mental_health=1.0, alcohol=0.2,
       person=0.95, agency=0.4, agency_kinds=("MENTAL HEALTH", "HEALTH"), deprivation=0.5, premises="mh_unit",
       premises_share=0.1),
    _t("SUICIDAL/SELF HARM THREAT", 0.006, "suicide_threat", "welfare", (0.6, 0.35, 0.05, 0.0), mental_health=1.0,
       alcohol=0.3, person=1.0, agency=0.2, agency_kinds=("MENTAL HEALTH", "HEALTH"), deprivation=0.5),
    _t("MISSING PERSON", 0.010, "missing_person", "welfare", (0.15, 0.55, 0.25, 0.05), mental_health=0.25,
       person=1.0, agency=0.35, agency_kinds=("SOCIAL CARE",), premises="care_home", premises_share=0.25),
    _t("AWOL/ABSCONDER", 0.004, "absent_from_care", "welfare", (0.1, 0.6, 0.25, 0.05), mental_health=0.6,
       person=1.0, agency=0.9, agency_kinds=("HEALTH", "MENTAL HEALTH"), premises="hospital", premises_share=0.5),
    _t("SUDDEN DEATH", 0.0015, "sudden_death", "welfare", (0.3, 0.6, 0.1, 0.0), person=0.9, agency=0.5,
       agency_kinds=("HEALTH",), deprivation=0.2),
    _t("MEDICAL EMERGENCY", 0.004, "medical_emergency", "welfare", (0.5, 0.4, 0.05, 0.05), person=0.6, agency=0.6,
       agency_kinds=("HEALTH",)),
    _t("DOMESTIC INCIDENT", 0.022, "domestic_incident", "crime", (0.3, 0.5, 0.15, 0.05), domestic=1.0, alcohol=0.3,
       person=0.9, profile="night", deprivation=0.45),
    _t("ASB - PERSONAL", 0.012, "anti_social_behaviour", "asb", (0.05, 0.35, 0.35, 0.25), profile="night",
       season=0.2),
    _t("ASB - NUISANCE", 0.028, "anti_social_behaviour", "asb", (0.03, 0.3, 0.37, 0.3), profile="night",
       season=0.22, centre=2.0),
    _t("ASB - ENVIRONMENTAL", 0.004, "anti_social_behaviour", "asb", (0.0, 0.1, 0.4, 0.5), season=0.15),
    _t("BURGLARY - RESIDENTIAL", 0.007, "burglary", "crime", (0.25, 0.45, 0.25, 0.05), season=0.1, peak_month=12,
       deprivation=0.35, driver=1.8),
    _t("THEFT", 0.016, "other_theft", "crime", (0.02, 0.2, 0.38, 0.4)),
    _t("SHOPLIFTING", 0.007, "shoplifting", "crime", (0.05, 0.35, 0.4, 0.2), centre=3.0, premises="shop",
       premises_share=0.7),
    _t("VEHICLE CRIME", 0.006, "vehicle_crime", "crime", (0.03, 0.2, 0.4, 0.37), profile="night"),
    _t("ASSAULT", 0.018, "violence_sexual_offences", "crime", (0.35, 0.45, 0.15, 0.05), alcohol=0.35,
       profile="night", season=0.15, centre=3.0, premises="pub", premises_share=0.15),
    _t("CRIMINAL DAMAGE", 0.011, "criminal_damage_arson", "crime", (0.05, 0.3, 0.4, 0.25), profile="night"),
    _t("PUBLIC ORDER", 0.006, "public_order", "crime", (0.2, 0.5, 0.2, 0.1), alcohol=0.4, profile="night",
       centre=3.0, premises="pub", premises_share=0.2),
    _t("DRUNK PERSON", 0.005, "intoxication", "other", (0.2, 0.5, 0.2, 0.1), alcohol=1.0, profile="night",
       centre=4.0, premises="pub", premises_share=0.3),
    _t("DISTURBANCE", 0.010, "disturbance", "asb", (0.15, 0.5, 0.25, 0.1), alcohol=0.3, profile="night",
       season=0.18, centre=2.5),
    _t("SUSPICIOUS CIRCUMSTANCES", 0.022, "suspicious_circumstances", "other", (0.1, 0.4, 0.3, 0.2)),
    _t("ROAD TRAFFIC COLLISION", 0.010, "traffic_collision", "traffic", (0.3, 0.45, 0.15, 0.1), rural=1.3,
       deprivation=0.0),
    _t("HIGHWAY DISRUPTION", 0.008, "traffic_other", "traffic", (0.1, 0.4, 0.3, 0.2), rural=1.4, deprivation=0.0),
    _t("ALARM", 0.006, "alarm", "other", (0.05, 0.45, 0.3, 0.2), deprivation=0.0),
    _t("ABANDONED/SILENT CALL", 0.016, "hoax_abandoned", "other", (0.0, 0.05, 0.15, 0.8)),
    _t("LOST/FOUND PROPERTY", 0.005, "lost_found_property", "other", (0.0, 0.0, 0.2, 0.8), deprivation=0.0),
    _t("ASSIST OTHER AGENCY", 0.008, "assist_other_agency", "other", (0.1, 0.5, 0.3, 0.1), agency=0.9),
    _t("CIVIL DISPUTE", 0.006, "civil_dispute", "other", (0.0, 0.1, 0.3, 0.6)),
    _t("INFORMATION/ADVICE", 0.012, "information", "other", (0.0, 0.0, 0.1, 0.9)),
    _t("PROACTIVE PATROL", 0.012, "police_activity", "proactive", (0.0, 0.2, 0.6, 0.2), centre=2.0),
    _t("STOP SEARCH", 0.006, "police_activity", "proactive", (0.0, 0.3, 0.6, 0.1), profile="night", centre=2.5),
    _t("TRAFFIC STOP", 0.008, "traffic_other", "proactive", (0.0, 0.2, 0.7, 0.1), rural=1.2, deprivation=0.0),
    _t("DRUGS", 0.004, "drugs", "proactive", (0.0, 0.3, 0.6, 0.1), profile="night", centre=2.0),
    _t("PRE-PLANNED EVENT", 0.002, "police_activity", "proactive", (0.0, 0.0, 1.0, 0.0), deprivation=0.0),
)
COHORT_CALL_TYPES = ("CONCERN FOR SAFETY", "MENTAL HEALTH", "SUICIDAL/SELF HARM THREAT", "MISSING PERSON",
                     "AWOL/ABSCONDER")
COHORT_CALL_WEIGHTS = (0.35, 0.35, 0.15, 0.1, 0.05)

DISPOSITIONS = {
    "welfare": ("Attended - person safe and well", "Attended - handed to partner agency",
                "Attended - conveyed to hospital", "Section 136 MHA", "No trace"),
    "crime": ("Crime recorded", "Crime recorded - arrest", "No crime - advice given", "No trace"),
    "asb": ("ASB recorded - advice given", "Words of advice", "Referred to council", "No trace"),
    "traffic": ("Road cleared", "Collision recorded", "No trace"),
    "other": ("Advice given", "No further action", "Duplicate", "No trace"),
    "proactive": ("Intelligence submitted", "Stop search - no further action", "Arrest", "No further action"),
}
AGENCY_PHONES = {"HEALTH": "01632960001", "MENTAL HEALTH": "01632960002", "SOCIAL CARE": "01632960003",
                 "COUNCIL": "01632960004"}


def call_type(name: str) -> CallType:
    return next(t for t in CALL_TYPES if t.demand.source_value == name)

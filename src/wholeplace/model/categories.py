"""The canonical category taxonomy every source's categories are mapped to.

Sources map their own codes to these through versioned category tables (CSV files of
``source_value,category``). Groups let analyses roll categories up: crime, anti-social
behaviour, public safety and welfare, health, council, referral, police activity.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    group: str


_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    # data.police.uk crime types
    ("anti_social_behaviour", "Anti-social behaviour", "anti_social_behaviour"),
    ("bicycle_theft", "Bicycle theft", "crime"),
    ("burglary", "Burglary", "crime"),
    ("criminal_damage_arson", "Criminal damage and arson", "crime"),
    ("drugs", "Drugs", "crime"),
    ("other_crime", "Other crime", "crime"),
    ("other_theft", "Other theft", "crime"),
    ("possession_of_weapons", "Possession of weapons", "crime"),
    ("public_order", "Public order", "crime"),
    ("robbery", "Robbery", "crime"),
    ("shoplifting", "Shoplifting", "crime"),
    ("theft_from_the_person", "Theft from the person", "crime"),
    ("vehicle_crime", "Vehicle crime", "crime"),
    ("violence_sexual_offences", "Violence and sexual offences", "crime"),
    # calls for service: public safety and welfare
    ("concern_for_welfare", "Concern for welfare", "public_safety_welfare"),
    ("mental_health", "Mental health crisis", "public_safety_welfare"),
    ("missing_person", "Missing person", "public_safety_welfare"),
    ("absent_from_care", "Walked out of hospital or care (AWOL, absconder)", "public_safety_welfare"),
    ("sudden_death", "Sudden death", "public_safety_welfare"),
    ("suicide_threat", "Suicide or self-harm threat", "public_safety_welfare"),
    ("medical_emergency", "Medical emergency", "public_safety_welfare"),
    ("domestic_incident", "Domestic incident", "public_safety_welfare"),
    ("intoxication", "Drunk or intoxicated person", "public_safety_welfare"),
    ("suspicious_circumstances", "Suspicious circumstances", "public_safety_welfare"),
    ("disturbance", "Disturbance or fight", "public_safety_welfare"),
    ("civil_dispute", "Civil dispute", "public_safety_welfare"),
    ("alarm", "Alarm", "public_safety_welfare"),
    ("traffic_collision", "Road traffic collision", "traffic"),
    ("traffic_other", "Traffic and highways", "traffic"),
    ("crime_report", "Crime reported by call", "crime"),
    ("lost_found_property", "Lost or found property", "other"),
    ("assist_other_agency", "Assist another agency", "other"),
    ("hoax_abandoned", "Hoax, abandoned or silent call", "other"),
    ("information", "Information or advice", "other"),
    ("police_activity", "Officer-initiated or administrative activity", "police_activity"),
    # ambulance and urgent care
    ("ambulance_falls", "Fall", "health"),
    ("ambulance_breathing", "Breathing problems", "health"),
    ("ambulance_chest_pain", "Chest pain or cardiac", "health"),
    ("ambulance_injury", "Injury or assault", "health"),
    ("ambulance_overdose", "Overdose or poisoning", "health"),
    ("ambulance_mental_health", "Mental health or self-harm", "health"),
    ("ambulance_alcohol", "Alcohol intoxication", "health"),
    ("ambulance_other", "Other ambulance incident", "health"),
    ("ae_injury", "A&E attendance: injury", "health"),
    ("ae_assault", "A&E attendance: assault", "health"),
    ("ae_self_harm", "A&E attendance: self-harm", "health"),
    ("ae_alcohol", "A&E attendance: alcohol", "health"),
    ("ae_mental_health", "A&E attendance: mental health", "health"),
    ("ae_other", "A&E attendance: other", "health"),
    ("crisis_contact", "Mental health crisis service contact", "health"),
    ("crisis_assessment", "Mental health crisis assessment", "health"),
    ("s136_detention", "Section 136 place of safety", "health"),
    # council
    ("council_noise", "Noise nuisance", "council"),
    ("council_fly_tipping", "Fly-tipping", "council"),
    ("council_housing_disrepair", "Housing disrepair or hazard", "council"),
    ("council_asb", "Anti-social behaviour reported to the council", "council"),
    ("council_environmental", "Environmental health", "council"),
    ("council_pests", "Pests", "council"),
    ("council_graffiti", "Graffiti and vandalism", "council"),
    ("council_other", "Other council report", "council"),
    # referrals
    ("referral", "Referral between agencies", "referral"),
    ("uncategorised", "Not yet categorised", "other"),
)

CATEGORIES: dict[str, Category] = {code: Category(code, label, group) for code, label, group in _CATEGORIES}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in CATEGORIES.values()))


def category_label(code: str) -> str:
    category = CATEGORIES.get(code)
    return category.label if category else code

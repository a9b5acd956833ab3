"""Generating the whole demo place in memory: geography, people, cohort and every partner's data.

The order matters only for what depends on what (addresses need areas, the cohort needs
people, A&E needs the ambulance conveyances, the crisis service needs the incidents the
street triage pilot took from the police); each part draws from its own seeded stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from wholeplace.synth.addresses import build_addresses
from wholeplace.synth.ae import generate_ae
from wholeplace.synth.ambulance import generate_ambulance
from wholeplace.synth.cohort import choose_cohort, cohort_for, plan_cohort_events
from wholeplace.synth.council import generate_council
from wholeplace.synth.crime import generate_crime
from wholeplace.synth.crisis import generate_crisis
from wholeplace.synth.demand import month_starts
from wholeplace.synth.people import build_people
from wholeplace.synth.place import Place, build_place
from wholeplace.synth.police_calls import Intervention, generate_calls

PERIOD_START = "2023-01"
PERIOD_MONTHS = 24
INTERVENTION_START = "2024-01"
INTERVENTION_KEEP = 0.7  # street triage: police mental-health incidents fall by 30 %

# Dataset codes, as the mapping files and the police.uk adapter name them.
POLICE_CALLS = "demo-police-calls"
POLICE_UK = "police-uk-street-wenlow-vale-constabulary"
AMBULANCE = "demo-ambulance-incidents"
AE = "demo-ae-attendances"
CRISIS = "demo-crisis-contacts"
COUNCIL = "demo-council-reports"
RECORD_ID = {POLICE_CALLS: "incident_ref", AMBULANCE: "incident_number", AE: "attendance_id",
             CRISIS: "contact_id", COUNCIL: "case_ref"}


@dataclass(frozen=True)
class DemoData:
    seed: int
    scale: float
    months: np.ndarray
    place: Place
    addresses: pl.DataFrame
    snaps: pl.DataFrame
    people: pl.DataFrame
    cohort: pl.DataFrame
    intervention: Intervention
    datasets: dict[str, pl.DataFrame]  # dataset code → rows (partner columns + internal "_" columns)


def generate(seed: int, scale: float, step=lambda name: None) -> DemoData:  # type: ignore[no-untyped-def]
    """The whole place for a seed; ``scale`` multiplies event volumes only. ``step`` is told
    each stage's name, for progress reporting."""
    months = month_starts(PERIOD_START, PERIOD_MONTHS)
    years = tuple(range(int(str(months[0])[:4]) - 1, int(str(months[-1])[:4]) + 1))
    step("place")
    place = build_place(seed, years)
    addresses, snaps = build_addresses(seed, place)
    people = build_people(seed, place, addresses)
    cohort = choose_cohort(seed, place, people, scale)
    plan = plan_cohort_events(seed, cohort, months)
    intervention = Intervention(place.areas["intervention"].to_numpy(),
                                np.datetime64(f"{INTERVENTION_START}-01T00:00:00", "us"), INTERVENTION_KEEP)
    common: dict[str, Any] = {"seed": seed, "place": place, "months": months, "scale": scale}
    step("police")
    calls, prevented = generate_calls(addresses=addresses, people=people, cohort=cohort_for(plan, "police"),
                                      intervention=intervention, **common)
    crime = generate_crime(addresses=addresses, snaps=snaps, **common)
    step("health")
    ambulance = generate_ambulance(addresses=addresses, people=people, cohort=cohort_for(plan, "ambulance"), **common)
    ae = generate_ae(people=people, cohort=cohort_for(plan, "ae"), ambulance=ambulance, **common)
    crisis = generate_crisis(people=people, cohort=cohort_for(plan, "crisis"), triaged=prevented, **common)
    step("council")
    council = generate_council(addresses=addresses, people=people, **common)
    datasets = {POLICE_CALLS: calls, POLICE_UK: crime, AMBULANCE: ambulance, AE: ae, CRISIS: crisis, COUNCIL: council}
    return DemoData(seed, scale, months, place, addresses, snaps, people, cohort, intervention, datasets)

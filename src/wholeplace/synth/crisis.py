"""The demo mental-health trust's crisis service contacts.

About 0.025 contacts per resident per year (telephone triage, crisis assessments, home
treatment, liaison psychiatry and section 136 assessments), strongly patterned by
deprivation, plus the cohort's planned contacts. From the street triage pilot's start,
most mental-health incidents the police no longer attend in the pilot areas appear here
instead, as joint street triage responses referred by the police.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wholeplace.model.schemas.demo import DEMO_CRISIS
from wholeplace.synth.demand import Demand, draw_events
from wholeplace.synth.frames import add_minutes, running_numbers
from wholeplace.synth.identity import Recording, written_dates, written_names, written_nhs_numbers
from wholeplace.synth.people import ages_at, pick_residents, propensity
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, rng_for

RECORDING = Recording(nickname=0.05, typo=0.02, dob_missing=0.0, nhs_missing=0.02)
# contact type, rate, team, category, median minutes
CONTACTS: tuple[tuple[Demand, str, str, float], ...] = (
    (Demand("Telephone triage", 0.012, "health", 0.0, 1, 0.6), "Crisis Resolution and Home Treatment",
     "crisis_contact", 25.0),
    (Demand("Face-to-face crisis assessment", 0.007, "health", 0.0, 1, 0.6), "Crisis Resolution and Home Treatment",
     "crisis_assessment", 75.0),
    (Demand("Home treatment visit", 0.0045, "health", 0.0, 1, 0.6), "Crisis Resolution and Home Treatment",
     "crisis_contact", 50.0),
    (Demand("Liaison psychiatry assessment", 0.001, "night", 0.0, 1, 0.6), "Liaison Psychiatry",
     "crisis_assessment", 90.0),
    (Demand("Section 136 assessment", 0.0006, "night", 0.1, 7, 0.6), "Crisis Resolution and Home Treatment",
     "s136_detention", 240.0),
    (Demand("Street triage joint response", 0.0, "night"), "Street Triage", "crisis_assessment", 60.0),
)
STREET_TRIAGE = len(CONTACTS) - 1
TRIAGED = 0.8  # share of prevented police mental-health incidents met by street triage instead
REFERRERS = (("Self", 0.3), ("GP", 0.2), ("Police", 0.15), ("A&E", 0.15), ("Family or carer", 0.15),
             ("Ambulance", 0.05))
OUTCOMES = ("Home treatment", "Admitted - informal", "Admitted - detained under MHA",
            "Referred to community mental health team", "No further action", "Signposted to voluntary sector")
COHORT_WEIGHTS = (0.35, 0.25, 0.3, 0.05, 0.05, 0.0)


def generate_crisis(*, seed: int, place: Place, people: pl.DataFrame, months: np.ndarray, scale: float,
                    cohort: pl.DataFrame, triaged: pl.DataFrame) -> pl.DataFrame:
    rng = rng_for(seed, "crisis")
    demands = [c[0] for c in CONTACTS]
    events = draw_events(rng, place, months, demands, scale)
    age = ages_at(people["birth_date"], np.full(people.height, np.datetime64("2024-01-01")))
    adults = np.where(age >= 16, 1.0, 0.05)
    events = events.select("at", "demand").with_columns(
        person=pick_residents(rng, people, events["area"].to_numpy(), propensity(rng, people.height, 0.25) * adults),
        cohort_id=pl.lit(None, pl.String))
    planned = cohort.select("at", "person", "cohort_id").with_columns(
        demand=pl.Series(choose(rng, len(CONTACTS), COHORT_WEIGHTS, cohort.height)).cast(pl.Int64))
    kept = triaged.filter(pl.Series(rng.random(triaged.height) < TRIAGED))
    street = kept.select("at", "person", "cohort_id").with_columns(demand=pl.lit(STREET_TRIAGE, pl.Int64))
    rows = pl.concat([events, planned, street], how="diagonal").sort("at", "person", "demand")
    return _as_extract(rng, rows, place, people)


def _as_extract(rng: np.random.Generator, rows: pl.DataFrame, place: Place, people: pl.DataFrame) -> pl.DataFrame:
    count = rows.height
    demand = rows["demand"].to_numpy()
    person = people[rows["person"].to_numpy()]
    start = rows["at"].dt.truncate("1m")
    minutes = rng.lognormal(np.log(np.array([c[3] for c in CONTACTS])[demand]), 0.4)
    end = add_minutes(start, minutes)
    forename, surname = written_names(rng, person["forename"].to_list(), person["surname"].to_list(), RECORDING)
    referrer = np.array([r for r, _ in REFERRERS])[choose(rng, len(REFERRERS), [w for _, w in REFERRERS], count)]
    police = (demand == STREET_TRIAGE) | (demand == 4)
    frame = pl.DataFrame({
        "contact_id": _ids(start), "contact_start": start.dt.strftime("%d/%m/%Y %H:%M"),
        "contact_end": end.dt.strftime("%d/%m/%Y %H:%M"),
        "team": [CONTACTS[d][1] for d in demand], "contact_type": [CONTACTS[d][0].source_value for d in demand],
        "referral_source": np.where(police, "Police", referrer),
        "nhs_number": written_nhs_numbers(rng, person["nhs_number"].to_list(), RECORDING),
        "forename": forename, "surname": surname,
        "date_of_birth": written_dates(rng, person["birth_date"], RECORDING, "%d/%m/%Y"),
        "postcode": person["postcode"], "lsoa": place.areas["code"].to_numpy()[person["area"].to_numpy()],
        "outcome": np.array(OUTCOMES)[rng.integers(0, len(OUTCOMES), count)],
    })
    assert frame.columns == DEMO_CRISIS.column_names
    return frame.with_columns(_person=rows["person"], _area=person["area"], _cohort=rows["cohort_id"], _at=start,
                              _category=pl.Series([CONTACTS[d][2] for d in demand]))


def _ids(start: pl.Series) -> list[str]:
    year = start.dt.strftime("%y")
    return [f"CRS{y}-{n:06d}" for y, n in zip(year.to_list(), running_numbers(year), strict=True)]

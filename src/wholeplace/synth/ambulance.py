"""The demo ambulance service's 999 incidents.

About 0.15 incidents per resident per year. Falls come mostly from people over 65,
mental-health, overdose and alcohol incidents from deprived areas and the cohort. Each
incident has a response category, times that follow it, and an outcome: hear and treat,
see and treat, or conveyance, and conveyances to the emergency department become A&E
attendances of the same patient (ae.py).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wholeplace.model.schemas.demo import DEMO_AMBULANCE
from wholeplace.synth.demand import Demand, draw_events, locate_events
from wholeplace.synth.frames import running_numbers, time_text
from wholeplace.synth.geometry import xy_to_grid
from wholeplace.synth.identity import Recording, written_dates, written_names, written_nhs_numbers
from wholeplace.synth.people import ages_at, pick_residents, propensity
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, rng_for

RECORDING = Recording(nickname=0.05, typo=0.05, dob_missing=0.12, dob_swapped=0.01, nhs_missing=0.4)
# complaint, category, age group, A&E complaint group if conveyed, (C1, C2, C3, C4) shares
COMPLAINTS: tuple[tuple[Demand, str, str, str, tuple[float, ...]], ...] = (
    (Demand("17 - Falls", 0.024, "health", 0.08, 1, 0.1), "ambulance_falls", "old", "Injury", (0.02, 0.4, 0.45, 0.13)),
    (Demand("06 - Breathing problems", 0.018, "health", 0.15, 1, 0.35), "ambulance_breathing", "older", "Illness",
     (0.1, 0.75, 0.12, 0.03)),
    (Demand("10 - Chest pain", 0.015, "health", 0.05, 1, 0.3), "ambulance_chest_pain", "older", "Illness",
     (0.05, 0.85, 0.08, 0.02)),
    (Demand("26 - Sick person", 0.030, "health", 0.06, 1, 0.3), "ambulance_other", "older", "Illness",
     (0.01, 0.35, 0.45, 0.19)),
    (Demand("31 - Unconscious/fainting", 0.012, "health", 0.0, 1, 0.2), "ambulance_other", "any", "Illness",
     (0.3, 0.6, 0.08, 0.02)),
    (Demand("09 - Cardiac/respiratory arrest", 0.002, "health", 0.1, 1, 0.3), "ambulance_chest_pain", "older",
     "Illness", (1.0, 0.0, 0.0, 0.0)),
    (Demand("28 - Stroke", 0.006, "health", 0.05, 1, 0.2), "ambulance_other", "older", "Illness",
     (0.0, 0.95, 0.05, 0.0)),
    (Demand("04 - Assault/sexual assault", 0.005, "night", 0.15, 7, 0.5, 3.0), "ambulance_injury", "adult", "Assault",
     (0.05, 0.55, 0.35, 0.05)),
    (Demand("30 - Traumatic injuries", 0.010, "health", 0.1, 7, 0.2), "ambulance_injury", "any", "Injury",
     (0.03, 0.45, 0.42, 0.1)),
    (Demand("29 - Road traffic collision", 0.003, "police", 0.0, 7, 0.0, rural=1.3), "ambulance_injury", "adult",
     "Injury", (0.15, 0.6, 0.2, 0.05)),
    (Demand("23 - Overdose/poisoning", 0.005, "night", 0.0, 7, 0.6), "ambulance_overdose", "adult", "Self-harm",
     (0.1, 0.7, 0.18, 0.02)),
    (Demand("25 - Psychiatric/suicide attempt", 0.009, "night", 0.0, 7, 0.6), "ambulance_mental_health", "adult",
     "Mental health", (0.05, 0.55, 0.35, 0.05)),
    (Demand("ALC - Alcohol intoxication", 0.006, "night", 0.12, 7, 0.4, 4.0, premises="pub", premises_share=0.2),
     "ambulance_alcohol", "adult", "Alcohol", (0.02, 0.4, 0.45, 0.13)),
    (Demand("12 - Convulsions/fitting", 0.005, "health", 0.0, 1, 0.3), "ambulance_other", "any", "Illness",
     (0.2, 0.7, 0.08, 0.02)),
)
COHORT_COMPLAINTS = ("25 - Psychiatric/suicide attempt", "23 - Overdose/poisoning", "ALC - Alcohol intoxication",
                     "04 - Assault/sexual assault")
COHORT_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
ALCOHOL = [c[0].source_value for c in COMPLAINTS].index("ALC - Alcohol intoxication")
AT_HOME = {"old": 0.95, "older": 0.9, "any": 0.75, "adult": 0.55}
# Response time medians in minutes by ARP category (C1 mean target 7 min, C2 18 min, C3 120, C4 180).
RESPONSE_MINUTES = (8.0, 32.0, 95.0, 160.0)
OUTCOMES = ("Hear and treat", "See and treat", "See and convey - ED", "See and convey - other")


def age_weight(group: str, age: np.ndarray) -> np.ndarray:
    if group == "old":
        return np.select([age >= 75, age >= 65], [10.0, 4.0], 0.3)
    if group == "older":
        return np.select([age >= 75, age >= 55, age < 5], [3.0, 2.0, 1.5], 0.7)
    if group == "adult":
        return np.where((age >= 16) & (age < 65), 1.0, 0.1)
    return np.ones(len(age))


def generate_ambulance(*, seed: int, place: Place, addresses: pl.DataFrame, people: pl.DataFrame, months: np.ndarray,
                       scale: float, cohort: pl.DataFrame) -> pl.DataFrame:
    """Every incident in the extract's layout, plus ``_person``, ``_area``, ``_cohort``, ``_category``,
    ``_ae_group`` and ``_handover`` (arrival time at A&E for conveyances to the ED)."""
    rng = rng_for(seed, "ambulance")
    demands = [c[0] for c in COMPLAINTS]
    events = locate_events(rng, draw_events(rng, place, months, demands, scale), demands, addresses)
    events = events.with_columns(person=_patients(rng, events, people), cohort_id=pl.lit(None, pl.String))
    names = [d.source_value for d in demands]
    kinds = choose(rng, len(COHORT_COMPLAINTS), COHORT_WEIGHTS, cohort.height)
    planned = cohort.select("area", "month", "at", "address", "person", "cohort_id").with_columns(
        demand=pl.Series([names.index(COHORT_COMPLAINTS[k]) for k in kinds], dtype=pl.Int64))
    events = pl.concat([events, planned], how="diagonal").sort("at", "address", "demand")
    return _as_extract(rng, events, addresses, people)


def _patients(rng: np.random.Generator, events: pl.DataFrame, people: pl.DataFrame) -> np.ndarray:
    age = ages_at(people["birth_date"], np.full(people.height, np.datetime64("2024-01-01")))
    base = propensity(rng, people.height, 0.35)
    group = np.array([COMPLAINTS[d][2] for d in events["demand"].to_list()])
    patient = np.zeros(events.height, dtype=np.int64)
    for name in sorted(set(group)):
        rows = group == name
        patient[rows] = pick_residents(rng, people, events["area"].to_numpy()[rows], base * age_weight(name, age))
    return patient


def _as_extract(rng: np.random.Generator, events: pl.DataFrame, addresses: pl.DataFrame,
                people: pl.DataFrame) -> pl.DataFrame:
    demand = events["demand"].to_numpy()
    count = events.height
    person = people[events["person"].to_numpy()]
    home = rng.random(count) < np.array([AT_HOME[COMPLAINTS[d][2]] for d in demand])
    where = addresses[np.where(home, person["address"].to_numpy(), events["address"].to_numpy())]
    easting, northing = xy_to_grid(where.select("x", "y").to_numpy())
    cumulative = np.cumsum([c[4] for c in COMPLAINTS], axis=1)[demand]
    category = (rng.random(count)[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
    outcome = _outcomes(rng, category, events["cohort_id"].is_not_null().to_numpy())
    received = events["at"].to_numpy()
    times = _times(rng, received, category, outcome)
    forename, surname = written_names(rng, person["forename"].to_list(), person["surname"].to_list(), RECORDING)
    frame = pl.DataFrame({
        "incident_number": _numbers(received),
        "call_received": _text(received), "dispatched": _text(times["dispatched"]),
        "on_scene": _text(times["on_scene"]), "clear": _text(times["clear"]),
        "arp_category": [f"C{c + 1}" for c in category],
        "chief_complaint": [COMPLAINTS[d][0].source_value for d in demand],
        "alcohol_involved": np.where((demand == ALCOHOL) | (rng.random(count) < 0.08), "Y", "N"),
        "patient_forename": forename, "patient_surname": surname,
        "patient_dob": written_dates(rng, person["birth_date"], RECORDING, "%Y-%m-%d"),
        "nhs_number": written_nhs_numbers(rng, person["nhs_number"].to_list(), RECORDING),
        "patient_sex": np.where(rng.random(count) < 0.01, "U", person["sex"].to_numpy()),
        "patient_postcode": person["postcode"],
        "incident_easting": easting, "incident_northing": northing,
        "outcome": np.array(OUTCOMES)[outcome],
    })
    assert frame.columns == DEMO_AMBULANCE.column_names
    return frame.with_columns(
        _person=events["person"], _area=pl.Series(where["area"]).cast(pl.Int64), _cohort=events["cohort_id"],
        _at=events["at"],
        _category=pl.Series([COMPLAINTS[d][1] for d in demand]),
        _ae_group=pl.Series([COMPLAINTS[d][3] for d in demand]),
        _handover=pl.Series(np.where(outcome == 2, times["handover"], np.datetime64("NaT"))),
    )


def _outcomes(rng: np.random.Generator, category: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """Index into OUTCOMES: hear and treat only for C3/C4; about 55 % of all incidents are
    conveyed to the ED (more of the cohort's), 5 % elsewhere, the rest treated at the scene."""
    hear = rng.random(len(category)) < np.where(category >= 2, 0.22, 0.0)
    convey = np.where(cohort, 0.7, np.where(category <= 1, 0.68, 0.6))
    v = rng.random(len(category))
    sent = np.select([v < convey, v < convey + 0.05], [2, 3], 1)
    return np.where(hear, 0, sent)


def _times(rng: np.random.Generator, received: np.ndarray, category: np.ndarray,
           outcome: np.ndarray) -> dict[str, np.ndarray]:
    count = len(received)
    sent = outcome != 0
    minutes = {
        "dispatched": rng.lognormal(np.log(1.5), 0.5, count),
        "response": rng.lognormal(np.log(np.asarray(RESPONSE_MINUTES)[category]), 0.55, count),
        "scene": rng.lognormal(np.log(40), 0.4, count), "travel": rng.lognormal(np.log(20), 0.4, count),
        "handover": rng.lognormal(np.log(30), 0.7, count), "hear": rng.lognormal(np.log(25), 0.5, count),
    }
    on_scene = _plus(received, minutes["response"], sent)
    at_hospital = _plus(on_scene, minutes["scene"] + minutes["travel"], outcome >= 2)
    clear = np.where(outcome >= 2, _plus(at_hospital, minutes["handover"], sent),
                     np.where(sent, _plus(on_scene, minutes["scene"], sent), _plus(received, minutes["hear"], ~sent)))
    return {"dispatched": _plus(received, np.minimum(minutes["dispatched"], minutes["response"]), sent),
            "on_scene": on_scene, "clear": clear, "handover": at_hospital}


def _plus(start: np.ndarray, minutes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return np.where(keep, start + np.round(minutes * 60).astype("timedelta64[s]"), np.datetime64("NaT"))


def _text(times: np.ndarray) -> list[str | None]:
    return time_text(times, "%Y-%m-%d %H:%M:%S")


def _numbers(received: np.ndarray) -> list[str]:
    month = pl.Series(received).dt.strftime("%y%m")
    return [f"WVA-{m}-{n:05d}" for m, n in zip(month.to_list(), running_numbers(month), strict=True)]

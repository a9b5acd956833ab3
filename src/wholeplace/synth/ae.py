"""The demo hospital's A&E attendances.

Attendances are the ambulance service's conveyances to the ED (the same patients, arriving
when the crew hands over) plus people who walk in: about 0.35 attendances per resident per
year in all. The cohort's planned attendances (self-harm, mental health, alcohol) are added.
Patients are placed by their home small area, as trusts report them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wholeplace.model.schemas.demo import DEMO_AE
from wholeplace.synth.demand import Demand, draw_events
from wholeplace.synth.frames import add_minutes, running_numbers
from wholeplace.synth.identity import Recording, written_dates, written_names, written_nhs_numbers
from wholeplace.synth.people import pick_residents, propensity
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, rng_for

RECORDING = Recording(nickname=0.02, typo=0.02, dob_missing=0.01, nhs_missing=0.03)
GROUPS = {"Injury": "ae_injury", "Illness": "ae_other", "Assault": "ae_assault", "Self-harm": "ae_self_harm",
          "Alcohol": "ae_alcohol", "Mental health": "ae_mental_health", "Other": "ae_other"}
WALK_IN: tuple[Demand, ...] = (
    Demand("Injury", 0.085, "health", 0.08, 7, 0.2),
    Demand("Illness", 0.100, "health", 0.06, 1, 0.3),
    Demand("Assault", 0.006, "night", 0.15, 7, 0.5, 3.0),
    Demand("Self-harm", 0.005, "night", 0.0, 7, 0.5),
    Demand("Alcohol", 0.006, "night", 0.12, 7, 0.4, 3.0),
    Demand("Mental health", 0.006, "health", 0.0, 7, 0.5),
    Demand("Other", 0.030, "health", 0.0, 7, 0.2),
)
COHORT_GROUPS = ("Self-harm", "Mental health", "Alcohol", "Injury")
COHORT_WEIGHTS = (0.35, 0.3, 0.25, 0.1)
DISCHARGES = (("Admitted", 0.28), ("Discharged - GP follow-up", 0.25), ("Discharged - no follow-up", 0.35),
              ("Referred to other service", 0.07), ("Left before treatment", 0.05))


def generate_ae(*, seed: int, place: Place, people: pl.DataFrame, months: np.ndarray, scale: float,
                cohort: pl.DataFrame, ambulance: pl.DataFrame) -> pl.DataFrame:
    """Every attendance in the extract's layout, plus ``_person``, ``_area``, ``_cohort`` and ``_category``."""
    rng = rng_for(seed, "ae")
    walk_in = draw_events(rng, place, months, list(WALK_IN), scale)
    walk_in = pl.DataFrame({
        "at": walk_in["at"], "group": np.array([d.source_value for d in WALK_IN])[walk_in["demand"].to_numpy()],
        "person": pick_residents(rng, people, walk_in["area"].to_numpy(), propensity(rng, people.height, 0.35)),
        "mode": "Walk-in", "cohort_id": pl.Series([None] * walk_in.height, dtype=pl.String),
    })
    conveyed = ambulance.filter(pl.col("_handover").is_not_null()).select(
        at=pl.col("_handover"), group=pl.col("_ae_group"), person=pl.col("_person"), mode=pl.lit("Ambulance"),
        cohort_id=pl.col("_cohort"))
    planned = cohort.select(at="at", person="person", cohort_id="cohort_id").with_columns(
        group=pl.Series(np.array(COHORT_GROUPS)[choose(rng, 4, COHORT_WEIGHTS, cohort.height)]),
        mode=pl.Series(np.where(rng.random(cohort.height) < 0.1, "Police", "Walk-in")))
    last = (months[-1] + 1).astype("datetime64[us]")
    attendances = pl.concat([walk_in, conveyed, planned], how="diagonal").filter(pl.col("at") < last)
    return _as_extract(rng, attendances.sort("at", "person", "group"), place, people)


def _as_extract(rng: np.random.Generator, rows: pl.DataFrame, place: Place, people: pl.DataFrame) -> pl.DataFrame:
    count = rows.height
    person = people[rows["person"].to_numpy()]
    arrival = rows["at"].dt.truncate("1m")
    departure = add_minutes(arrival, rng.lognormal(np.log(200), 0.6, count))
    forename, surname = written_names(rng, person["forename"].to_list(), person["surname"].to_list(), RECORDING)
    groups = rows["group"].to_numpy()
    acuity = np.where(np.isin(groups, ["Self-harm", "Mental health", "Assault"]), 2, 3) + rng.integers(-1, 2, count)
    discharge = np.array([d for d, _ in DISCHARGES])[choose(rng, len(DISCHARGES), [w for _, w in DISCHARGES], count)]
    frame = pl.DataFrame({
        "attendance_id": _ids(arrival),
        "arrival": arrival.dt.strftime("%Y-%m-%d %H:%M"), "departure": departure.dt.strftime("%Y-%m-%d %H:%M"),
        "arrival_mode": rows["mode"], "complaint_group": groups, "acuity": np.clip(acuity, 1, 5).astype(str),
        "nhs_number": written_nhs_numbers(rng, person["nhs_number"].to_list(), RECORDING, spaced=True),
        "forename": forename, "surname": surname,
        "date_of_birth": written_dates(rng, person["birth_date"], RECORDING, "%Y-%m-%d"),
        "sex": person["sex"], "postcode": person["postcode"],
        "residence_lsoa": place.areas["code"].to_numpy()[person["area"].to_numpy()], "discharge": discharge,
    })
    assert frame.columns == DEMO_AE.column_names
    return frame.with_columns(_person=rows["person"], _area=person["area"], _cohort=rows["cohort_id"], _at=arrival,
                              _category=pl.Series([GROUPS[g] for g in groups]))


def _ids(arrival: pl.Series) -> list[str]:
    year = arrival.dt.strftime("%y")
    return [f"AE{y}{n:06d}" for y, n in zip(year.to_list(), running_numbers(year), strict=True)]

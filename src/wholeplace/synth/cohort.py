"""People known to many agencies: the planted multi-agency cohort.

About 220 residents (at full scale) in mental-health crisis, alcohol or self-harm cycles
appear again and again across agencies: police welfare and mental-health calls, ambulance
incidents, A&E attendances and crisis-service contacts. Every one of them is in at least
three partners' data. Their events are planned here; each partner's generator writes them
with its own record ids and its own way of writing names, which truth.json then lists.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wholeplace.synth.demand import draw_times
from wholeplace.synth.people import ages_at
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import rng_for

COHORT_SIZE = 220
MINIMUM_COHORT = 40
PARTNERS = ("police", "ambulance", "ae", "crisis")
# Extra records per person over the period, beyond one in each partner (Poisson means).
EXTRA_RECORDS = {"police": 4.0, "ambulance": 2.0, "ae": 4.0, "crisis": 3.0}
PROFILE = {"police": "police", "ambulance": "night", "ae": "health", "crisis": "health"}
DROP_ONE_PARTNER = 0.35  # share of the cohort known to three partners rather than four


def cohort_size(scale: float) -> int:
    return max(MINIMUM_COHORT, round(COHORT_SIZE * scale))


def choose_cohort(seed: int, place: Place, people: pl.DataFrame, scale: float) -> pl.DataFrame:
    """Adults of 18 to 65, likelier in deprived areas; cohort ids C001…"""
    rng = rng_for(seed, "cohort")
    age = ages_at(people["birth_date"], np.full(people.height, np.datetime64("2023-01-01")))
    deprivation = place.areas["deprivation"].to_numpy()[people["area"].to_numpy()]
    weight = np.where((age >= 18) & (age <= 65), np.exp(0.8 * deprivation), 0.0)
    count = cohort_size(scale)
    chosen = np.sort(rng.choice(people.height, count, replace=False, p=weight / weight.sum()))
    return people[chosen].select("person", "area", "address").with_columns(
        cohort_id=pl.Series([f"C{i:03d}" for i in range(1, count + 1)]))


def plan_cohort_events(seed: int, cohort: pl.DataFrame, months: np.ndarray) -> pl.DataFrame:
    """One row per planned record: cohort id, person, partner, time and a draw for its type."""
    rng = rng_for(seed, "cohort-events")
    frames = []
    dropped = np.where(rng.random(cohort.height) < DROP_ONE_PARTNER, rng.integers(0, len(PARTNERS), cohort.height), -1)
    for index, partner in enumerate(PARTNERS):
        counts = np.where(dropped == index, 0, 1 + rng.poisson(EXTRA_RECORDS[partner], cohort.height))
        rows = np.repeat(np.arange(cohort.height), counts)
        month = rng.integers(0, len(months), len(rows))
        frames.append(pl.DataFrame({
            "cohort_id": cohort["cohort_id"].to_numpy()[rows], "person": cohort["person"].to_numpy()[rows],
            "area": cohort["area"].to_numpy()[rows], "address": cohort["address"].to_numpy()[rows],
            "partner": partner, "at": draw_times(rng, months, month, PROFILE[partner]),
            "month": month.astype(np.int64), "pick": rng.random(len(rows)),
        }))
    return pl.concat(frames).sort("partner", "at", "cohort_id")


def cohort_for(plan: pl.DataFrame, partner: str) -> pl.DataFrame:
    return plan.filter(pl.col("partner") == partner)

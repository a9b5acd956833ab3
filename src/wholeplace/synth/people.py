"""The residents of the demo place, with the identifiers partners record about them.

One row per resident: home address, sex, date of birth, names, NHS number and phone.
NHS numbers are in the 999 range, which the NHS keeps for testing and never issues, and
each carries a valid modulus-11 check digit. Landlines use 01632, the UK code kept for
fiction; mobile numbers are random.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from wholeplace.synth.names import FEMALE_FORENAMES, MALE_FORENAMES, SURNAMES
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, group_offsets, pick_in_groups, rng_for, zipf_weights

# Age bands (from, to) and shares, close to England's mid-year estimates.
AGE_BANDS = ((0, 18, 0.21), (18, 30, 0.15), (30, 45, 0.19), (45, 65, 0.26), (65, 80, 0.13), (80, 98, 0.06))
AGE_REFERENCE = date(2023, 1, 1)
NHS_WEIGHTS = np.arange(10, 1, -1)


def nhs_check_digit(nine_digits: np.ndarray) -> np.ndarray:
    """Modulus-11 check digit of rows of nine digits; 10 means the number cannot be issued."""
    remainder = (nine_digits * NHS_WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def is_valid_nhs_number(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) != 10:
        return False
    return int(nhs_check_digit(np.asarray([digits[:9]]))[0]) == digits[9]


def nhs_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """Distinct valid NHS numbers in the never-issued 999 range, as ten-digit strings."""
    serials = rng.choice(1_000_000, size=min(1_000_000, int(count * 1.3) + 100), replace=False)
    digits = np.column_stack([np.full(len(serials), 9), np.full(len(serials), 9), np.full(len(serials), 9)]
                             + [(serials // 10 ** p) % 10 for p in range(5, -1, -1)])
    check = nhs_check_digit(digits)
    usable = check != 10
    full = np.column_stack([digits[usable], check[usable]])[:count]
    return np.asarray(["".join(map(str, row)) for row in full])


def phone_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    mobile = rng.random(count) < 0.72
    numbers = rng.integers(0, 10**9, count)
    landline = rng.integers(0, 10**6, count)
    return np.where(mobile, [f"07{n:09d}" for n in numbers], [f"01632{n:06d}" for n in landline])


def build_people(seed: int, place: Place, addresses: pl.DataFrame) -> pl.DataFrame:
    rng = rng_for(seed, "people")
    residents = place.areas["residents"].to_numpy()
    area = np.repeat(np.arange(len(residents)), residents)
    count = len(area)
    homes = addresses.filter(pl.col("kind") == "home").sort("area", "address")
    offsets = group_offsets(homes["area"].to_numpy(), len(residents))
    home = homes["address"].to_numpy()[pick_in_groups(rng, area, offsets, np.ones(homes.height))]
    female = rng.random(count) < 0.51
    male_names, female_names = np.asarray(MALE_FORENAMES), np.asarray(FEMALE_FORENAMES)
    forename = np.where(female, female_names[choose(rng, len(female_names), zipf_weights(len(female_names)), count)],
                        male_names[choose(rng, len(male_names), zipf_weights(len(male_names)), count)])
    surname = np.asarray(SURNAMES)[choose(rng, len(SURNAMES), zipf_weights(len(SURNAMES), 3.0, 0.8), count)]
    return pl.DataFrame({
        "person": np.arange(count), "area": area, "address": home, "sex": np.where(female, "F", "M"),
        "birth_date": _birth_dates(rng, count), "forename": forename, "surname": surname,
        "nhs_number": nhs_numbers(rng, count), "phone": phone_numbers(rng, count),
        "postcode": addresses.sort("address")["postcode"].to_numpy()[home],
    })


def _birth_dates(rng: np.random.Generator, count: int) -> pl.Series:
    band = choose(rng, len(AGE_BANDS), [share for _, _, share in AGE_BANDS], count)
    low = np.asarray([b[0] for b in AGE_BANDS])[band]
    high = np.asarray([b[1] for b in AGE_BANDS])[band]
    age_days = np.floor((low + rng.random(count) * (high - low)) * 365.25).astype(np.int64)
    reference = np.datetime64(AGE_REFERENCE.isoformat(), "D")
    return pl.Series("birth_date", reference - age_days.astype("timedelta64[D]"))


def ages_at(birth_date: pl.Series, when: np.ndarray) -> np.ndarray:
    """Whole years of age at the given datetimes."""
    born = birth_date.to_numpy().astype("datetime64[D]")
    return ((when.astype("datetime64[D]") - born).astype(np.int64) / 365.25).astype(np.int64)


def pick_residents(rng: np.random.Generator, people: pl.DataFrame, area: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """A resident of each given area, with probability proportional to ``weights`` (one per resident)."""
    offsets = group_offsets(people["area"].to_numpy(), int(people["area"].max()) + 1)  # type: ignore[arg-type]
    return pick_in_groups(rng, area, offsets, weights)


def propensity(rng: np.random.Generator, count: int, shape: float) -> np.ndarray:
    """How prone each resident is to a kind of demand: gamma with mean 1. A small shape gives
    the heavy tail of real repeat demand (a few people account for much of it)."""
    return rng.gamma(shape, 1 / shape, count)

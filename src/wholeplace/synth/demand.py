"""How much demand arises where and when: rates, area effects, seasons and clock times.

Each partner's demand is a list of ``Demand`` lines: a category as the partner writes it,
a rate per resident per year, and how it varies. The expected count for an area and month
is population × rate / 12, times the area's effects (deprivation, town centre, rural,
planted driver), the season, and the month's length; counts are Poisson draws from it, and
each event then gets a day (weighted by day of week) and a clock time (by hour of day).
Area effects are rescaled so the place as a whole keeps the calibrated rate; the planted
driver's effect is therefore a ratio between areas, which is what truth.json records.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, group_offsets, pick_in_groups

# Relative demand by hour of day, 00:00 first. Police demand troughs around 05:00 and peaks
# in the evening; health peaks late morning; council reports follow office hours.
HOURLY: dict[str, tuple[float, ...]] = {
    "police": (3.0, 2.4, 1.9, 1.5, 1.2, 1.0, 1.2, 1.8, 2.8, 3.6, 4.1, 4.4, 4.6, 4.7, 4.8, 5.0, 5.4, 5.8, 6.0,
               6.1, 5.9, 5.4, 4.7, 3.8),
    "night": (5.0, 4.6, 4.0, 2.8, 1.6, 1.0, 0.9, 1.0, 1.3, 1.6, 1.9, 2.2, 2.5, 2.7, 2.9, 3.1, 3.4, 3.8, 4.2,
              4.6, 5.0, 5.4, 5.8, 5.6),
    "health": (2.2, 1.8, 1.5, 1.3, 1.1, 1.0, 1.3, 2.1, 3.3, 4.4, 4.9, 5.0, 4.9, 4.7, 4.6, 4.6, 4.6, 4.6, 4.5,
               4.3, 4.0, 3.6, 3.1, 2.6),
    "office": (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.6, 5.0, 5.2, 5.0, 4.6, 4.8, 4.8, 4.5, 4.0, 3.0, 2.2,
               1.8, 1.5, 1.2, 0.8, 0.5),
}
# Relative demand by day of week, Monday first.
WEEKLY: dict[str, tuple[float, ...]] = {
    "police": (0.97, 0.94, 0.95, 0.98, 1.08, 1.10, 0.98),
    "night": (0.75, 0.72, 0.78, 0.88, 1.20, 1.45, 1.22),
    "health": (1.12, 1.01, 0.99, 0.98, 0.99, 0.94, 0.97),
    "office": (1.25, 1.15, 1.12, 1.10, 1.05, 0.63, 0.70),
}
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Demand:
    """One category of a partner's demand and how it varies."""

    source_value: str  # the category as the partner writes it
    rate: float  # events per resident per year, place-wide
    profile: str = "police"  # clock-time profile (HOURLY / WEEKLY)
    season: float = 0.0  # amplitude of the yearly cycle (0.2 = ±20 %)
    peak_month: int = 7
    deprivation: float = 0.3  # change in log rate per standard deviation of deprivation
    centre: float = 1.0  # rate ratio in the town centre (night-time economy)
    rural: float = 0.85  # rate ratio in the countryside
    driver: float = 1.0  # rate ratio in areas with poor private rented housing (planted)
    premises: str | None = None  # kind of premises where a share of it happens
    premises_share: float = 0.0


def month_starts(start: str, count: int) -> np.ndarray:
    return np.datetime64(start, "M") + np.arange(count)


def area_effects(place: Place, demands: list[Demand]) -> np.ndarray:
    """Rate ratio per area (rows) and demand (columns), population-weighted mean 1."""
    areas = place.areas
    z = areas["deprivation"].to_numpy()[:, None]
    ratios = np.exp(np.array([d.deprivation for d in demands])[None, :] * z)
    for flag, attribute in (("centre", "centre"), ("rural", "rural"), ("driver", "driver")):
        mask = areas[flag].to_numpy()[:, None]
        ratios *= np.where(mask, np.array([getattr(d, attribute) for d in demands])[None, :], 1.0)
    weight = areas["residents"].to_numpy()[:, None].astype(np.float64)
    return ratios / ((ratios * weight).sum(axis=0) / weight.sum())


def expected_counts(place: Place, months: np.ndarray, demands: list[Demand], scale: float) -> np.ndarray:
    """Expected events per area × month × demand."""
    years = months.astype("datetime64[Y]").astype(np.int64) + 1970
    residents = population_matrix(place, years)  # area × month
    month_of_year = months.astype(np.int64) % 12 + 1
    days = np.array([calendar.monthrange(int(y), int(m))[1] for y, m in zip(years, month_of_year, strict=True)])
    season = np.array([[1 + d.season * np.cos(2 * np.pi * (m - d.peak_month) / 12) for d in demands]
                       for m in month_of_year])  # month × demand
    rates = np.array([d.rate for d in demands]) / 12 * scale
    effects = area_effects(place, demands)
    return (residents[:, :, None] * effects[:, None, :] * season[None, :, :] * rates[None, None, :]
            * (days / DAYS_PER_MONTH)[None, :, None])


def population_matrix(place: Place, years: np.ndarray) -> np.ndarray:
    wide = place.population.pivot(on="year", index="code", values="population").sort("code")
    codes = place.areas["code"].to_list()
    assert wide["code"].to_list() == codes
    return np.column_stack([wide[str(int(y))].to_numpy() for y in years]).astype(np.float64)


def draw_events(rng: np.random.Generator, place: Place, months: np.ndarray, demands: list[Demand],
                scale: float) -> pl.DataFrame:
    """One row per event: area, month index, demand index and time."""
    counts = rng.poisson(expected_counts(place, months, demands, scale))
    area, month, demand = np.unravel_index(np.repeat(np.arange(counts.size), counts.ravel()), counts.shape)
    profiles = np.array([d.profile for d in demands])[demand]
    times = np.empty(len(area), dtype="datetime64[us]")
    for profile in sorted(set(profiles)):
        chosen = profiles == profile
        times[chosen] = draw_times(rng, months, month[chosen], profile)
    frame = pl.DataFrame({"area": area.astype(np.int64), "month": month.astype(np.int64),
                          "demand": demand.astype(np.int64), "at": times})
    return frame.sort("at", "area", "demand", maintain_order=True)


def draw_times(rng: np.random.Generator, months: np.ndarray, month_index: np.ndarray, profile: str) -> np.ndarray:
    """A time in the given month for each event, by the profile's day-of-week and hour-of-day shape."""
    days = [np.arange(m.astype("datetime64[D]"), (m + 1).astype("datetime64[D]")) for m in months]
    all_days = np.concatenate(days)
    weekday = (all_days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    offsets = group_offsets(np.repeat(np.arange(len(months)), [len(d) for d in days]), len(months))
    day = all_days[pick_in_groups(rng, month_index, offsets, np.asarray(WEEKLY[profile])[weekday])]
    hour = choose(rng, 24, HOURLY[profile], len(month_index))
    seconds = hour * 3600 + rng.integers(0, 3600, len(month_index))
    return day.astype("datetime64[us]") + seconds.astype("timedelta64[s]")


def locate_events(rng: np.random.Generator, events: pl.DataFrame, demands: list[Demand],
                  addresses: pl.DataFrame) -> pl.DataFrame:
    """An address for each event: a premises of the demand's kind for its premises share
    (the event then belongs to that premises' area), else a weighted address in its area."""
    ordered = addresses.sort("area", "address")
    offsets = group_offsets(ordered["area"].to_numpy(), int(ordered["area"].max()) + 1)  # type: ignore[arg-type]
    picked = ordered["address"].to_numpy()[pick_in_groups(rng, events["area"].to_numpy(), offsets,
                                                          ordered["weight"].to_numpy())]
    kinds = np.array([d.premises or "" for d in demands])[events["demand"].to_numpy()]
    shares = np.array([d.premises_share for d in demands])[events["demand"].to_numpy()]
    at_premises = (rng.random(events.height) < shares) & (kinds != "")
    for kind in sorted(set(kinds[at_premises])):
        sites = addresses.filter(pl.col("kind") == kind)["address"].to_numpy()
        rows = at_premises & (kinds == kind)
        picked[rows] = sites[rng.integers(0, len(sites), rows.sum())]
    area_of = addresses.sort("address")["area"].to_numpy()
    return events.with_columns(address=picked, area=area_of[picked].astype(np.int64))

"""The demo force's recorded crime, as data.police.uk publishes it (street-level files).

About 88 crimes per 1,000 residents a year in the published mix of crime types, plus
about 20 anti-social behaviour incidents per 1,000. As on data.police.uk: only the month
is given; locations are snapped to "On or near …" points; anti-social behaviour rows have
no Crime ID and no outcome; about 1.5 % of crimes have "No Location" and no area code.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from wholeplace.model.schemas.police_uk import POLICE_UK_STREET
from wholeplace.synth.demand import Demand, draw_events, locate_events
from wholeplace.synth.frames import blank_where
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, rng_for

FORCE = "Wenlow Vale Constabulary"
FORCE_SLUG = "wenlow-vale"
NO_LOCATION = 0.015

CRIME_TYPES: tuple[Demand, ...] = (
    Demand("Anti-social behaviour", 0.020, profile="night", season=0.22, centre=2.0, deprivation=0.4),
    Demand("Violence and sexual offences", 0.0374, profile="night", season=0.15, centre=2.5, deprivation=0.45,
           premises="pub", premises_share=0.1),
    Demand("Public order", 0.0094, profile="night", season=0.15, centre=3.0, deprivation=0.4),
    Demand("Criminal damage and arson", 0.0083, profile="night", deprivation=0.4),
    Demand("Other theft", 0.0072, centre=2.0),
    Demand("Shoplifting", 0.0066, centre=3.0, premises="shop", premises_share=0.7, deprivation=0.2),
    Demand("Vehicle crime", 0.0055, profile="night", deprivation=0.3),
    Demand("Burglary", 0.0050, season=0.1, peak_month=12, deprivation=0.35, driver=1.8),
    Demand("Drugs", 0.0028, centre=2.5, deprivation=0.5),
    Demand("Other crime", 0.0017, deprivation=0.3),
    Demand("Theft from the person", 0.0013, centre=4.0, deprivation=0.2),
    Demand("Bicycle theft", 0.0011, centre=2.0, deprivation=0.1),
    Demand("Robbery", 0.0011, profile="night", centre=3.0, deprivation=0.5),
    Demand("Possession of weapons", 0.0009, profile="night", centre=2.5, deprivation=0.5),
)
OUTCOMES = (
    ("Investigation complete; no suspect identified", 0.45), ("Unable to prosecute suspect", 0.25),
    ("Under investigation", 0.08), ("Awaiting court outcome", 0.05), ("Local resolution", 0.05),
    ("Court result unavailable", 0.04), ("Offender given a caution", 0.03), ("Status update unavailable", 0.03),
    ("Further investigation is not in the public interest", 0.02),
)


def generate_crime(*, seed: int, place: Place, addresses: pl.DataFrame, snaps: pl.DataFrame, months: np.ndarray,
                   scale: float) -> pl.DataFrame:
    """Every crime and ASB incident in the street-file layout, plus ``_area`` and ``_month``."""
    rng = rng_for(seed, "police-uk")
    demands = list(CRIME_TYPES)
    events = locate_events(rng, draw_events(rng, place, months, demands, scale), demands, addresses)
    events = events.sort("month", "at", "address", "demand")
    snap = snaps[addresses["snap"].to_numpy()[events["address"].to_numpy()]]
    crime_type = np.array([d.source_value for d in demands])[events["demand"].to_numpy()]
    asb = crime_type == "Anti-social behaviour"
    lost = ~asb & (rng.random(events.height) < NO_LOCATION)
    area = events["area"].to_numpy()
    outcome = np.array([o for o, _ in OUTCOMES])[choose(rng, len(OUTCOMES), [w for _, w in OUTCOMES], events.height)]
    month_text = pl.Series(months[events["month"].to_numpy()].astype("datetime64[D]")).dt.strftime("%Y-%m")
    frame = pl.DataFrame({
        "Crime ID": _crime_ids(seed, month_text.to_list(), asb),
        "Month": month_text, "Reported by": FORCE, "Falls within": FORCE,
        "Longitude": blank_where(snap["longitude"], lost), "Latitude": blank_where(snap["latitude"], lost),
        "Location": np.where(lost, "No Location", snap["text"].to_numpy()),
        "LSOA code": blank_where(place.areas["code"].to_numpy()[area], lost),
        "LSOA name": blank_where(place.areas["name"].to_numpy()[area], lost),
        "Crime type": crime_type, "Last outcome category": blank_where(outcome, asb),
        "Context": pl.Series([None] * events.height, dtype=pl.String),
    })
    assert frame.columns == POLICE_UK_STREET.column_names
    return frame.with_columns(_area=events["area"], _month=events["month"], _lost=lost)


def _crime_ids(seed: int, months: list[str], asb: np.ndarray) -> list[str | None]:
    """64-character hex ids, as police.uk's; blank for anti-social behaviour."""
    return [None if is_asb else hashlib.sha256(f"{seed}:{month}:{i}".encode()).hexdigest()
            for i, (month, is_asb) in enumerate(zip(months, asb, strict=True))]

"""The demo council's service requests: fly-tipping, noise, housing disrepair, ASB and more.

About 0.044 reports per resident per year. Poor private rented housing (the planted driver)
multiplies fly-tipping, domestic noise and housing disrepair in its areas. Reporters are
residents, some of whom complain again and again; a share of reports is anonymous. A few
rows carry the old system's placeholder date and are quarantined on load, as planned.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import shapely

from wholeplace.model.schemas.demo import DEMO_COUNCIL
from wholeplace.synth.demand import Demand, draw_events, locate_events
from wholeplace.synth.frames import add_minutes, blank_where, running_numbers
from wholeplace.synth.identity import Recording, written_names, written_phones
from wholeplace.synth.people import pick_residents, propensity
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, rng_for

RECORDING = Recording(typo=0.03)
PLACEHOLDER_DATE = "00/00/0000 00:00"
PLACEHOLDER_SHARE = 0.0005
# request type, category, share of anonymous reports
REQUESTS: tuple[tuple[Demand, str, float], ...] = (
    (Demand("Fly-tipping", 0.018, "office", 0.15, 6, 0.4, rural=1.3, driver=2.0), "council_fly_tipping", 0.35),
    (Demand("Noise - domestic", 0.007, "police", 0.25, 7, 0.35, driver=1.7), "council_noise", 0.08),
    (Demand("Noise - commercial", 0.0015, "night", 0.25, 7, 0.1, 4.0), "council_noise", 0.1),
    (Demand("Housing disrepair", 0.0015, "office", 0.3, 1, 0.6, driver=3.0), "council_housing_disrepair", 0.02),
    (Demand("Damp and mould", 0.0015, "office", 0.35, 1, 0.6, driver=3.0), "council_housing_disrepair", 0.02),
    (Demand("Anti-social behaviour", 0.005, "office", 0.2, 7, 0.45), "council_asb", 0.15),
    (Demand("Pest control", 0.003, "office", 0.3, 8, 0.3), "council_pests", 0.05),
    (Demand("Graffiti", 0.002, "office", 0.0, 7, 0.3, 2.0), "council_graffiti", 0.3),
    (Demand("Dog fouling", 0.002, "office", 0.0, 7, 0.2), "council_environmental", 0.4),
    (Demand("Abandoned vehicle", 0.002, "office", 0.0, 7, 0.2), "council_other", 0.3),
)
STATUSES = (("Closed - action taken", 0.45), ("Closed - no further action", 0.35),
            ("Closed - referred to police", 0.05), ("Open", 0.15))


def generate_council(*, seed: int, place: Place, addresses: pl.DataFrame, people: pl.DataFrame, months: np.ndarray,
                     scale: float) -> pl.DataFrame:
    rng = rng_for(seed, "council")
    demands = [r[0] for r in REQUESTS]
    events = locate_events(rng, draw_events(rng, place, months, demands, scale), demands, addresses)
    events = events.sort("at", "address", "demand")
    reporter = pick_residents(rng, people, events["area"].to_numpy(), propensity(rng, people.height, 0.3))
    anonymous = rng.random(events.height) < np.array([r[2] for r in REQUESTS])[events["demand"].to_numpy()]
    return _as_extract(rng, events, place, addresses, people[reporter], anonymous)


def _as_extract(rng: np.random.Generator, events: pl.DataFrame, place: Place, addresses: pl.DataFrame,
                reporter: pl.DataFrame, anonymous: np.ndarray) -> pl.DataFrame:
    count = events.height
    demand = events["demand"].to_numpy()
    where = addresses[events["address"].to_numpy()]
    received = events["at"].dt.truncate("1m")
    status = np.array([s for s, _ in STATUSES])[choose(rng, len(STATUSES), [w for _, w in STATUSES], count)]
    closed = add_minutes(received, rng.lognormal(np.log(6 * 24 * 60), 0.9, count))
    forename, surname = written_names(rng, reporter["forename"].to_list(), reporter["surname"].to_list(), RECORDING)
    received_text = received.dt.strftime("%d/%m/%Y %H:%M").to_numpy()
    placeholder = rng.random(count) < PLACEHOLDER_SHARE
    frame = pl.DataFrame({
        "case_ref": [f"SR-{y}-{n:06d}" for y, n in zip(received.dt.year().to_list(),
                                                          running_numbers(received.dt.year()), strict=True)],
        "date_received": np.where(placeholder, PLACEHOLDER_DATE, received_text),
        "date_closed": blank_where(closed.dt.strftime("%d/%m/%Y %H:%M"), status == "Open"),
        "request_type": [REQUESTS[d][0].source_value for d in demand],
        "reporter_name": [None if a else f"{f} {s}" for f, s, a in zip(forename, surname, anonymous, strict=True)],
        "reporter_phone": written_phones(rng, [None if a or rng.random() < 0.3 else p
                                               for p, a in zip(reporter["phone"].to_list(), anonymous, strict=True)]),
        "location_address": (where["text"] + " " + where["postcode"]).to_list(),
        "latitude": where["latitude"].round(5), "longitude": where["longitude"].round(5),
        "ward": place.wards["name"].to_numpy()[_wards(place, where)], "status": status,
    })
    assert frame.columns == DEMO_COUNCIL.column_names
    return frame.with_columns(_at=received, _area=events["area"], _category=pl.Series([REQUESTS[d][1] for d in demand]),
                              _placeholder=placeholder, _person=pl.lit(None, pl.Int64), _cohort=pl.lit(None, pl.String))


def _wards(place: Place, where: pl.DataFrame) -> np.ndarray:
    """The ward each report's point lies in (the council's own ward field)."""
    points = shapely.points(where["x"].to_numpy(), where["y"].to_numpy())
    point, ward = shapely.STRtree(place.layout.wards).query(points, predicate="intersects")
    found = np.zeros(len(points), dtype=np.int64)
    found[point[::-1]] = ward[::-1]  # first match wins where a point lies on a ward edge
    return found

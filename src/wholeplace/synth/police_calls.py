"""The demo force's calls for service, as its command-and-control system exports them.

Incidents are drawn by type, area and time (demand.py), placed at an address, given a
caller (a repeat-prone resident, another agency's switchboard, or no one when officers
initiate them), a grade, qualifiers, the person concerned for welfare-type incidents,
and received / dispatched / arrived / closed times that follow the grade. The cohort's
welfare and mental-health incidents are added, and then the street triage pilot removes
its planted share of mental-health incidents in the pilot areas from its start month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from wholeplace.model.schemas.demo import DEMO_POLICE_CALLS
from wholeplace.synth.call_types import (
    AGENCY_PHONES,
    CALL_TYPES,
    COHORT_CALL_TYPES,
    COHORT_CALL_WEIGHTS,
    DISPOSITIONS,
)
from wholeplace.synth.demand import draw_events, locate_events
from wholeplace.synth.frames import running_numbers, time_text
from wholeplace.synth.identity import Recording, written_dates, written_names, written_phones
from wholeplace.synth.people import pick_residents, propensity
from wholeplace.synth.place import Place
from wholeplace.synth.sampling import choose, rng_for

RECORDING = Recording(nickname=0.2, typo=0.06, dob_missing=0.35, dob_swapped=0.02)
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
RECLASSIFIED = 0.16  # share of incidents whose closing type differs from the opening type


@dataclass(frozen=True)
class Intervention:
    """The planted street triage pilot: mental-health incidents in ``areas`` fall by ``effect``."""

    areas: np.ndarray  # boolean per small area
    start: np.datetime64
    keep: float  # 0.7: 30 % fewer incidents


def generate_calls(*, seed: int, place: Place, addresses: pl.DataFrame, people: pl.DataFrame, months: np.ndarray,
                   scale: float, cohort: pl.DataFrame, intervention: Intervention) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every incident (the partner's columns plus ``_person``, ``_area``, ``_mh``, ``_cohort``,
    ``_category`` for truth), and the mental-health incidents the pilot prevented (at, person, area)."""
    rng = rng_for(seed, "police-calls")
    demands = [t.demand for t in CALL_TYPES]
    events = locate_events(rng, draw_events(rng, place, months, demands, scale), demands, addresses)
    events = events.with_columns(person=pick_residents(rng, people, events["area"].to_numpy(),
                                                       propensity(rng, people.height, 0.3)))
    planned = _cohort_events(rng, cohort)
    events = pl.concat([events.with_columns(pl.lit(None, pl.String).alias("cohort_id")), planned], how="diagonal")
    events = _traits(rng, events, place, people)
    events, prevented = _without_prevented(rng, events, intervention)
    return _as_extract(rng, events.sort("at", "address", "demand"), place, addresses, people), prevented


def _cohort_events(rng: np.random.Generator, cohort: pl.DataFrame) -> pl.DataFrame:
    names = [t.demand.source_value for t in CALL_TYPES]
    kinds = choose(rng, len(COHORT_CALL_TYPES), COHORT_CALL_WEIGHTS, cohort.height)
    return cohort.select("area", "month", "at", "address", "person", "cohort_id").with_columns(
        demand=pl.Series([names.index(COHORT_CALL_TYPES[k]) for k in kinds], dtype=pl.Int64))


def _traits(rng: np.random.Generator, events: pl.DataFrame, place: Place, people: pl.DataFrame) -> pl.DataFrame:
    types = [CALL_TYPES[d] for d in events["demand"].to_list()]
    count = events.height
    cohort = events["cohort_id"].is_not_null().to_numpy()

    def draw(attribute: str) -> np.ndarray:
        return rng.random(count) < np.array([getattr(t, attribute) for t in types])

    cumulative = np.cumsum([t.grades for t in CALL_TYPES], axis=1)[events["demand"].to_numpy()]
    grade = 1 + (rng.random(count)[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
    agency = draw("agency")
    agency_kind = [t.agency_kinds[int(rng.integers(0, len(t.agency_kinds)))] for t in types]
    return events.with_columns(
        grade=grade, mh=draw("mental_health") | cohort, alcohol=draw("alcohol"), domestic=draw("domestic"),
        has_person=draw("person") | cohort, agency=agency & ~cohort,
        agency_kind=pl.Series(agency_kind), family=pl.Series([t.family for t in types]),
        rural=place.areas["rural"].to_numpy()[events["area"].to_numpy()],
        caller=pick_residents(rng, people, events["area"].to_numpy(), propensity(rng, people.height, 0.2)),
    )


def _without_prevented(rng: np.random.Generator, events: pl.DataFrame,
                       intervention: Intervention) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pilot's effect: each mental-health incident in a pilot area after the start is kept
    with probability ``keep``, so the expected fall is exactly the planted effect."""
    in_pilot = intervention.areas[events["area"].to_numpy()] & (events["at"].to_numpy() >= intervention.start)
    prevented = in_pilot & events["mh"].to_numpy() & (rng.random(events.height) >= intervention.keep)
    return events.filter(~prevented), events.filter(prevented).select("at", "person", "area", "cohort_id")


def _as_extract(rng: np.random.Generator, events: pl.DataFrame, place: Place, addresses: pl.DataFrame,
                people: pl.DataFrame) -> pl.DataFrame:
    count = events.height
    source = _call_source(rng, events)
    received = events["at"].to_numpy()
    dispatched, arrived, closed = _times(rng, events, received)
    person = people[events["person"].to_numpy()]
    forename, surname = written_names(rng, person["forename"].to_list(), person["surname"].to_list(), RECORDING)
    show = events["has_person"].to_numpy()
    address = addresses[events["address"].to_numpy()]
    caller_phone = people["phone"].to_numpy()[events["caller"].to_numpy()].astype(object)
    caller_phone[events["agency"].to_numpy()] = [AGENCY_PHONES[k] for k in events.filter("agency")["agency_kind"]]
    caller_phone[(source == "ONVIEW") | ((source == "ONLINE") & (rng.random(count) < 0.6))] = None
    opening = [CALL_TYPES[d].demand.source_value for d in events["demand"].to_list()]
    frame = pl.DataFrame({
        "incident_ref": _references(received),
        "received": _text(received), "dispatched": _text(dispatched), "arrived": _text(arrived),
        "closed": _text(closed), "call_source": source,
        "caller_type": np.where(source == "ONVIEW", "OFFICER", np.where(events["agency"].to_numpy(),
                                                                         events["agency_kind"].to_numpy(), "PUBLIC")),
        "caller_phone": written_phones(rng, list(caller_phone)),
        "opening_type": opening, "closing_type": _closing(rng, events, opening),
        "grade": [f"G{g}" for g in events["grade"].to_list()], "qualifiers": _qualifiers(rng, events),
        "person_forename": _only(forename, show), "person_surname": _only(surname, show),
        "person_dob": _only(written_dates(rng, person["birth_date"], RECORDING, "%d/%m/%Y"), show),
        "incident_address": (address["text"] + " " + address["postcode"]).to_list(),
        "street": (address["street"] + ", " + place.areas["town"].to_numpy()[events["area"].to_numpy()]).to_list(),
        "lon": address["longitude"].round(6).to_list(), "lat": address["latitude"].round(6).to_list(),
        "beat": place.neighbourhoods["beat"].to_numpy()[place.areas["neighbourhood"].to_numpy()[
            events["area"].to_numpy()]],
        "disposition": _dispositions(rng, events, arrived),
    })
    assert frame.columns == DEMO_POLICE_CALLS.column_names
    return frame.with_columns(_person=pl.Series(events["person"].to_numpy()).set(pl.Series(~show), None),
                              _area=events["area"], _mh=events["mh"], _at=events["at"],
                              _cohort=events["cohort_id"], _category=pl.Series(
                                  [CALL_TYPES[d].category for d in events["demand"].to_list()]))


def _call_source(rng: np.random.Generator, events: pl.DataFrame) -> np.ndarray:
    proactive = events["family"].to_numpy() == "proactive"
    grade = events["grade"].to_numpy()
    public = np.where(grade <= 2, np.where(rng.random(events.height) < 0.75, "999", "101"),
                      np.where(rng.random(events.height) < 0.7, "101", "ONLINE"))
    return np.where(proactive, "ONVIEW", public)


def _times(rng: np.random.Generator, events: pl.DataFrame, received: np.ndarray) -> tuple[np.ndarray, ...]:
    """Dispatch queue, travel and time on scene by grade (minutes, log-normal)."""
    grade = events["grade"].to_numpy()
    count = events.height
    queue = np.choose(grade - 1, [rng.lognormal(np.log(2), 0.6, count), rng.lognormal(np.log(18), 1.0, count),
                                  rng.lognormal(np.log(240), 0.8, count), np.zeros(count)])
    travel = rng.lognormal(np.log(np.where(events["rural"].to_numpy(), 15, 9)), 0.45, count)
    travel *= np.where(grade == 1, 1, 1.5)  # lower grades are not driven under blue lights
    welfare = events["family"].to_numpy() == "welfare"
    on_scene = rng.lognormal(np.log(np.where(welfare, 150, 50)), 0.75, count)
    sent = grade < 4
    cancelled = sent & (rng.random(count) < 0.07)
    dispatched = _plus(received, queue, sent)
    arrived = _plus(dispatched, travel, sent & ~cancelled)
    closed = np.where(~sent, _plus(received, rng.lognormal(np.log(35), 0.6, count), ~sent),
                      np.where(cancelled, _plus(dispatched, np.full(count, 20.0), cancelled),
                               _plus(arrived, on_scene, sent & ~cancelled)))
    return dispatched, arrived, closed


def _plus(start: np.ndarray, minutes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    result = start + np.round(minutes * 60).astype("timedelta64[s]")
    return np.where(keep, result, np.datetime64("NaT"))


def _text(times: np.ndarray) -> list[str | None]:
    return time_text(times, TIME_FORMAT)


def _references(received: np.ndarray) -> list[str]:
    """WV-yymmdd-nnnn: the day's running number, as control rooms number incidents."""
    day = pl.Series(received).dt.strftime("%y%m%d")
    return [f"WV-{d}-{n:04d}" for d, n in zip(day.to_list(), running_numbers(day), strict=True)]


def _closing(rng: np.random.Generator, events: pl.DataFrame, opening: list[str]) -> list[str]:
    families: dict[str, list[str]] = {}
    for t in CALL_TYPES:
        families.setdefault(t.family, []).append(t.demand.source_value)
    change = rng.random(events.height) < RECLASSIFIED
    picks = rng.random(events.height)
    return [families[f][int(p * len(families[f]))] if c else o
            for o, f, c, p in zip(opening, events["family"].to_list(), change, picks, strict=True)]


def _qualifiers(rng: np.random.Generator, events: pl.DataFrame) -> list[str | None]:
    vulnerable = (events["family"].to_numpy() == "welfare") & (rng.random(events.height) < 0.3)
    repeat = _repeat_address(events)
    flags = [("MH", events["mh"].to_numpy()), ("ALC", events["alcohol"].to_numpy()),
             ("DA", events["domestic"].to_numpy()), ("VUL", vulnerable), ("REP", repeat)]
    return [";".join(code for code, mask in flags if mask[i]) or None for i in range(events.height)]


def _repeat_address(events: pl.DataFrame) -> np.ndarray:
    """REP: the same address had an incident in the previous 28 days."""
    ordered = events.with_row_index("_i").sort("address", "at")
    gap = ordered["at"].diff().dt.total_days()
    same = ordered["address"] == ordered["address"].shift(1)
    repeat = (same & (gap <= 28)).fill_null(False).to_numpy()
    result = np.zeros(events.height, dtype=bool)
    result[ordered["_i"].to_numpy()] = repeat
    return result


def _dispositions(rng: np.random.Generator, events: pl.DataFrame, arrived: np.ndarray) -> list[str]:
    picks = rng.random(events.height)
    attended = ~np.isnat(arrived)
    out = []
    for family, pick, went in zip(events["family"].to_list(), picks, attended, strict=True):
        options = DISPOSITIONS[family]
        out.append(options[int(pick * len(options))] if went else "Resolved without attendance")
    return out


def _only(values: list, show: np.ndarray) -> list:  # type: ignore[type-arg]
    return [v if s else None for v, s in zip(values, show, strict=True)]

"""truth.json: what was planted in the demo place, to check analyses against.

It records the seed and scale, the areas with the planted driver and its effect on each
kind of demand, the street triage pilot's areas, start month and effect, every member of
the multi-agency cohort with the record ids each partner holds for them, the repeat
locations and callers of the police calls (counted from the generated rows), and the rows
each dataset should store (and quarantine) in each month.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from wholeplace.governance.pseudonymise import normalise_phone
from wholeplace.synth.call_types import CALL_TYPES
from wholeplace.synth.council import PLACEHOLDER_DATE, REQUESTS
from wholeplace.synth.crime import CRIME_TYPES
from wholeplace.synth.crisis import TRIAGED
from wholeplace.synth.demand import Demand
from wholeplace.synth.generate import (
    AE,
    AMBULANCE,
    COUNCIL,
    CRISIS,
    INTERVENTION_KEEP,
    INTERVENTION_START,
    POLICE_CALLS,
    POLICE_UK,
    RECORD_ID,
    DemoData,
)

GENERATOR_VERSION = "1"


def build_truth(data: DemoData) -> dict[str, Any]:
    areas = data.place.areas
    return {
        "generator_version": GENERATOR_VERSION, "seed": data.seed, "scale": data.scale,
        "place": _place(data),
        "driver": {
            "what": "poor private rented housing",
            "areas": areas.filter("driver")["code"].to_list(),
            "rate_ratios": _driver_effects(),
        },
        "intervention": {
            "what": "street triage pilot (mental-health practitioners respond with the police)",
            "areas": areas.filter("intervention")["code"].to_list(),
            "neighbourhoods": sorted(set(data.place.neighbourhoods["code"].to_numpy()[
                areas.filter("intervention")["neighbourhood"].to_numpy()].tolist())),
            "start_month": INTERVENTION_START,
            "dataset": POLICE_CALLS,
            "affected": "incidents with the MH qualifier",
            "rate_ratio": INTERVENTION_KEEP,
            "moved_to": {"dataset": CRISIS, "contact_type": "Street triage joint response", "share": TRIAGED},
        },
        "cohort": _cohort(data),
        "repeat": _repeat(data),
        "totals": {code: _totals(code, frame) for code, frame in data.datasets.items()},
    }


def write_truth(truth: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _place(data: DemoData) -> dict[str, Any]:
    place = data.place
    months = pl.Series(data.months.astype("datetime64[D]")).dt.strftime("%Y-%m").to_list()
    return {
        "name": "Wenlow Vale", "first_month": months[0], "last_month": months[-1], "months": len(months),
        "areas": {"lsoa": place.areas.height, "msoa": place.neighbourhoods.height, "ward": place.wards.height,
                  "lad": place.districts.height},
        "residents": int(place.areas["residents"].sum()),
        "town_centre_areas": place.areas.filter("centre")["code"].to_list(),
    }


def _driver_effects() -> dict[str, dict[str, float]]:
    """Rate ratio, driver areas against otherwise similar areas, for every demand it touches."""
    def effects(demands: list[Demand]) -> dict[str, float]:
        return {d.source_value: d.driver for d in demands if d.driver != 1.0}

    return {POLICE_UK: effects(list(CRIME_TYPES)), POLICE_CALLS: effects([t.demand for t in CALL_TYPES]),
            COUNCIL: effects([r[0] for r in REQUESTS])}


def _cohort(data: DemoData) -> list[dict[str, Any]]:
    """Every cohort member with each partner's record ids for them (records naming them)."""
    codes = data.place.areas["code"].to_numpy()
    members = data.cohort.sort("cohort_id")
    records: dict[str, dict[str, list[str]]] = {cid: {} for cid in members["cohort_id"].to_list()}
    by_person = dict(zip(members["person"].to_list(), members["cohort_id"].to_list(), strict=True))
    for code in (POLICE_CALLS, AMBULANCE, AE, CRISIS):
        frame = data.datasets[code].filter(pl.col("_person").is_in(list(by_person)))
        for person, record in zip(frame["_person"].to_list(), frame[RECORD_ID[code]].to_list(), strict=True):
            records[by_person[person]].setdefault(code, []).append(record)
    return [{"cohort_id": cid, "home_area": str(codes[area]), "records": records[cid]}
            for cid, area in zip(members["cohort_id"].to_list(), members["area"].to_list(), strict=True)]


REPEAT_HOMES = 50  # the busiest homes listed (every premises is listed)
REPEAT_CALLERS = 30


def _repeat(data: DemoData) -> dict[str, Any]:
    """The police calls' repeat locations and callers, counted from the generated rows as the repeat
    analysis counts them by default (officer-initiated incidents left out), with one record id
    each to find its token by, and the count in each calendar year (the fixed 12-month windows)."""
    calls = data.datasets[POLICE_CALLS].filter(pl.col("call_source") != "ONVIEW").with_columns(
        year=pl.col("_at").dt.year().cast(pl.String))
    addresses = data.addresses.select((pl.col("text") + " " + pl.col("postcode")).alias("incident_address"),
                                      "kind", "weight")
    locations = _counted(calls.join(addresses, on="incident_address", how="left"), "incident_address",
                         ["kind", "weight"])
    locations = pl.concat([locations.filter(pl.col("kind") != "home"),
                           locations.filter(pl.col("kind") == "home").head(REPEAT_HOMES)])
    phones = calls.filter(pl.col("caller_phone").is_not_null()).with_columns(
        phone=pl.col("caller_phone").map_elements(normalise_phone, return_dtype=pl.String))
    callers = _counted(phones, "phone", ["caller_type"]).head(REPEAT_CALLERS)
    return {
        "dataset": POLICE_CALLS, "officer_initiated": "left out",
        "locations": [{k: v for k, v in row.items() if k != "incident_address"} | {"weight": round(row["weight"], 3)}
                      for row in locations.iter_rows(named=True)],
        "callers": [{k: v for k, v in row.items() if k != "phone"} for row in callers.iter_rows(named=True)],
    }


def _counted(calls: pl.DataFrame, key: str, keep: list[str]) -> pl.DataFrame:
    """Contacts per ``key`` (most first), one record id, and contacts per calendar year."""
    years = calls.group_by(key, "year").len().sort("year").group_by(key).agg(
        pl.col("year").alias("_years"), pl.col("len").alias("_counts"))
    counted = calls.group_by(key).agg(pl.len().alias("contacts"), pl.col("incident_ref").min().alias("record"),
                                      *[pl.col(c).first() for c in keep])
    counted = counted.join(years, on=key).sort(["contacts", "record"], descending=[True, False])
    by_year = [dict(zip(y, n, strict=True)) for y, n in zip(counted["_years"], counted["_counts"], strict=True)]
    return counted.drop("_years", "_counts").with_columns(pl.Series("by_year", by_year, dtype=pl.Object))


def _totals(code: str, frame: pl.DataFrame) -> dict[str, Any]:
    month = frame["Month"] if code == POLICE_UK else frame["_at"].dt.strftime("%Y-%m")
    bad = (frame["date_received"] == PLACEHOLDER_DATE) if code == COUNCIL else pl.Series([False] * frame.height)
    counts = pl.DataFrame({"month": month, "bad": bad}).group_by("month").agg(
        pl.len().alias("rows"), pl.col("bad").sum().alias("quarantined")).sort("month")
    return {
        "rows": frame.height, "stored": frame.height - int(bad.sum()), "quarantined": int(bad.sum()),
        "by_month": {r["month"]: {"rows": r["rows"], "stored": r["rows"] - r["quarantined"]}
                     for r in counts.iter_rows(named=True)},
    }

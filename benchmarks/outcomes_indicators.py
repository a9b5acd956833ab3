"""Shared outcomes at scale: 25 indicators with SPC for 1,000 small areas × 60 months, against a naive alternative.

The place: 1,000 square small areas (level ``lsoa``, 40 × 25) nesting in 100 neighbourhoods (``msoa``) and 4
districts (``lad``), plus 126 wards (``ward``) drawn across them, so the lookups include area- and
population-weighted ones. Boundaries, population (5 years) and deprivation go in through the product's
loaders. About 1.9 million events of four partners' datasets over 60 months are written as store segments the
way the ingest pipeline writes them (one per dataset month, committed with their loads in one transaction);
most are coded to a small area, some only to a neighbourhood (spread down by the lookups).

Product: ``indicator_values`` (every level, all three period types: month, rolling 12 months, whole span, with
intervals, place and peer comparisons and lineage) and then ``indicator_signals`` on its monthly values (one SPC
chart per place × indicator), for the 25 indicators in ``FRAMEWORK``.

Alternative, the approach the product replaces: pandas. The events are read once into a pandas frame; for
each indicator the rows are picked by boolean masks, counted by ``groupby`` per small area and month, carried
to every level by merging the lookups and grouping again, divided by person-years (monthly values only, no
intervals, rolling periods or peers), and then one ``spc.xmr`` / ``spc.laney_*`` call is made per place series.
The per-series SPC calls are timed on the first ``SAMPLE_SERIES`` series of each indicator and scaled up to all
series (stated in the output). The alternative does strictly less work than the product, so the ratio is a
lower bound. Both sides' monthly numerators are compared, so the two compute the same thing.

Each side runs in its own Python process (after the store is built) so its peak memory (ru_maxrss) is its own;
times exclude starting Python and the imports.

Run: ``.venv/bin/python benchmarks/outcomes_indicators.py`` (target: product under 20 s on two cores).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import shapely

SEED = 20260101
COLUMNS, ROWS = 40, 25  # small areas on a grid: 1,000
MSOA_BLOCK = (2, 5)  # small areas per neighbourhood: 2 across, 5 down (100 neighbourhoods)
LAD_COLUMNS = 10  # grid columns per district (4 districts)
WARD_STEP, WARD_OFFSET = 3, 1.5  # wards: 3 × 3 cells, shifted by half of that, so they cut across neighbourhoods
WEST, SOUTH, WIDTH, HEIGHT = -2.90, 53.60, 0.012, 0.008  # degrees: cells of about 0.8 km × 0.9 km
FIRST_MONTH, MONTHS = date(2020, 1, 1), 60
YEARS = range(2020, 2025)
TARGET_SECONDS = 20.0
SAMPLE_SERIES = 12  # per indicator, for the alternative's per-series SPC calls
PLACE = "bench-vale"

# dataset: (partner, kind, mean events per small area a month, categories and their shares, flag shares)
DATASETS: dict[str, dict[str, Any]] = {
    "bench-police-calls": {
        "partner": "police-bench-vale", "kind": "call_for_service", "rate": 14.0,
        "categories": {"concern_for_welfare": 0.2, "violence": 0.15, "theft": 0.15, "police_asb": 0.2,
                       "traffic": 0.1, "police_other": 0.2},
        "flags": {"flag_mental_health": 0.18, "flag_alcohol": 0.1, "flag_domestic_abuse": 0.12,
                  "flag_self_initiated": 0.15},
    },
    "bench-ambulance-incidents": {
        "partner": "ambulance-bench-vale", "kind": "ambulance_incident", "rate": 6.0,
        "categories": {"ambulance_falls": 0.25, "ambulance_injury": 0.2, "ambulance_breathing": 0.2,
                       "ambulance_chest_pain": 0.15, "ambulance_alcohol": 0.1, "ambulance_other": 0.1},
        "flags": {"flag_mental_health": 0.08},
    },
    "bench-ae-attendances": {
        "partner": "acute-bench-vale", "kind": "ae_attendance", "rate": 8.0,
        "categories": {"ae_injury": 0.35, "ae_mental_health": 0.08, "ae_self_harm": 0.04, "ae_alcohol": 0.06,
                       "ae_other": 0.47},
        "flags": {}, "people_per_area": 400,
    },
    "bench-council-reports": {
        "partner": "council-bench-vale", "kind": "council_report", "rate": 3.0,
        "categories": {"council_fly_tipping": 0.3, "council_noise": 0.25, "council_housing_disrepair": 0.2,
                       "council_asb": 0.15, "council_pest": 0.1},
        "flags": {}, "neighbourhood_only": 0.1,
    },
}


def _indicator(code: str, numerator: str, *, denominator: str = "{population: {of: residents}}",
               polarity: str = "decrease", extra: str = "", spc: str = '{baseline: {until: "2022-12"}}') -> str:
    lines = [f"      - code: {code}", f"        title: {code.replace('-', ' ').capitalize()}",
             f"        numerator: {numerator}", f"        denominator: {denominator}",
             f"        polarity: {polarity}", f"        spc: {spc}"]
    return "\n".join(lines + ([f"        {extra}"] if extra else []))


POLICE, AMBULANCE, AE, COUNCIL = DATASETS
OUTCOMES = {
    "crisis-care": [
        _indicator("mh-police-incidents", f"{{datasets: [{POLICE}], flags: {{mental_health: true}}}}"),
        _indicator("ambulance-mental-health", f"{{datasets: [{AMBULANCE}], flags: {{mental_health: true}}}}"),
        _indicator("ae-mental-health", f"{{datasets: [{AE}], categories: [ae_mental_health]}}", extra="target: 5"),
        _indicator("ae-self-harm", f"{{datasets: [{AE}], categories: [ae_self_harm]}}", extra="ci_method: exact"),
        _indicator("mh-share-of-police-demand", f"{{datasets: [{POLICE}], flags: {{mental_health: true}}}}",
                   denominator=f"{{events: {{datasets: [{POLICE}]}}}}", extra="ci_method: wilson"),
    ],
    "safer-streets": [
        _indicator("violence-calls", f"{{datasets: [{POLICE}], categories: [violence]}}"),
        _indicator("theft-calls", f"{{datasets: [{POLICE}], categories: [theft]}}", extra="ci_method: byar"),
        _indicator("asb-calls", f"{{datasets: [{POLICE}], categories: [police_asb]}}",
                   spc='{profile: nhsr, baseline: {fix_after: 24}}'),
        _indicator("domestic-incidents", f"{{datasets: [{POLICE}], flags: {{domestic_abuse: true}}}}",
                   polarity="neutral"),
        _indicator("alcohol-share-of-police-demand", f"{{datasets: [{POLICE}], flags: {{alcohol: true}}}}",
                   denominator=f"{{events: {{datasets: [{POLICE}]}}}}", extra="ci_method: wilson",
                   spc="{chart: laney_p}"),
    ],
    "decent-homes": [
        _indicator("fly-tipping", f"{{datasets: [{COUNCIL}], categories: [council_fly_tipping]}}"),
        _indicator("noise-complaints", f"{{datasets: [{COUNCIL}], categories: [council_noise]}}",
                   spc='{profile: mdc-6, baseline: {until: "2022-12"}}'),
        _indicator("housing-disrepair", f"{{datasets: [{COUNCIL}], categories: [council_housing_disrepair]}}",
                   spc='{baseline: {until: "2022-12"}, rebase: [{month: "2023-07", reason: new reporting form, '
                       'approver: Housing Board}]}'),
        _indicator("council-asb", f"{{datasets: [{COUNCIL}], categories: [council_asb]}}",
                   spc='{screen_outliers: true, baseline: {until: "2022-12"}}'),
        _indicator("council-reports", f"{{datasets: [{COUNCIL}]}}", spc="{chart: laney_u}"),
    ],
    "urgent-care": [
        _indicator("ae-attendances", f"{{datasets: [{AE}]}}", extra="target: 90"),
        _indicator("ae-attenders", f"{{datasets: [{AE}], count: distinct_subjects}}"),
        _indicator("ambulance-incidents", f"{{datasets: [{AMBULANCE}]}}"),
        _indicator("ambulance-falls", f"{{datasets: [{AMBULANCE}], categories: [ambulance_falls]}}"),
        _indicator("alcohol-harm", f"{{datasets: [{AE}, {AMBULANCE}], categories: [ae_alcohol, ambulance_alcohol]}}"),
    ],
    "police-time": [
        _indicator("self-initiated-share", f"{{datasets: [{POLICE}], flags: {{self_initiated: true}}}}",
                   denominator=f"{{events: {{datasets: [{POLICE}]}}}}", polarity="increase",
                   extra="ci_method: wilson"),
        _indicator("police-calls", f"{{datasets: [{POLICE}]}}", spc='{baseline: {until: "2022-12"}}'),
        _indicator("welfare-calls", f"{{datasets: [{POLICE}], categories: [concern_for_welfare]}}"),
        _indicator("assault-injuries", f"{{datasets: [{AMBULANCE}, {AE}], categories: [ambulance_injury, ae_injury]}}"),
        _indicator("traffic-calls", f"{{datasets: [{POLICE}], kinds: [call_for_service], categories: [traffic]}}",
                   polarity="neutral"),
    ],
}
FRAMEWORK = "\n".join([
    f"code: {PLACE}", "name: Bench Vale shared outcomes", 'version: "bench"',
    f"place: {{code: {PLACE}, name: Bench Vale}}",
    "outcomes:",
    *(f"  - code: {code}\n    title: {code.replace('-', ' ').capitalize()}\n    indicators:\n" + "\n".join(indicators)
      for code, indicators in OUTCOMES.items()),
]) + "\n"


# -- the place ----------------------------------------------------------------------------------------------


def cell(column: float, row: float, right: float, top: float) -> dict[str, Any]:
    box = shapely.box(WEST + column * WIDTH, SOUTH + row * HEIGHT, WEST + right * WIDTH, SOUTH + top * HEIGHT)
    return shapely.geometry.mapping(box)  # type: ignore[no-any-return]


def small_area(column: int, row: int) -> tuple[str, str, str]:
    """(lsoa, msoa, lad) codes of a grid cell."""
    index = row * COLUMNS + column
    msoa = (row // MSOA_BLOCK[1]) * (COLUMNS // MSOA_BLOCK[0]) + column // MSOA_BLOCK[0]
    return f"B01{index:06d}", f"B02{msoa:06d}", f"B07{column // LAD_COLUMNS:06d}"


def boundary_files(folder: Path) -> dict[str, Path]:
    cells = [(c, r, *small_area(c, r)) for r in range(ROWS) for c in range(COLUMNS)]
    features: dict[str, dict[str, Any]] = {"lsoa": {}, "msoa": {}, "lad": {}, "ward": {}}
    for c, r, lsoa, msoa, lad in cells:
        features["lsoa"][lsoa] = cell(c, r, c + 1, r + 1)
        features["msoa"].setdefault(msoa, (c - c % MSOA_BLOCK[0], r - r % MSOA_BLOCK[1]))
        features["lad"].setdefault(lad, (c - c % LAD_COLUMNS,))
    features["msoa"] = {k: cell(c, r, c + MSOA_BLOCK[0], r + MSOA_BLOCK[1]) for k, (c, r) in features["msoa"].items()}
    features["lad"] = {k: cell(c, 0, c + LAD_COLUMNS, ROWS) for k, (c,) in features["lad"].items()}
    xs = [0.0, *np.arange(WARD_OFFSET, COLUMNS, WARD_STEP), float(COLUMNS)]
    ys = [0.0, *np.arange(WARD_OFFSET, ROWS, WARD_STEP), float(ROWS)]
    features["ward"] = {f"B05{i * 100 + j:06d}": cell(x0, y0, x1, y1) for i, (x0, x1) in enumerate(pairwise(xs))
                        for j, (y0, y1) in enumerate(pairwise(ys))}
    paths = {}
    for level, shapes in features.items():
        paths[level] = folder / f"{level}.geojson"
        paths[level].write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": code, "name": f"Bench {level} {code[-4:]}"}, "geometry": shape}
            for code, shape in shapes.items()]}))
    return paths


def context_files(folder: Path, rng: np.random.Generator) -> tuple[Path, Path, pl.DataFrame]:
    codes = [small_area(c, r)[0] for r in range(ROWS) for c in range(COLUMNS)]
    people = rng.integers(1200, 2200, len(codes)).astype(float)
    score = rng.gamma(2.0, 10.0, len(codes))
    rank = (-score).argsort().argsort() + 1
    population = pl.DataFrame({"lsoa code": np.repeat(codes, len(YEARS)), "year": np.tile(list(YEARS), len(codes)),
                               "population": np.round(np.repeat(people, len(YEARS)) * np.tile(
                                   [1 + 0.005 * i for i in range(len(YEARS))], len(codes)))})
    deprivation = pl.DataFrame({"lsoa code": codes, "imd rank": rank, "imd decile": (rank - 1) * 10 // len(codes) + 1,
                                "imd score": np.round(score, 3)})
    population.write_csv(folder / "population.csv")
    deprivation.write_csv(folder / "deprivation.csv")
    areas = pl.DataFrame({"lsoa": codes, "msoa": [small_area(c, r)[1] for r in range(ROWS) for c in range(COLUMNS)],
                          "people": people, "score": score})
    return folder / "population.csv", folder / "deprivation.csv", areas


def events_of(dataset: str, spec: dict[str, Any], areas: pl.DataFrame, rng: np.random.Generator,
              load_id: str) -> pl.DataFrame:
    """Poisson counts per small area and month (more in busier, more deprived areas, with a season), one row
    per event; a share known only by its neighbourhood."""
    months = pl.date_range(FIRST_MONTH, date(FIRST_MONTH.year + MONTHS // 12 - 1, 12, 1), "1mo", eager=True)
    busy = (areas["people"] / 1700 * (0.6 + areas["score"] / 40)).to_numpy()
    season = 1 + 0.1 * np.sin(np.arange(MONTHS) * 2 * np.pi / 12)
    counts = rng.poisson(spec["rate"] * np.outer(busy, season)).ravel()
    area = np.repeat(np.repeat(np.arange(areas.height), MONTHS), counts)
    month = np.repeat(np.tile(np.arange(MONTHS), areas.height), counts)
    n = len(area)
    names, shares = list(spec["categories"]), list(spec["categories"].values())
    coarse = rng.random(n) < spec.get("neighbourhood_only", 0.0)
    codes = np.where(coarse, areas["msoa"].to_numpy()[area], areas["lsoa"].to_numpy()[area])
    people = spec.get("people_per_area")
    subject = (pl.Series(np.char.add(np.char.add(areas["lsoa"].to_numpy()[area], "-"),
                                     rng.integers(0, people, n).astype(str))) if people else pl.lit(None, pl.String))
    frame = pl.DataFrame({
        "event_id": [f"{dataset}-{i}" for i in range(n)], "source_line": np.arange(2, n + 2),
        "category": np.array(names)[rng.choice(len(names), n, p=shares)],
        "occurred_month": months.gather(month), "source_area_code": codes,
        "source_area_level": np.where(coarse, "msoa", "lsoa"),
        **{flag: rng.random(n) < share for flag, share in spec["flags"].items()},
    })
    from wholeplace.model.events import EVENT_SCHEMA

    return frame.with_columns(
        pl.lit(dataset).alias("dataset"), pl.lit(spec["partner"]).alias("partner"), pl.lit(spec["kind"]).alias("kind"),
        pl.lit(load_id).alias("load_id"), pl.col("occurred_month").dt.strftime("%Y-%m").alias("partition_key"),
        pl.lit("bench-1").alias("mapping_version"), pl.lit("month").alias("time_precision"),
        pl.lit("area_only").alias("location_status"), subject.alias("subject_token"),
    ).select([pl.col(c) if c in frame.columns or c in {"dataset", "partner", "kind", "load_id", "partition_key",
                                                       "mapping_version", "time_precision", "location_status",
                                                       "subject_token"}
              else pl.lit(None).alias(c) for c in EVENT_SCHEMA.names])


def store_events(stores: Any, areas: pl.DataFrame, rng: np.random.Generator) -> int:
    """Each dataset's events as one load with a segment per month, committed in one transaction."""
    from wholeplace.store.operational import DatasetRow, LoadRow, PartnerRow, utcnow
    from wholeplace.store.stores import StagedLoad, StagedSegment

    staged, total = [], 0
    for dataset, spec in DATASETS.items():
        load_id = uuid.uuid4().hex
        events = events_of(dataset, spec, areas, rng, load_id)
        segments = [StagedSegment("events", dataset, str(key[0]), stores.analytic.write_segment(
            "events", dataset, part.to_arrow()), part.height)
            for key, part in events.partition_by("partition_key", as_dict=True).items()]
        now = utcnow()
        load = LoadRow(id=load_id, dataset=dataset, adapter="benchmark", file_name=f"{dataset}.csv",
                       file_path=f"/benchmark/{dataset}.csv", file_sha256=uuid.uuid4().hex * 2, file_bytes=0,
                       mapping_version="bench-1", status="active", started_at=now, finished_at=now,
                       rows_read=events.height, rows_stored=events.height,
                       partitions=sorted(s.partition_key for s in segments))
        partner = PartnerRow(code=spec["partner"], name=spec["partner"], kind=spec["partner"].split("-")[0])
        staged.append(StagedLoad(load, segments, partner, DatasetRow(code=dataset, partner_code=spec["partner"],
                                                                     kind=spec["kind"], title=dataset)))
        total += events.height
    stores.commit_loads(staged)
    return total


def build_place(data_dir: Path) -> dict[str, Any]:
    from wholeplace.geography.boundaries import load_boundaries
    from wholeplace.geography.context import load_deprivation, load_population
    from wholeplace.outcomes.framework import import_framework
    from wholeplace.settings import Settings
    from wholeplace.store import open_stores

    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    source = data_dir.parent / "source"
    source.mkdir(parents=True)
    stores = open_stores(Settings(data_dir=data_dir, partnership_key_file=None))
    boundaries = boundary_files(source)
    for level, parent in (("lad", None), ("msoa", "lad"), ("lsoa", "msoa"), ("ward", "lad")):
        load_boundaries(stores=stores, path=boundaries[level], level=level, code_field="code", name_field="name",
                        parent_level=parent)
    population, deprivation, areas = context_files(source, rng)
    load_population(stores=stores, path=population, level="lsoa")
    load_deprivation(stores=stores, path=deprivation, level="lsoa")
    events = store_events(stores, areas, rng)
    import_framework(stores=stores, text=FRAMEWORK, actor="benchmark")
    con = stores.connect()
    levels = dict(con.execute("SELECT level, count(*) FROM areas GROUP BY 1").fetchall())
    methods = sorted(r[0] for r in con.execute("SELECT DISTINCT method FROM area_lookups").fetchall())
    stores.close()
    return {"seconds": time.perf_counter() - started, "events": events, "levels": levels, "methods": methods}


# -- the two sides ------------------------------------------------------------------------------------------


def run_product(data_dir: Path) -> dict[str, Any]:
    """``indicator_values`` (all periods) then ``indicator_signals`` on its monthly values."""
    from wholeplace.outcomes.signals import indicator_signals
    from wholeplace.outcomes.values import indicator_values
    from wholeplace.settings import Settings
    from wholeplace.store import open_stores

    stores = open_stores(Settings(data_dir=data_dir, partnership_key_file=None))
    started = time.perf_counter()
    values = indicator_values(stores=stores, framework=PLACE)
    valued = time.perf_counter()
    signals = indicator_signals(stores=stores, framework=PLACE, values=values)
    finished = time.perf_counter()
    monthly = values.values.filter(pl.col("period_type") == "month")
    return {"values_seconds": valued - started, "signals_seconds": finished - valued, "seconds": finished - started,
            "value_rows": values.values.height, "monthly_rows": monthly.height, "points": signals.points.height,
            "series": signals.summary.height, "unavailable": {**values.unavailable, **signals.unavailable},
            "improving": signals.summary.filter(pl.col("turning_the_curve") == "improving").height,
            "numerators": _numerator_sums(monthly)}


def _numerator_sums(monthly: pl.DataFrame) -> dict[str, float]:
    """Sum of the monthly numerators of each indicator at each level: the same on both sides."""
    sums = monthly.group_by("indicator", "level").agg(pl.col("numerator").sum())
    return {f"{i}/{level}": round(n, 6) for i, level, n in sums.iter_rows()}


def run_alternative(data_dir: Path) -> dict[str, Any]:
    """pandas group-bys per indicator, then one SPC call per place series (sampled, scaled up)."""
    import pandas as pd

    from wholeplace.outcomes.framework import current_framework
    from wholeplace.settings import Settings
    from wholeplace.store import open_stores

    stores = open_stores(Settings(data_dir=data_dir, partnership_key_file=None))
    started = time.perf_counter()
    con = stores.connect()
    events = con.execute("SELECT dataset, kind, category, occurred_month AS month, area_code, area_level, "
                         "subject_token, flag_mental_health, flag_alcohol, flag_domestic_abuse, flag_self_initiated "
                         "FROM events").df()
    lookups = con.execute("SELECT * FROM area_lookups").df()
    population = con.execute("SELECT area_code, year, population FROM population").df()
    framework = current_framework(stores=stores, code=PLACE).framework
    rollup, down = _pandas_lookups(lookups)
    residents = _pandas_person_years(population, rollup)
    monthly, spc_seconds, sampled, series = [], 0.0, 0, 0
    for indicator in framework.indicators():
        frame = _pandas_values(indicator, events, rollup, down, residents)
        monthly.append(frame.assign(indicator=indicator.code))
        seconds, calls, total = _pandas_spc(frame, indicator)
        spc_seconds, sampled, series = spc_seconds + seconds, sampled + calls, series + total
    counted = time.perf_counter() - started
    scaled = spc_seconds * series / sampled
    values = pl.from_pandas(pd.concat(monthly, ignore_index=True))
    return {"count_seconds": counted - spc_seconds, "spc_sample_seconds": spc_seconds, "spc_calls": sampled,
            "series": series, "spc_scaled_seconds": scaled, "seconds": counted - spc_seconds + scaled,
            "numerators": _numerator_sums(values)}


def _pandas_lookups(lookups: Any) -> tuple[Any, Any]:
    """Small area -> every level (nested, else population-weighted, else area-weighted), and coarser -> small."""
    import pandas as pd

    best = {"nested": 0, "population-weighted": 1, "area-weighted": 2}
    up = lookups[(lookups.from_level == "lsoa") & lookups.method.isin(list(best))].copy()
    up["rank"] = up.method.map(best)
    up = up[up["rank"] == up.groupby("to_level")["rank"].transform("min")]
    codes = lookups.loc[lookups.from_level == "lsoa", "from_code"].unique()
    rollup = pd.concat([
        up.rename(columns={"from_code": "lsoa", "to_level": "level", "to_code": "area_code"})[
            ["lsoa", "level", "area_code", "weight"]],
        pd.DataFrame({"lsoa": codes, "level": "lsoa", "area_code": codes, "weight": 1.0}),
        pd.DataFrame({"lsoa": codes, "level": "place", "area_code": PLACE, "weight": 1.0})])
    down = lookups[(lookups.to_level == "lsoa") & (lookups.method == "population-weighted")]
    return rollup, down.rename(columns={"from_code": "area_code", "to_code": "lsoa"})[["area_code", "lsoa", "weight"]]


def _pandas_person_years(population: Any, rollup: Any) -> Any:
    import pandas as pd

    months = pd.DataFrame({"month": pd.date_range(FIRST_MONTH, periods=MONTHS, freq="MS")})
    months["year"] = months.month.dt.year.clip(min(YEARS), max(YEARS))
    frame = population.merge(months, on="year").rename(columns={"area_code": "lsoa"}).merge(rollup, on="lsoa")
    frame["n"] = frame.population * frame.weight / 12
    return frame.groupby(["level", "area_code", "month"], as_index=False)["n"].sum()


def _pandas_counts(chosen: Any, events: Any, rollup: Any, down: Any) -> Any:
    """Events matching a filter, counted per small area and month, then carried to every level."""
    rows = events[events.dataset.isin(chosen.datasets)]
    if chosen.categories:
        rows = rows[rows.category.isin(chosen.categories)]
    if chosen.kinds:
        rows = rows[rows.kind.isin([str(k) for k in chosen.kinds])]
    for flag, wanted in chosen.flags.items():
        rows = rows[rows[f"flag_{flag}"].fillna(False) == wanted]
    fine = rows[rows.area_level == "lsoa"].groupby(["area_code", "month"], as_index=False).size()
    fine = fine.rename(columns={"area_code": "lsoa", "size": "n"})
    coarse = rows[rows.area_level != "lsoa"].groupby(["area_code", "month"], as_index=False).size().merge(
        down, on="area_code")
    coarse["n"] = coarse["size"] * coarse.weight
    both = (fine.merge(rollup, on="lsoa") if coarse.empty else
            __import__("pandas").concat([fine, coarse[["lsoa", "month", "n"]]]).merge(rollup, on="lsoa"))
    both["n"] = both.n * both.weight
    return both.groupby(["level", "area_code", "month"], as_index=False)["n"].sum()


def _pandas_values(indicator: Any, events: Any, rollup: Any, down: Any, residents: Any) -> Any:
    numerator = _pandas_counts(indicator.numerator, events, rollup, down).rename(columns={"n": "numerator"})
    if indicator.numerator.count == "distinct_subjects":  # people: counted once per area and month
        rows = events[events.dataset.isin(indicator.numerator.datasets) & (events.area_level == "lsoa")]
        best = rollup.sort_values("weight", ascending=False).drop_duplicates(["lsoa", "level"])
        people = rows.rename(columns={"area_code": "lsoa"}).merge(best, on="lsoa")
        numerator = people.groupby(["level", "area_code", "month"], as_index=False)["subject_token"].nunique()
        numerator = numerator.rename(columns={"subject_token": "numerator"})
    denominator = (residents.rename(columns={"n": "denominator"}) if indicator.denominator.population is not None
                   else _pandas_counts(indicator.denominator.events, events, rollup, down).rename(
                       columns={"n": "denominator"}))
    frame = denominator.merge(numerator, on=["level", "area_code", "month"], how="left").fillna({"numerator": 0.0})
    frame["value"] = frame.numerator / frame.denominator * indicator.multiplier
    return frame


def _pandas_spc(frame: Any, indicator: Any) -> tuple[float, int, int]:
    """One SPC call per place series, for the first SAMPLE_SERIES series: (seconds, calls, series)."""
    from wholeplace.outcomes import spc
    from wholeplace.outcomes.framework import month_start

    settings = indicator.spc
    groups = list(frame.groupby(["level", "area_code"]))
    rebase = [spc.Rebase(month_start(r.month), r.reason, r.approver) for r in settings.rebase]
    started = time.perf_counter()
    for _, series in groups[:SAMPLE_SERIES]:
        one = pl.from_pandas(series.sort_values("month")).with_columns(pl.col("month").cast(pl.Date))
        common: dict[str, Any] = {"x": "month", "direction": indicator.polarity.value, "rebase": rebase,
                                  "screen_outliers": settings.screen_outliers, "profile": settings.profile}
        if settings.chart == "xmr":
            baseline = settings.baseline
            fix = None if baseline is None else baseline.fix_after or int(
                (one["month"] <= month_start(baseline.until)).sum())
            spc.xmr(one, y="value", fix_after=fix, target=indicator.target, **common)
        else:
            chart = spc.laney_p if settings.chart == "laney_p" else spc.laney_u
            chart(one, numerator="numerator", denominator="denominator", **common)
    return time.perf_counter() - started, min(SAMPLE_SERIES, len(groups)), len(groups)


# -- running ------------------------------------------------------------------------------------------------


def measure(part: str, data_dir: Path) -> dict[str, Any]:
    """Run one side in a fresh interpreter and return its figures with its own peak memory."""
    output = subprocess.run([sys.executable, __file__, part, str(data_dir)], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        place = build_place(data_dir)
        print(f"place: {', '.join(f'{n:,} {lv}' for lv, n in sorted(place['levels'].items()))} areas; lookups "
              f"{', '.join(place['methods'])}; {place['events']:,} events of {len(DATASETS)} datasets over "
              f"{MONTHS} months; {FRAMEWORK.count('      - code:')} indicators (built in {place['seconds']:.1f} s)")
        product, alternative = measure("product", data_dir), measure("alternative", data_dir)
    differ = {k for k in product["numerators"] if abs(product["numerators"][k] - alternative["numerators"].get(
        k, float("nan"))) > 1e-6 * max(1.0, abs(product["numerators"][k]))}
    ratio = alternative["seconds"] / product["seconds"]
    print(f"product: {product['seconds']:.2f} s (indicator_values, all periods: {product['values_seconds']:.2f} s, "
          f"{product['value_rows']:,} values; indicator_signals: {product['signals_seconds']:.2f} s, "
          f"{product['series']:,} charts, {product['points']:,} points); peak memory {product['max_rss_mb']:,.0f} MB")
    if product["unavailable"]:
        print(f"  unavailable: {product['unavailable']}")
    print(f"alternative (pandas group-bys, monthly values only; one SPC call per series): "
          f"{alternative['seconds']:.2f} s (counting {alternative['count_seconds']:.2f} s; SPC "
          f"{alternative['spc_sample_seconds']:.2f} s for {alternative['spc_calls']} of {alternative['series']:,} "
          f"series, scaled to {alternative['spc_scaled_seconds']:.2f} s); peak memory "
          f"{alternative['max_rss_mb']:,.0f} MB")
    print(f"monthly numerators agree for {len(product['numerators']) - len(differ)} of {len(product['numerators'])} "
          f"indicator levels{'; differ: ' + ', '.join(sorted(differ)) if differ else ''}")
    print(f"ratio alternative / product {ratio:.1f}x (counting alone: pandas {alternative['count_seconds']:.2f} s for "
          f"monthly values against indicator_values {product['values_seconds']:.2f} s for all periods, "
          f"{alternative['count_seconds'] / product['values_seconds']:.1f}x); target: product under "
          f"{TARGET_SECONDS:.0f} s")
    return 0 if product["seconds"] < TARGET_SECONDS and not differ else 1


if __name__ == "__main__":
    if len(sys.argv) == 3:
        figures = (run_product if sys.argv[1] == "product" else run_alternative)(Path(sys.argv[2]))
        figures["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
    else:
        sys.exit(main())

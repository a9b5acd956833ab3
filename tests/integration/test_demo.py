"""`build_demo` end to end at a tenth of full volume: everything loads through the normal ingest
path, the planted truth can be recovered from the store, and no identifier is stored in clear.

Building the demo takes tens of seconds, so the read-only checks share one build; tests that
change a data folder make their own.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from wholeplace.errors import UserError
from wholeplace.ingest.pipeline import load_files
from wholeplace.ingest.police_uk import PoliceUkAdapter
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores
from wholeplace.store.operational import LoadRow
from wholeplace.synth.demo import DemoResult, build_demo

SCALE = 0.1
SEED = 20260101


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo") / "data", partnership_key_file=None)
    return build_demo(settings=settings, seed=SEED, scale=SCALE)


@pytest.fixture(scope="module")
def stores(demo: DemoResult) -> Stores:
    return open_stores(demo.settings)


@pytest.fixture(scope="module")
def truth(demo: DemoResult) -> dict[str, Any]:
    return json.loads(demo.truth_path.read_text())  # type: ignore[no-any-return]


def test_every_file_is_loaded_and_every_row_stored_or_quarantined_as_planted(
        demo: DemoResult, stores: Stores, truth: dict[str, Any]) -> None:
    with stores.sessions() as session:
        loads = session.scalars(select(LoadRow).where(LoadRow.status == "active")).all()
    assert len(loads) == 6 * 24
    assert all(load.rows_read == load.rows_stored + load.rows_quarantined for load in loads)
    stored = dict(stores.connect().execute("SELECT dataset, count(*) FROM events GROUP BY dataset").fetchall())
    assert stored == {code: totals["stored"] for code, totals in truth["totals"].items()}
    quarantined = sum(load.rows_quarantined for load in loads)
    assert quarantined == sum(totals["quarantined"] for totals in truth["totals"].values())
    assert quarantined <= 0.001 * sum(load.rows_read for load in loads)


def test_the_boundaries_population_and_deprivation_are_loaded(stores: Stores, truth: dict[str, Any]) -> None:
    con = stores.connect()
    levels = dict(con.execute("SELECT level, count(*) FROM areas GROUP BY level").fetchall())
    assert levels == truth["place"]["areas"]
    residents = con.execute("SELECT sum(population) FROM population WHERE year = 2023").fetchone()[0]  # type: ignore[index]
    assert residents == pytest.approx(truth["place"]["residents"], rel=0.02)
    assert con.execute("SELECT count(*) FROM deprivation").fetchone()[0] == levels["lsoa"]  # type: ignore[index]
    placed = con.execute("SELECT count(*) FILTER (WHERE place_status = 'out_of_area') FROM events").fetchone()[0]  # type: ignore[index]
    assert placed == 0


def test_the_driver_areas_have_significantly_more_burglary_fly_tipping_and_noise(
        stores: Stores, truth: dict[str, Any]) -> None:
    rows = stores.connect().execute("""
        SELECT p.area_code, p.population,
               count(e.event_id) FILTER (WHERE e.category IN ('burglary', 'council_fly_tipping', 'council_noise')
                                         AND e.dataset <> 'demo-police-calls') AS n
        FROM population p LEFT JOIN events e ON e.area_code = p.area_code AND e.area_level = 'lsoa'
        WHERE p.year = 2024 GROUP BY ALL""").pl()
    rows = rows.with_columns(driver=pl.col("area_code").is_in(truth["driver"]["areas"]))
    totals = rows.group_by("driver").agg(pl.col("n").sum(), pl.col("population").sum())
    n = dict(zip(totals["driver"], totals["n"], strict=True))
    people = dict(zip(totals["driver"], totals["population"], strict=True))
    log_ratio = math.log((n[True] / people[True]) / (n[False] / people[False]))
    assert log_ratio / math.sqrt(1 / n[True] + 1 / n[False]) > 4  # a Poisson rate ratio far beyond chance
    assert math.exp(log_ratio) > 1.8


def test_mental_health_calls_fall_by_the_planted_effect_in_the_pilot_areas(
        stores: Stores, truth: dict[str, Any]) -> None:
    pilot = truth["intervention"]
    rows = stores.connect().execute("""
        SELECT area_code, occurred_month >= CAST(? AS DATE) AS post, count(*) AS n FROM events
        WHERE dataset = ? AND flag_mental_health GROUP BY ALL""",
        [pilot["start_month"] + "-01", pilot["dataset"]]).pl()
    rows = rows.with_columns(in_pilot=pl.col("area_code").is_in(pilot["areas"]))
    n = {(r["in_pilot"], r["post"]): r["n"] for r in rows.group_by("in_pilot", "post").agg(pl.col("n").sum())
         .iter_rows(named=True)}
    ratio = (n[True, True] / n[True, False]) / (n[False, True] / n[False, False])
    standard_error = math.sqrt(sum(1 / v for v in n.values()))
    assert abs(math.log(ratio) - math.log(pilot["rate_ratio"])) < 2.5 * standard_error
    assert ratio < 0.9


def test_no_identifier_is_stored_in_clear(demo: DemoResult, stores: Stores) -> None:
    needles = _identifiers(demo.source_dir)
    con = stores.connect()
    con.register("needles", pl.DataFrame({"value": sorted(needles)}).to_arrow())
    for table in ("events_stored", "person_keys", "quarantine"):
        columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
        text = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in columns)
        found = con.execute(f"SELECT n.value FROM (SELECT {text} AS row FROM {table}) t, needles n "
                            "WHERE contains(t.row, n.value) LIMIT 5").fetchall()
        assert found == [], table
    tokens = con.execute("SELECT count(subject_token), count(caller_token), count(address_token) "
                         "FROM events").fetchone()
    assert all(count > 0 for count in tokens)  # type: ignore[union-attr]


def _identifiers(source: Path) -> set[str]:
    """Distinctive identifiers from the partner files: NHS numbers, phones, postcodes, addresses, names."""
    columns = {"ae": ["nhs_number", "postcode", "surname"], "ambulance": ["nhs_number", "patient_surname"],
               "crisis": ["nhs_number", "postcode"], "council": ["reporter_phone", "location_address", "reporter_name"],
               "police-calls": ["caller_phone", "incident_address", "person_surname"]}
    needles: set[str] = set()
    for folder, names in columns.items():
        frame = pl.read_csv(source / folder / f"{folder}-2023-06.csv", infer_schema=False)
        for name in names:
            values = frame[name].drop_nulls().unique().sort().head(40).to_list()
            needles |= {v for v in values if len(v) >= 6}  # long enough not to occur by chance
    return needles


def test_a_second_build_reuses_the_place_quickly(demo: DemoResult) -> None:
    started = time.monotonic()
    again = build_demo(settings=Settings(data_dir=demo.settings.data_dir), seed=SEED, scale=SCALE)
    assert again.reused and time.monotonic() - started < 2
    assert again.totals == demo.totals
    assert again.settings.partnership_key_file == demo.settings.partnership_key_file
    assert "Reused" in again.summary()


def test_a_demo_with_another_seed_is_refused_in_the_same_folder(demo: DemoResult) -> None:
    with pytest.raises(UserError, match="seed 20260101") as refused:
        build_demo(settings=Settings(data_dir=demo.settings.data_dir), seed=1, scale=SCALE)
    assert "--data-dir" in str(refused.value.hint)


def test_a_folder_holding_other_data_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "real", partnership_key_file=None)
    street = tmp_path / "2023-01-somewhere-street.csv"
    street.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n,2023-01,Some Police,Some Police,-2.1,53.1,On or near X,E01000001,A 001A,"
        "Anti-social behaviour,,\n")
    load_files(stores=open_stores(settings), adapter=PoliceUkAdapter(), paths=[street], settings=settings)
    with pytest.raises(UserError, match="not the demo place") as refused:
        build_demo(settings=settings, scale=SCALE)
    assert "--data-dir" in str(refused.value.hint)


def test_a_folder_holding_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a data folder")
    with pytest.raises(UserError, match=r"notes\.txt"):
        build_demo(settings=Settings(data_dir=tmp_path), scale=SCALE)
    assert not (tmp_path / "keys").exists()


def test_the_demo_agreements_allow_and_refuse(stores: Stores) -> None:
    from datetime import date

    from wholeplace.governance.access import AccessLevel, AccessRefused, Principal, Role, authorise
    from wholeplace.governance.registry import list_agreements

    assert len(list_agreements(stores=stores)) == 4
    on = date(2026, 11, 22)
    nhs = Principal(user_id="nhs-analyst", partner="acute-wenlow-general", role=Role.PRACTITIONER)
    grant = authorise(stores=stores, principal=nhs, purpose="csp_strategic_assessment", dataset="demo-police-calls",
                      level=AccessLevel.AGGREGATE, on=on)
    assert grant.agreement_id == "wenlow-csp-strategic-assessment"
    with pytest.raises(AccessRefused, match="police-nhs-case-work"):
        authorise(stores=stores, principal=nhs, purpose="multi_agency_case_work", dataset="demo-police-calls",
                  level=AccessLevel.PSEUDONYMISED, on=on)


def test_every_partner_has_an_account_per_role_that_signs_in(demo: DemoResult, stores: Stores) -> None:
    from wholeplace.governance.access import Role
    from wholeplace.governance.users import authenticate, list_users
    from wholeplace.synth.demo import DEMO_PASSWORD, demo_email

    users = list_users(stores=stores)
    assert len(users) == len(Role) * 5
    user = authenticate(stores=stores, email=demo_email(Role.ANALYST, "acute-wenlow-general"), password=DEMO_PASSWORD)
    assert (user.partner, user.role) == ("acute-wenlow-general", Role.ANALYST)
    assert DEMO_PASSWORD in demo.summary()

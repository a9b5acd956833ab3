"""Direct identifiers are pseudonymised at the door: no clear value reaches any file of the store."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from wholeplace import provenance
from wholeplace.errors import ConfigurationError
from wholeplace.governance.pseudonymise import create_key_file
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import load_files
from wholeplace.settings import Settings
from wholeplace.store import Stores, open_stores

PEOPLE_MAPPING = """\
mapping: test-referrals
version: 1
partner: {code: council-test, name: Test Council, kind: council}
dataset: {code: test-referrals, kind: referral, title: Test referrals}
event_kind: referral
timestamps:
  occurred_at: {column: when, formats: ["%Y-%m-%d %H:%M"]}
category: {column: reason, table: reasons.csv}
location:
  text: {column: area}
identifiers:
  subject:
    forename: {column: first_name}
    surname: {column: last_name}
    date_of_birth: {column: dob}
    nhs_number: {column: nhs_no}
    postcode: {column: postcode}
    sex: {column: sex}
  caller:
    phone: {column: caller_phone}
  address: {column: address}
"""

FULL_NAME_MAPPING = """\
mapping: test-contacts
version: 1
partner: {code: nhs-test, name: Test Trust, kind: mental_health_trust}
dataset: {code: test-contacts, kind: mental_health_contact, title: Test contacts}
event_kind: mental_health_contact
timestamps:
  occurred_at: {column: when, formats: ["%Y-%m-%d %H:%M"]}
category: {column: reason, table: reasons.csv}
identifiers:
  subject:
    name: {column: patient}
    date_of_birth: {column: born}
"""

REASONS = "source_value,category\nwelfare,concern_for_welfare\ncrisis,crisis_contact\n"
HEADER = ["when", "reason", "area", "first_name", "last_name", "dob", "nhs_no", "postcode", "sex",
          "caller_phone", "address", "notes"]
ROWS = [
    ["2024-03-01 10:00", "welfare", "Castle ward", "Albertina", "Quenby", "1980-01-02", "943 476 5919",
     "LA1 4XY", "F", "07700 900461", "14 Primrose Terrace, Lancaster", "door left open"],
    ["2024-03-02 11:30", "WELFARE", "Castle ward", "ALBERTINA ", "quenby", "02/01/1980", "9434765919",
     "la14xy", "f", "+44 7700 900461", "14, PRIMROSE TERRACE,  LANCASTER", "second visit"],
    ["2024-03-03 09:15", "welfare", "Bulk ward", "Bartholomew", "Yardley-Fitch", "1975-07-30", "401 023 2137",
     "LA2 6QQ", "M", "01524 960123", "3 Wyresdale Mews, Caton", ""],
    ["not a time", "welfare", "Bulk ward", "Cressida", "Vantongeren", "1990-11-11", "485 777 3456",
     "LA3 1ZZ", "F", "07700 900999", "22 Heysham Lane", ""],
    ["2024-03-04 12:00", "welfare", "Dropped Ward", "Ottoline", "Marchbank"],
]
CLEAR = ["Albertina", "Quenby", "1980-01-02", "02/01/1980", "943 476 5919", "9434765919", "LA1 4XY", "LA14XY",
         "07700 900461", "7700 900461", "Primrose Terrace", "Bartholomew", "Yardley-Fitch", "Yardley", "1975-07-30",
         "401 023 2137", "4010232137", "LA2 6QQ", "01524 960123", "Wyresdale", "Cressida", "Vantongeren",
         "1990-11-11", "485 777 3456", "4857773456", "LA3 1ZZ", "07700 900999", "Heysham", "Ottoline",
         "Marchbank"]


def _write(folder: Path, mapping: str, header: list[str], rows: list[list[str]]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reasons.csv").write_text(REASONS)
    (folder / "mapping.yaml").write_text(mapping)
    with (folder / "extract.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return folder / "mapping.yaml", folder / "extract.csv"


def _load(stores: Stores, mapping: Path, data: Path) -> None:
    load_files(stores=stores, adapter=MappedAdapter.from_file(mapping), paths=[data], settings=stores.settings)


@pytest.fixture
def keyed(tmp_path: Path) -> Stores:
    key = create_key_file(tmp_path / "secrets" / "partnership.key")
    return open_stores(Settings(data_dir=tmp_path / "data", partnership_key_file=key))


def _store_text(data_dir: Path) -> tuple[str, bytes]:
    """Every Parquet file's contents as text, and the bytes of every other file."""
    texts, raw = [], b""
    con = duckdb.connect()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            texts.append(repr(con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()))
        else:
            raw += path.read_bytes()
    return "\n".join(texts), raw


def test_no_clear_identifier_reaches_any_file_of_the_store(keyed: Stores, tmp_path: Path) -> None:
    _load(keyed, *_write(tmp_path / "a", PEOPLE_MAPPING, HEADER, ROWS))
    [load] = provenance.list_loads(stores=keyed)
    assert (load["rows_read"], load["rows_stored"], load["rows_quarantined"]) == (5, 3, 2)
    parquet, other = _store_text(keyed.settings.data_dir)
    assert "door left open" in parquet and "Castle ward" in parquet and "[withheld" in parquet
    for value in CLEAR:
        for variant in {value, value.upper(), value.lower()}:
            assert variant not in parquet, value
            assert variant.encode() not in other, value


def test_the_same_person_written_two_ways_gets_the_same_tokens(keyed: Stores, tmp_path: Path) -> None:
    _load(keyed, *_write(tmp_path / "a", PEOPLE_MAPPING, HEADER, ROWS[:3]))
    _load(keyed, *_write(tmp_path / "b", FULL_NAME_MAPPING, ["when", "reason", "patient", "born"],
                         [["2024-03-05 08:00", "crisis", "QUENBY, Albertina", "2/1/1980"]]))
    con = keyed.connect()
    events = con.execute("SELECT subject_token, caller_token, address_token FROM events "
                         "ORDER BY dataset DESC, source_line").fetchall()
    assert events[0] == events[1] and None not in events[0]
    assert events[2][0] != events[0][0] and events[2][1] != events[0][1]
    assert events[3][0] == events[0][0]
    keys = con.execute("SELECT role, person_token, forename_phonetic, surname_phonetic, birth_year, "
                       "postcode_district, nhs_number, sex FROM person_keys WHERE role = 'subject' "
                       "AND dataset = 'test-referrals' ORDER BY event_id").fetchall()
    assert keys[0] == keys[1] and keys[0][-1] == "F" and all(keys[0])
    assert len({value for value in keys[0][1:-1]}) == 6, "each derived key is keyed under its own domain"


def test_without_a_key_the_load_stops_and_changes_nothing(stores: Stores, tmp_path: Path) -> None:
    def snapshot() -> tuple[dict, set[Path]]:
        return provenance.status_report(stores=stores), set(stores.settings.data_dir.rglob("*"))

    before = snapshot()
    mapping, data = _write(tmp_path / "a", PEOPLE_MAPPING, HEADER, ROWS)
    with pytest.raises(ConfigurationError, match="no partnership key is configured") as caught:
        _load(stores, mapping, data)
    assert "WHOLEPLACE_PARTNERSHIP_KEY_FILE" in str(caught.value)
    assert snapshot() == before

"""The demo place's files: the same seed writes the same bytes; the mappings match the data."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import polars as pl
import pytest

from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.model.schemas import SCHEMAS
from wholeplace.model.schemas.demo import DEMO_SCHEMAS
from wholeplace.synth.ae import GROUPS
from wholeplace.synth.ambulance import COMPLAINTS
from wholeplace.synth.call_types import CALL_TYPES
from wholeplace.synth.council import REQUESTS
from wholeplace.synth.crisis import CONTACTS
from wholeplace.synth.demo import MAPPING_FILES, MAPPINGS
from wholeplace.synth.files import write_demo_files
from wholeplace.synth.generate import generate
from wholeplace.synth.truth import build_truth, write_truth

SCALE = 0.02


def _write(seed: int, folder: Path) -> dict[str, str]:
    data = generate(seed, SCALE)
    write_demo_files(data, folder)
    write_truth(build_truth(data), folder / "truth.json")
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first = _write(7, tmp_path / "a")
    again = _write(7, tmp_path / "b")
    other = _write(8, tmp_path / "c")
    assert len(first) == 4 + 3 + 6 * 24 + 1  # boundaries, 3 context tables, six datasets by month, truth
    assert first == again
    assert first.keys() == other.keys()
    assert all(first[name] != other[name] for name in first)


def test_partner_files_have_the_declared_columns_and_identifiers(tmp_path: Path) -> None:
    data = generate(9, SCALE)
    files = write_demo_files(data, tmp_path)
    for schema in DEMO_SCHEMAS:
        first = files.datasets[schema.name][0]
        with first.open(newline="") as handle:
            header = next(csv.reader(handle))
        assert header == schema.column_names
        rows = pl.read_csv(first, infer_schema=False)
        for spec in schema.identifier_fields:
            assert rows[spec.name].drop_nulls().len() > 0, f"{schema.name}.{spec.name} is never filled"


def test_the_demo_schemas_are_registered() -> None:
    assert all(SCHEMAS[schema.name] is schema for schema in DEMO_SCHEMAS)


@pytest.mark.parametrize(("table", "pairs"), [
    ("police-call-types.csv", [(t.demand.source_value, t.category) for t in CALL_TYPES]),
    ("ambulance-complaints.csv", [(c[0].source_value, c[1]) for c in COMPLAINTS]),
    ("ae-complaint-groups.csv", list(GROUPS.items())),
    ("crisis-contact-types.csv", [(c[0].source_value, c[2]) for c in CONTACTS]),
    ("council-request-types.csv", [(r[0].source_value, r[1]) for r in REQUESTS]),
])
def test_every_generated_category_is_in_its_mapping_table(table: str, pairs: list[tuple[str, str]]) -> None:
    with (MAPPINGS / table).open(newline="") as handle:
        mapped = {row["source_value"]: row["category"] for row in csv.DictReader(handle)}
    assert dict(pairs) == mapped


@pytest.mark.parametrize("dataset", sorted(MAPPING_FILES))
def test_every_mapping_file_loads_and_names_columns_of_its_schema(dataset: str) -> None:
    adapter = MappedAdapter.from_file(MAPPINGS / MAPPING_FILES[dataset])
    assert adapter.spec.dataset.code == dataset
    assert adapter.holds_identifiers
    declared = {f.name for f in SCHEMAS[dataset].identifier_fields}
    identifiers = adapter.spec.identifiers
    named = {ref.column for person in (identifiers.subject, identifiers.caller) if person is not None
             for key, ref in person if ref is not None and key != "sex"}
    named |= {identifiers.address.column} if identifiers.address else set()
    assert named == declared  # every identifier column is pseudonymised, and only those

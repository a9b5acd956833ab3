"""The official HSDS 3.0 and UK profile examples, imported and exported again, give equivalent records."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_shared
from wholeplace.directory.hsds_io import export_directory, import_directory
from wholeplace.store.stores import Stores

pytestmark = pytest.mark.shared


def rows(file: Path) -> dict[str, dict[str, str]]:
    with file.open(encoding="utf-8") as handle:
        return {r["id"]: {k: v for k, v in r.items() if v} for r in csv.DictReader(handle)}


def same_numbers(a: dict[str, str], b: dict[str, str]) -> bool:
    """Equal, reading '12' and '12.0' as the same number."""
    def norm(v: str) -> str:
        try:
            return repr(float(v))
        except ValueError:
            return v
    return {k: norm(v) for k, v in a.items()} == {k: norm(v) for k, v in b.items()}


def package(tmp_path: Path, csv_folder: str, descriptor: str) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(require_shared(csv_folder), folder)
    (folder / "datapackage.json").unlink(missing_ok=True)
    shutil.copy(require_shared(descriptor), folder / "datapackage.json")
    return folder


@pytest.mark.parametrize(("csv_folder", "descriptor"), [
    ("reference/hsds/hsds-3.0/examples/csv", "reference/hsds/hsds-3.0/datapackage.json"),
    ("reference/hsds/oruk-uk-profile-3.0/examples/csv", "reference/hsds/oruk-uk-profile-3.0/datapackage.json")])
def test_csv_package_round_trips(stores: Stores, tmp_path: Path, csv_folder: str, descriptor: str):
    source = package(tmp_path, csv_folder, descriptor)
    import_directory(stores=stores, path=source)
    exported = export_directory(stores=stores, folder=tmp_path / "out")
    listed = {r["name"]: r["path"] for r in json.loads((source / "datapackage.json").read_text())["resources"]}
    compared = 0
    for file in listed.values():
        if not (source / file).exists():
            continue
        before = rows(source / file)
        after = rows(exported.folder / _exported_name(file))
        assert before.keys() == after.keys(), file
        assert all(same_numbers(before[i], after[i]) for i in before), file
        compared += 1
    assert compared >= 15


def _exported_name(file: str) -> str:
    return {"attribute.csv": "attributes.csv", "address.csv": "addresses.csv", "schedule.csv": "schedules.csv"}.get(
        file, file)


# In nested JSON the parent is the link: the examples' attributes and metadata name other ids in
# link_id/resource_id, which nesting replaces by the object they sit in.
LINKS = ("link_id", "link_entity", "resource_id", "resource_type")


def contained(original: Any, exported: Any) -> bool:
    """Every field of the original is in the export with the same value (the export may add keys)."""
    if isinstance(original, dict):
        return isinstance(exported, dict) and all(
            contained(v, exported.get(k)) for k, v in original.items() if v not in (None, "", []) and k not in LINKS)
    if isinstance(original, list):
        by_id = {e.get("id"): e for e in exported or [] if isinstance(e, dict)}
        return all(contained(o, by_id.get(o.get("id"))) for o in original)
    return original == exported


@pytest.mark.parametrize("example", ["reference/hsds/hsds-3.0/examples/service_full.json",
                                     "reference/hsds/oruk-uk-profile-3.0/examples/service_full.json",
                                     "reference/hsds/hsds-3.0/examples/service_list.json"])
def test_json_services_round_trip(stores: Stores, tmp_path: Path, example: str):
    source = json.loads(require_shared(example).read_text())
    services = source.get("contents", [source])
    import_directory(stores=stores, path=require_shared(example))
    export_directory(stores=stores, folder=tmp_path / "out")
    exported = json.loads((tmp_path / "out" / "services.json").read_text())
    assert contained(services, exported)
    assert {s["id"] for s in exported} == {s["id"] for s in services}


def test_loading_again_replaces_rather_than_duplicates(stores: Stores, tmp_path: Path):
    example = require_shared("reference/hsds/hsds-3.0/examples/service_full.json")
    first = import_directory(stores=stores, path=example)
    again = import_directory(stores=stores, path=example)
    exported = export_directory(stores=stores, folder=tmp_path / "out")
    assert first.records == again.records and exported.services == 1

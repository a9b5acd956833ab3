"""Concentration against the published reference values (lorenzgini vignette outputs, via
../shared/reference/evaluation/expected_values.json), and the demand profile on the real
calls-for-service extracts against the figures in their PROVENANCE.md files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import require_shared
from wholeplace.demand.concentration import describe_concentration, generalized_gini, gini
from wholeplace.demand.profile import demand_profile
from wholeplace.demand.repeat import repeat_demand
from wholeplace.ingest.mapped import MappedAdapter
from wholeplace.ingest.pipeline import load_files
from wholeplace.store import Stores

pytestmark = pytest.mark.shared

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "wholeplace" / "mappings"
SAN_DIEGO = "data/cfs-san-diego-2023-01/pd_calls_for_service_2023-01-01_to_2023-01-22.csv.gz"
SEATTLE = ["data/cfs-seattle-sample/spd_call_data_eastC_2010-2023_subset.csv",
           "data/cfs-seattle-sample/spd_call_data_eastC_2018-2023_subset.csv"]
# The counts of each case as the reference file writes them (the last as a sentence).
COUNTS = [
    [10, 8, 2] + [0] * 7,
    [5, 2, 1] + [0] * 7,
    [10] + [0] * 9,
    [10] + [0] * 99,
    [0] * 433 + [1] * 325 + [2] * 169 + [3] * 58 + [4] * 11 + [5] * 4,
]
MEASURES = {
    "G": lambda c: gini(c), "G_unbiased": lambda c: gini(c, unbiased=True),
    "G_gen": lambda c: generalized_gini(c), "G_gen_unbiased": lambda c: generalized_gini(c, unbiased=True),
    "G_biased_here": lambda c: gini(c), "G_gen_biased_here": lambda c: generalized_gini(c),
}


def _cases() -> list[dict[str, Any]]:
    path = require_shared("reference/evaluation/expected_values.json")
    return json.loads(path.read_text())["gini_generalized_bernasco_steenbeek"]["cases"]  # type: ignore[no-any-return]


def _decimals(value: float) -> int:
    """The precision a reference value is printed to (the first four cases have two decimals)."""
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


def test_every_reference_case_is_reproduced_at_the_precision_given() -> None:
    cases = _cases()
    assert len(cases) == len(COUNTS)
    checked = 0
    for case, counts in zip(cases, COUNTS, strict=True):
        if isinstance(case["counts"], list):
            assert case["counts"] == counts
        for name, expected in case.items():
            if name in MEASURES:
                places = min(_decimals(expected), 7)
                assert round(MEASURES[name](counts), places) == pytest.approx(expected, abs=1e-12), (counts, name)
                checked += 1
    assert checked == 11


def test_the_sparse_count_case_to_one_in_a_million() -> None:
    case = _cases()[4]
    assert "n=1000, events=901" in case["counts"]
    counts = np.asarray(COUNTS[4])
    assert (counts.size, counts.sum()) == (1000, 901)
    summary = describe_concentration(counts)
    assert summary.generalized_gini_unbiased == pytest.approx(case["G_gen_unbiased"], abs=1e-6)
    assert summary.gini == pytest.approx(case["G_biased_here"], abs=1e-6)
    assert summary.generalized_gini == pytest.approx(case["G_gen_biased_here"], abs=1e-6)


def test_the_vignette_caption_is_wrong_and_its_formula_is_followed() -> None:
    # The caveat in the reference file: the caption says .58 for [3, 1, 1, 0 x 7]; the formula gives 0.56.
    assert "0.56" in json.loads(require_shared("reference/evaluation/expected_values.json").read_text())[
        "gini_generalized_bernasco_steenbeek"]["caveat"]
    assert round(generalized_gini([3, 1, 1] + [0] * 7), 2) == 0.56


def _load(stores: Stores, mapping: str, paths: list[Path]) -> None:
    adapter = MappedAdapter.from_file(MAPPINGS / mapping / "mapping.yaml")
    load_files(stores=stores, adapter=adapter, paths=paths, settings=stores.settings)


def test_san_diego_officer_activity_is_shown_but_kept_out_of_public_demand(stores: Stores) -> None:
    _load(stores, "san-diego-cfs", [require_shared(SAN_DIEGO)])
    profile = demand_profile(stores=stores, by=["source"])
    assert profile.totals["all"] == 28_951  # every stored call (PROVENANCE.md)
    share = profile.totals["officer_initiated"] / profile.totals["all"]
    assert 0.30 < share < 0.32  # "officer-initiated and administrative activity: 30.9 % of stored calls"
    assert profile.totals["public"] == profile.totals["all"] - profile.totals["officer_initiated"]
    hours = demand_profile(stores=stores, by=["source"], measure="hours")
    assert hours.frame.height == 0 and "not available for this dataset" in hours.not_available["san-diego-cfs"]
    clock = demand_profile(stores=stores, by=["hour"])
    assert clock.totals["all"] == 28_951 and clock.frame.height == 24


def test_seattle_has_times_of_day_but_no_closing_times_or_addresses(stores: Stores) -> None:
    _load(stores, "seattle-cfs", [require_shared(p) for p in SEATTLE])
    clock = demand_profile(stores=stores, by=["weekday", "source"])
    assert clock.totals["all"] == 275 + 222 and clock.not_available == {}
    hours = demand_profile(stores=stores, by=["priority"], measure="hours", hours_basis="on_scene")
    assert "arrival and closing times" in hours.not_available["seattle-cfs"]
    repeat = repeat_demand(stores=stores, entity="location")
    assert repeat.entities == 0 and "records no location" in repeat.not_available["seattle-cfs"]

"""The SPC engine against the NHSRplotthedots 0.2.2 golden results (../shared/reference/spc).

Every scenario is run with the ``nhsr`` profile and the scenario's own settings, and every point and
every limit group is compared: limits to 1e-9 relative, flags, labels, point types and summary types
exactly. Two documented quirks of the reference are not copied (PROVENANCE.md): a constant series has
no variation (the reference gives NaN limits) and a series without a target gets no assurance type.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import polars as pl
import pytest

from tests.conftest import SHARED, require_shared
from wholeplace.outcomes.spc import SpcResult, xmr

pytestmark = pytest.mark.shared

GOLDEN = "reference/spc/nhsrplotthedots_golden"
NO_FACET = "-"
ASSURANCE = {"pass": "consistent_pass", "hit_or_miss": "inconsistent", "fail": "consistent_fail"}
NO_TARGET_QUIRK = ("A01_mdc_assurance_higher", "ASSUR_NO_TARGET_HIGH")


def _scenario_names() -> list[str]:
    path = SHARED / GOLDEN / "spc_scenarios.csv"
    return pl.read_csv(path).get_column("scenario").to_list() if path.exists() else ["golden-files-missing"]


@cache
def _golden(name: str) -> pl.DataFrame:
    return pl.read_csv(require_shared(f"{GOLDEN}/{name}.csv"), infer_schema=False)


def _rows(name: str, scenario: str) -> pl.DataFrame:
    return _golden(name).filter(pl.col("scenario") == scenario)


def _settings(scenario: str) -> dict[str, Any]:
    row = _rows("spc_scenarios", scenario).row(0, named=True)
    target = row["target"]
    if target and "=" in target:
        target = {k: float(v) for k, v in (part.split("=") for part in target.split(";"))}
    elif target:
        target = float(target)
    return {
        "direction": row["improvement_direction"], "screen_outliers": row["screen_outliers"] == "TRUE",
        "rebase": row["rebase"].split("|") if row["rebase"] else [],
        "fix_after": int(row["fix_after_n_points"]) if row["fix_after_n_points"] else None, "target": target,
    }


def _run(scenario: str) -> SpcResult:
    inputs = _rows("spc_inputs", scenario).select(
        "facet", pl.col("x").str.to_date(), pl.col("y").cast(pl.Float64))
    return xmr(inputs, x="x", y="y", group="facet", profile="nhsr", **_settings(scenario))


def _close(actual: float | None, expected: str | None) -> bool:
    if expected is None or expected in {"", "NA", "NaN"}:
        return actual is None
    return actual is not None and math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=1e-12)


def _no_width(row: dict[str, Any]) -> bool:
    """The reference's limits are undefined (blank) or have no width."""
    return row["lpl"] is None or float(row["lpl"]) == float(row["upl"])


def _flag(value: str) -> bool:
    return value == "TRUE"


@pytest.mark.parametrize("scenario", _scenario_names())
def test_every_point_matches_the_reference(scenario: str) -> None:
    result = _run(scenario)
    expected = _rows("spc_expected_points", scenario).with_columns(pl.col("x").str.to_date())
    points = result.points.rename({"group": "facet"})
    joined = expected.join(points, on=["facet", "x"], how="left", suffix="_engine")
    assert joined.height == expected.height == points.height == _rows("spc_inputs", scenario).height
    wrong = []
    for row in joined.iter_rows(named=True):
        where = f"{row['facet']} {row['x']}"
        if row["no_variation"]:  # the reference's NaN (or zero-width) limits: the platform says there is no variation
            assert _no_width(row) and row["point_type_engine"] == "no_variation" and row["lpl_engine"] is None, where
            continue
        checks = {
            "rebase_group": int(row["rebase_group"]) == row["rebase_group_engine"],
            "mean": _close(row["mean_engine"], row["mean"]),
            "lpl": _close(row["lpl_engine"], row["lpl"]), "upl": _close(row["upl_engine"], row["upl"]),
            "outside_limits": _flag(row["outside_limits"]) == row["outside_limits_engine"],
            "relative_to_mean": int(row["relative_to_mean"]) == row["relative_to_mean_engine"],
            "close_to_limits": _flag(row["close_to_limits"]) == row["close_to_limits_engine"],
            "special_cause_type": row["special_cause_type"] == row["special_cause_type_engine"],
            "special_cause_flag": _flag(row["special_cause_flag"]) == row["special_cause"],
            "point_type": row["point_type"] == row["point_type_engine"],
            "short_group_warning": _flag(row["short_group_warning"]) == row["trial_limits"],
        }
        wrong += [f"{where}: {name}" for name, ok in checks.items() if not ok]
    assert wrong == []


@pytest.mark.parametrize("scenario", _scenario_names())
def test_every_limit_group_summary_matches_the_reference(scenario: str) -> None:
    summary = _run(scenario).summary.rename({"group": "facet"})
    expected = _rows("spc_expected_summary", scenario).with_columns(pl.col("rebase_group").cast(pl.Int64))
    joined = expected.join(summary, on=["facet", "rebase_group"], how="left", suffix="_engine")
    assert joined.height == expected.height == summary.height
    wrong = []
    for row in joined.iter_rows(named=True):
        where = f"{row['facet']} group {row['rebase_group']}"
        if row["no_variation"]:
            assert _no_width(row) and row["lpl_engine"] is None, where
            assert row["variation_type_engine"] == "no_variation", where
        else:
            wrong += [f"{where}: {c}" for c in ("mean", "lpl", "upl") if not _close(row[f"{c}_engine"], row[c])]
            wrong += [f"{where}: {c}" for c in ("common_cause", "special_cause_improvement",
                                                "special_cause_concern") if int(row[c]) != row[f"{c}_engine"]]
            if row["variation_type"] != row["variation_type_engine"]:
                wrong.append(f"{where}: variation_type")
        engine = row["assurance_type_engine"]
        if row["target"] is None:  # the reference's quirk (A01 ASSUR_NO_TARGET_HIGH): the platform gives none
            assert engine is None, f"{where}: no target, so no assurance type"
        elif (ASSURANCE.get(engine) if engine else None) != row["assurance_type"]:
            wrong.append(f"{where}: assurance_type")
        if int(row["n"]) != row["n_engine"]:
            wrong.append(f"{where}: n")
    assert wrong == []


def test_the_golden_files_are_whole() -> None:
    """A truncated copy fails loudly: every input has an expected point and every scenario a summary."""
    scenarios = _golden("spc_scenarios").get_column("scenario")
    assert scenarios.len() >= 30 and scenarios.is_unique().all()
    assert _golden("spc_inputs").height == _golden("spc_expected_points").height >= 6000
    for name in ("spc_inputs", "spc_expected_points", "spc_expected_summary"):
        assert set(_golden(name).get_column("scenario").unique()) == set(scenarios), name


def test_the_documented_quirks_get_the_platform_answer() -> None:
    """No target: no assurance type (the reference says "inconsistent"). Constant series: no variation."""
    scenario, facet = NO_TARGET_QUIRK
    summary = _run(scenario).summary.filter(pl.col("group") == facet)
    assert summary.get_column("assurance_type").to_list() == [None]
    assert summary.get_column("variation_icon").to_list() == ["common_cause"]
    reference = _rows("spc_expected_summary", scenario).filter(pl.col("facet") == facet)
    assert reference.get_column("assurance_type").to_list() == ["inconsistent"]
    constant = pl.DataFrame({"x": list(range(20)), "y": [3.0] * 20})
    for screen in (True, False):
        flat = xmr(constant, x="x", y="y", direction="increase", target=2.0, profile="nhsr", screen_outliers=screen)
        row = flat.summary.row(0, named=True)
        assert (row["no_variation"], row["lpl"], row["upl"], row["variation_type"], row["assurance_type"]) == (
            True, None, None, "no_variation", None)
        assert set(flat.points.get_column("special_cause_type")) == {"No Variation"}

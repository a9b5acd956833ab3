"""The SPC engine: rule helpers and limits against published vectors, planted truth, profiles, conflicts,
Laney p′/u′ worked by hand, rebasing, icons and the errors bad input gets."""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tests.conftest import require_shared
from wholeplace.errors import UserError
from wholeplace.outcomes.spc import (
    PROFILES,
    Rebase,
    expand_run_ends,
    laney_p,
    laney_u,
    part_of_two_in_three,
    run_ends,
    trend_ends,
    two_in_three_windows,
    xmr,
)


def _series(values: list[float], **columns: list[Any]) -> pl.DataFrame:
    return pl.DataFrame({"x": [date(2023, 1, 1) + timedelta(days=i) for i in range(len(values))], "y": values,
                         **columns})


def _vectors(name: str) -> dict[str, Any]:
    return json.loads(require_shared(f"reference/spc/{name}").read_text())


def _label(result: Any, column: str = "special_cause_type") -> list[str]:
    return result.points.get_column(column).to_list()


# --- the NHSRplotthedots rule-helper vectors -------------------------------------------------------------------


@pytest.mark.shared
def test_rule_helpers_reproduce_the_nhsrplotthedots_vectors() -> None:
    vectors = _vectors("nhsrplotthedots_unit_vectors.json")
    for case in vectors["seven_point_one_side_mean"]["cases"]:
        assert (run_ends(case["in"], 7) != 0).astype(int).tolist() == case["out"], case
    for case in vectors["part_of_seven"]["cases"]:
        assert expand_run_ends(case["in"], 7).astype(int).tolist() == case["out"], case
    for case in vectors["seven_point_trend"]["cases"]:
        assert trend_ends(case["in"], 7).tolist() == case["out"], case
    for case in vectors["two_in_three"]["cases"]:
        assert two_in_three_windows(case["close"], case["rtm"]).astype(int).tolist() == case["out"], case
    for case in vectors["part_of_two_in_three"]["cases"]:
        assert part_of_two_in_three(case["close"], case["rtm"]).astype(int).tolist() == case["out"], case


@pytest.mark.shared
def test_limits_reproduce_the_nhsrplotthedots_snapshots_and_vignette_captions() -> None:
    vectors = _vectors("nhsrplotthedots_unit_vectors.json")
    inputs = pl.read_csv(require_shared("reference/spc/nhsrplotthedots_golden/spc_inputs.csv"))
    rnorm = inputs.filter(pl.col("scenario") == "S01_rnorm20").get_column("y").to_list()
    outlier = [*rnorm[:14], 10.0, *rnorm[15:]]
    snapshots = vectors["snapshot_limits"]
    for values, screen, key in ((rnorm, True, "r1_default"), (outlier, True, "r2_y15_eq_10_screened"),
                                (outlier, False, "r3_y15_eq_10_unscreened")):
        row = xmr(_series(values), x="x", y="y", profile="nhsr", screen_outliers=screen).summary.row(0, named=True)
        for name, expected in snapshots[key].items():
            assert row[name] == pytest.approx(expected, abs=5e-7), (key, name)
    vignette = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    captions = vectors["vignette_deviations"]
    for profile, key in (("nhsr", "screened"), ("mdc", "unscreened_MDC_excel")):
        row = xmr(_series(vignette), x="x", y="y", profile=profile).summary.row(0, named=True)
        assert {name: round(row[name], 2) for name in captions[key]} == captions[key], key


@pytest.mark.shared
def test_limits_reproduce_the_nhspy_vectors_without_screening() -> None:
    vectors = _vectors("nhspy_limit_vectors.json")
    for case in vectors["cases"]:
        row = xmr(_series(case["values"]), x="x", y="y", profile="mdc").summary.row(0, named=True)
        actual = [row[c] for c in ("mean", "lpl", "upl", "lower_2sigma", "upper_2sigma")]
        assert actual == pytest.approx(case["expected"], rel=1e-12, abs=1e-12), case["values"]
    demo = vectors["demo_case"]
    result = xmr(_series(demo["values"]), x="x", y="y", profile="mdc")
    row = result.summary.row(0, named=True)
    assert (round(row["mean"], 2), round(row["lpl"]), round(row["upl"])) == (
        demo["expected_mean_2dp"], demo["expected_lpl_0dp"], demo["expected_upl_0dp"])
    assert result.points.get_column("outside_limits").arg_true().to_list() == demo["outside_limits_index0"]


# --- the rules on planted truth -----------------------------------------------------------------------------


def test_a_planted_step_change_shows_as_a_shift_of_improvement() -> None:
    rng = np.random.default_rng(7)
    values = [*rng.normal(50, 2, 15), *rng.normal(58, 2, 15)]
    result = xmr(_series(values), x="x", y="y", direction="increase", fix_after=15)
    after = result.points.slice(15)
    assert after.get_column("shift").all() and after.get_column("relative_to_mean").eq(1).all()
    assert set(after.get_column("point_type")) == {"special_cause_improvement"}
    assert result.summary.get_column("variation_icon").to_list() == ["improvement_high"]
    assert not result.points.head(10).get_column("special_cause").any()
    falling = xmr(_series(values), x="x", y="y", direction="decrease", fix_after=15)
    assert falling.summary.get_column("variation_icon").to_list() == ["concern_high"]


def test_noise_alone_raises_few_signals() -> None:
    rng = np.random.default_rng(20240501)
    series, n = 200, 30
    frame = pl.DataFrame({"area": np.repeat(np.arange(series), n), "x": np.tile(np.arange(n), series),
                          "y": rng.normal(100, 10, series * n)})
    result = xmr(frame, x="x", y="y", group="area", direction="increase")
    assert result.summary.height == series
    assert result.points.get_column("special_cause").mean() < 0.06  # type: ignore[operator]
    assert (result.summary.get_column("variation_type") != "common_cause").mean() < 0.05  # type: ignore[operator]


def test_a_single_point_beyond_the_limit_is_flagged_by_direction() -> None:
    values = [5.0, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 30]
    for direction, point_type in (("increase", "special_cause_improvement"), ("decrease", "special_cause_concern"),
                                  ("neutral", "special_cause_neutral_high")):
        result = xmr(_series(values), x="x", y="y", direction=direction, fix_after=12)
        assert _label(result)[-1] == "Above UCL" and _label(result, "point_type")[-1] == point_type
        assert _label(result, "point_type")[:-1] == ["common_cause"] * 12


def test_two_of_three_colours_only_the_close_points() -> None:
    values = [10.0, 11, 10, 11, 10, 11, 10, 11, 10, 11, 12.5, 10.6, 12.5, 10]
    result = xmr(_series(values), x="x", y="y", direction="increase", fix_after=10)
    row = result.summary.row(0, named=True)
    assert (row["mean"], row["upper_2sigma"], row["upl"]) == pytest.approx((10.5, 10.5 + 2 / 3 * 2.66, 13.16))
    assert _label(result)[10:13] == ["2 in 3 Above CL", "Common Cause", "2 in 3 Above CL"]


def test_a_new_limit_group_breaks_runs_and_trends() -> None:
    values = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    whole = xmr(_series(values), x="x", y="y")
    assert whole.points.get_column("trend").all()
    split = xmr(_series(values), x="x", y="y", rebase=[date(2023, 1, 7)])
    assert not split.points.get_column("trend").any()
    assert split.points.get_column("rebase_group").to_list() == [0] * 6 + [1] * 6


# --- profiles and conflicts ---------------------------------------------------------------------------------


def test_profiles_set_the_run_lengths() -> None:
    assert {name: (p.shift_points, p.trend_points) for name, p in PROFILES.items()} == {
        "mdc": (7, 7), "nhsr": (7, 7), "mdc-6": (6, 6), "abspc": (8, 6)}
    six_above = [5.0, 4, 5, 4, 5, 4, 5, 4, 5, 4, 6, 6.2, 6.1, 6.3, 6, 6.2, 4]
    assert "Points Above CL" not in " ".join(_label(xmr(_series(six_above), x="x", y="y")))
    assert _label(xmr(_series(six_above), x="x", y="y", profile="mdc-6"))[10:16] == ["6 Points Above CL"] * 6
    seven_above = [*six_above[:16], 6.1, 4]
    assert _label(xmr(_series(seven_above), x="x", y="y"))[10:17] == ["7 Points Above CL"] * 7
    assert "Points Above CL" not in " ".join(_label(xmr(_series(seven_above), x="x", y="y", profile="abspc")))
    six_rising = [5.0, 6, 5, 6, 5, 6, 5, 6, 4.9, 5.0, 5.1, 5.2, 5.3, 5.4, 5.0, 6, 5]
    assert "Trend" not in " ".join(_label(xmr(_series(six_rising), x="x", y="y")))
    assert _label(xmr(_series(six_rising), x="x", y="y", profile="abspc"))[7:15] == [
        "Common Cause", *["6 Point Trend (Increasing)"] * 6, "Common Cause"]


def test_a_profile_decides_screening_unless_it_is_given() -> None:
    values = [1.0, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    upl = {(profile, screen): xmr(_series(values), x="x", y="y", profile=profile, screen_outliers=screen)
           .summary.item(0, "upl") for profile in ("mdc", "nhsr") for screen in (None, True, False)}
    assert upl[("mdc", None)] == upl[("mdc", False)] == upl[("nhsr", False)] == pytest.approx(6.9515, abs=1e-4)
    assert upl[("nhsr", None)] == upl[("nhsr", True)] == upl[("mdc", True)] == pytest.approx(4.6044, abs=1e-4)


def test_the_conflict_rule_decides_a_rising_trend_below_the_mean() -> None:
    values = [20.0, 22, 20, 22, 20, 22, 20, 22, 20, 22, 17, 17.3, 17.6, 17.9, 18.2, 18.5, 18.8, 22, 20]
    rising = slice(10, 17)
    by_rule = {rule: xmr(_series(values), x="x", y="y", direction="increase", conflict=rule)
               for rule in ("precedence", "improvement", "concern")}
    assert all(by_rule["concern"].points.get_column("conflict")[rising])
    assert _label(by_rule["precedence"])[rising] == ["7 Point Trend (Increasing)"] * 7
    assert _label(by_rule["improvement"])[rising] == ["7 Point Trend (Increasing)"] * 7
    assert set(_label(by_rule["improvement"], "point_type")[rising]) == {"special_cause_improvement"}
    assert _label(by_rule["concern"])[rising] == ["7 Points Below CL"] * 7
    assert set(_label(by_rule["concern"], "point_type")[rising]) == {"special_cause_concern"}
    default = xmr(_series(values), x="x", y="y", direction="increase")
    assert default.settings.conflict.value == "concern" and _label(default)[rising] == _label(by_rule["concern"])[
        rising]


# --- baselines, rebases, targets and icons ------------------------------------------------------------------


def test_fixed_limits_rest_on_the_first_points_only() -> None:
    values = [1.0, 3, 2, 4, 3, 5, 100, 200]
    result = xmr(_series(values), x="x", y="y", fix_after=6)
    row = result.summary.row(0, named=True)
    assert (row["mean"], row["mean_moving_range"], row["baseline_points"]) == (3.0, 1.6, 6)
    assert result.points.get_column("baseline").to_list() == [True] * 6 + [False] * 2
    assert result.points.get_column("outside_limits").to_list()[-2:] == [True, True]


def test_a_rebase_carries_its_reason_and_approver() -> None:
    values = [10.0, 11, 10, 11, 10, 11, 20, 21, 20, 21, 20, 21]
    event = Rebase("2023-01-07", reason="new triage service", approver="Performance board")
    result = xmr(_series(values), x="x", y="y", rebase=[event])
    summary = result.summary
    assert summary.get_column("mean").to_list() == [10.5, 20.5]
    assert summary.get_column("rebase_reason").to_list() == [None, "new triage service"]
    assert summary.get_column("rebase_approver").to_list() == [None, "Performance board"]
    assert summary.get_column("latest").to_list() == [False, True]
    assert result.settings.as_dict()["rebase"] == [
        {"at": "2023-01-07", "reason": "new triage service", "approver": "Performance board"}]


def test_assurance_against_the_limits_with_a_target_on_a_limit_counting_as_pass_or_fail() -> None:
    values = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    limits = xmr(_series(values), x="x", y="y", direction="increase", profile="mdc-6").summary.row(0, named=True)

    def assurance(direction: str, target: float) -> str | None:
        return xmr(_series(values), x="x", y="y", direction=direction, target=target, profile="mdc-6").summary.item(
            0, "assurance_type")

    assert [assurance("increase", t) for t in (limits["lpl"], 5.0, limits["upl"], 0.0, 99.0)] == [
        "pass", "hit_or_miss", "fail", "pass", "fail"]
    assert [assurance("decrease", t) for t in (limits["lpl"], 5.0, limits["upl"])] == ["fail", "hit_or_miss", "pass"]


def test_per_group_targets_and_icons_only_on_the_latest_limits() -> None:
    frame = pl.concat([_series([10.0, 11] * 6, area=["A"] * 12), _series([10.0, 11] * 6, area=["B"] * 12)])
    result = xmr(frame, x="x", y="y", group="area", direction="decrease", target={"A": 20.0},
                 rebase=["2023-01-07"])
    rows = result.summary.select("group", "rebase_group", "assurance_type", "variation_icon").rows()
    assert rows == [("A", 0, None, None), ("A", 1, "pass", "common_cause"), ("B", 0, None, None),
                    ("B", 1, None, "common_cause")]


def test_a_constant_series_has_no_variation_and_claims_nothing() -> None:
    for screen in (True, False):
        result = xmr(_series([4.0] * 15), x="x", y="y", direction="increase", target=3.0, screen_outliers=screen)
        row = result.summary.row(0, named=True)
        assert (row["no_variation"], row["lpl"], row["upl"], row["variation_type"], row["variation_icon"],
                row["assurance_type"]) == (True, None, None, "no_variation", None, None)
        assert not result.points.get_column("special_cause").any()


def test_short_series_have_trial_limits() -> None:
    assert xmr(_series([1.0, 2, 1, 2, 1, 2, 1, 2]), x="x", y="y").summary.item(0, "trial_limits") is True
    assert xmr(_series([1.0, 2] * 7), x="x", y="y").summary.item(0, "trial_limits") is False


# --- Laney p′ and u′, worked by hand -------------------------------------------------------------------------

NUMERATORS = [120, 135, 110, 150, 128, 140]
DENOMINATORS = [1000, 1100, 950, 1200, 1050, 1150]


def _laney_by_hand(rate: bool) -> list[tuple[float, float]]:
    """p̄ = Σd/Σn; σᵢ = √(p̄(1−p̄)/nᵢ) (√(ū/nᵢ) for rates); zᵢ = (pᵢ − p̄)/σᵢ; σz = mean |Δz| / 1.128."""
    centre = sum(NUMERATORS) / sum(DENOMINATORS)
    sigmas = [math.sqrt((centre if rate else centre * (1 - centre)) / n) for n in DENOMINATORS]
    z = [(d / n - centre) / s for d, n, s in zip(NUMERATORS, DENOMINATORS, sigmas, strict=True)]
    sigma_z = sum(abs(b - a) for a, b in itertools.pairwise(z)) / (len(z) - 1) / 1.128
    return [(max(centre - 3 * s * sigma_z, 0.0), centre + 3 * s * sigma_z) for s in sigmas]


@pytest.mark.parametrize(("chart", "rate"), [(laney_p, False), (laney_u, True)])
def test_laney_limits_match_the_hand_calculation(chart: Any, rate: bool) -> None:
    frame = _series([0.0] * 6, d=NUMERATORS, n=DENOMINATORS)
    result = chart(frame, x="x", numerator="d", denominator="n", direction="decrease")
    points = result.points
    centre = sum(NUMERATORS) / sum(DENOMINATORS)
    assert points.get_column("mean").to_list() == pytest.approx([centre] * 6, rel=1e-12)
    assert points.get_column("y").to_list() == pytest.approx([d / n for d, n in zip(NUMERATORS, DENOMINATORS,
                                                                                  strict=True)], rel=1e-12)
    expected = _laney_by_hand(rate)
    assert list(zip(points.get_column("lpl"), points.get_column("upl"), strict=True)) == [
        pytest.approx(pair, rel=1e-12) for pair in expected]
    assert len(set(points.get_column("upl"))) == 6  # limits follow each point's denominator
    first_sigma = math.sqrt((centre if rate else centre * (1 - centre)) / DENOMINATORS[0])
    assert result.summary.item(0, "sigma_z") == pytest.approx((expected[0][1] - centre) / (3 * first_sigma), rel=1e-12)


def test_laney_u_keeps_the_lower_limit_at_zero_and_checks_counts() -> None:
    frame = _series([0.0] * 5, d=[0, 9, 0, 8, 1], n=[10, 10, 10, 10, 10])
    assert min(laney_u(frame, x="x", numerator="d", denominator="n").points.get_column("lpl")) == 0.0
    with pytest.raises(UserError, match=r"cannot exceed its denominator \('n'\) \(at x = 2023-01-01"):
        laney_p(_series([0.0] * 3, d=[5, 1, 1], n=[4, 4, 4]), x="x", numerator="d", denominator="n")
    with pytest.raises(UserError, match="'n' must be above 0"):
        laney_u(_series([0.0] * 3, d=[1, 1, 1], n=[4, 0, 4]), x="x", numerator="d", denominator="n")


# --- bad input ----------------------------------------------------------------------------------------------


def test_bad_input_gets_a_clear_error_naming_where() -> None:
    good = _series([1.0, 2, 3])
    cases = [
        (lambda: xmr(good, x="x", y="rate"), r"no column 'rate'.*\n.*The columns are: x, y"),
        (lambda: xmr(good.with_columns(pl.Series("y", ["1", "two", "3"])), x="x", y="y"),
         r"Column 'y' has 1 values that are not finite numbers: row 2 \(x = 2023-01-02\): 'two'"),
        (lambda: xmr(pl.concat([good, good.head(1)]), x="x", y="y"), r"'x' has 2023-01-01 more than once"),
        (lambda: xmr(good.head(1), x="x", y="y"), "at least 2 points; there are 1"),
        (lambda: xmr(good, x="x", y="y", profile="strict"), r"Unknown SPC profile 'strict'.*\n.*mdc, nhsr"),
        (lambda: xmr(good, x="x", y="y", target=2.0), "A target needs an improvement direction"),
        (lambda: xmr(good, x="x", y="y", direction="up"), r"Unknown improvement direction 'up'"),
        (lambda: xmr(good, x="x", y="y", rebase=["2024-01-01"]), "rebase date 2024-01-01 is after the last point"),
        (lambda: xmr(good, x="x", y="y", rebase=["2023-01-03"]), "would rest on only 1 point"),
        (lambda: xmr(good, x="x", y="y", rebase=["soon"]), "rebase dates soon cannot be read"),
        (lambda: xmr(good, x="x", y="y", fix_after=1), "fix_after must be a whole number of points, at least 2"),
        (lambda: xmr(good.with_columns(g=pl.lit("A")), x="x", y="y", group="g", direction="increase",
                     target={"B": 1.0}), "targets for 'B', which column 'g' does not hold"),
    ]
    for call, message in cases:
        with pytest.raises(UserError, match=message):
            call()


def test_the_example_in_the_docs_runs() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "spc.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/spc.md", "exec"), {})  # our own documentation

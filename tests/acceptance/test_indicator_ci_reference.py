"""Indicator confidence intervals against the PHEindicatormethods 2.1.0 test results (../shared/reference/spc).

Every usable row of every file in ``indicator_ci/`` is one test case, named ``file:row N`` (row 1 is the first
data row), and each number is matched to 1e-6 *relative* (an empty cell must be undefined). Rows that cannot
be used are listed in ``UNUSABLE`` with the reason, and a test checks that list, so none is dropped silently.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import polars as pl
import pytest

from tests.conftest import SHARED, require_shared
from wholeplace.outcomes.intervals import byar, dsr, isr, proportion, rate, wilson

pytestmark = pytest.mark.shared

FOLDER = "reference/spc/indicator_ci"
RELATIVE = 1e-6
LEVELS = {"95_0": 0.95, "99_8": 0.998}  # the column suffixes of the two-level files
UNUSABLE = {  # (file, row) -> why the row cannot be reproduced from what is exported
    ("dsr_expected.csv", 4): "testdata_1976: its input is not exported",
    ("dsr_expected.csv", 8): "testdata_1976: its input is not exported (and its 99.8% limits are scaled ×10)",
    **{("dsr_expected.csv", row): "non-independent events: the frequency data is not exported" for row in range(9, 13)},
}
ZERO_POPULATION = ("Area1", "Area2")  # isr_expected rows 13-16: upstream's "zero population" case (see _isr_input)


@cache
def _table(name: str) -> pl.DataFrame:
    return pl.read_csv(require_shared(f"{FOLDER}/{name}"), infer_schema_length=None)


def _cases(name: str) -> list[Any]:
    path = SHARED / FOLDER / name
    rows = pl.read_csv(path).height if path.exists() else 1
    return [pytest.param(name, row, id=f"{name}:row {row}") for row in range(1, rows + 1)
            if (name, row) not in UNUSABLE]


def _row(name: str, row: int) -> dict[str, Any]:
    return _table(name).row(row - 1, named=True)


def _same(actual: Any, expected: Any, what: str) -> None:
    if expected is None:
        assert actual is None or math.isnan(actual), f"{what}: expected undefined, got {actual}"
    else:
        assert actual == pytest.approx(expected, rel=RELATIVE, abs=0), what


def _level(text: str) -> float:
    return {"95%": 0.95, "99.8%": 0.998}[text]


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


# -- counts, proportions and crude rates ---------------------------------------------------------


@pytest.mark.parametrize(("name", "row"), _cases("byars_wilson.csv"))
def test_byar_and_wilson_limits(name: str, row: int) -> None:
    case = _row(name, row)
    confidence = _level(case["confidence"])
    if case["method"] == "Byars":
        lower, upper = byar(case["x"], confidence=confidence)
    else:
        lower, upper = wilson(case["x"], case["n"], confidence=confidence)
    _same(float(lower), case["lowercl"], "lowercl")
    _same(float(upper), case["uppercl"], "uppercl")


def _check_levels(case: dict[str, Any], compute: Any) -> None:
    """Files with 95% and 99.8% columns, or one ``confidence`` column with ``lowercl``/``uppercl``."""
    levels = {"": _level(case["confidence"])} if "confidence" in case else LEVELS
    for suffix, confidence in levels.items():
        value, lower, upper = compute(confidence)
        _same(float(value), case["value"], "value")
        lower_column, upper_column = (f"lower{suffix}cl", f"upper{suffix}cl") if suffix else ("lowercl", "uppercl")
        _same(float(lower), case[lower_column], lower_column)
        _same(float(upper), case[upper_column], upper_column)


@pytest.mark.parametrize(("name", "row"), _cases("proportion_wilson.csv") + _cases("proportion_wilson_grouped.csv"))
def test_proportions_with_wilson_limits(name: str, row: int) -> None:
    case = _row(name, row)
    numerator, denominator = _number(case["Numerator"]), _number(case["Denominator"])
    _check_levels(case, lambda confidence: proportion(numerator, denominator, confidence=confidence,
                                                      multiplier=case["multiplier"]))


@pytest.mark.parametrize(("name", "row"), _cases("rate_byars_exact.csv") + _cases("rate_byars_exact_grouped.csv"))
def test_rates_with_exact_or_byar_limits(name: str, row: int) -> None:
    case = _row(name, row)
    count, denominator = _number(case["Numerator"]), _number(case["Denominator"])
    _check_levels(case, lambda confidence: rate(count, denominator, confidence=confidence,
                                                multiplier=case["multiplier"]))


# -- directly standardised rates -----------------------------------------------------------------


def _dsr_input() -> pl.DataFrame:
    # The upstream sheet labels the 55-59 band "55-69" (upstream matches bands by position) and leaves one
    # count of testdata_tiny blank, which upstream counts as 0 (na.zero); here both are made explicit.
    strata = _table("dsr_input_multiarea.csv").with_columns(
        pl.col("ageband").replace("55-69", "55-59"), pl.col("count").fill_null(0))
    return strata.join(_table("esp2013.csv"), on="ageband", how="left", validate="m:1")


@pytest.mark.parametrize(("name", "row"), _cases("dsr_expected.csv"))
def test_directly_standardised_rates_with_dobson_limits(name: str, row: int) -> None:
    case = _row(name, row)
    multiplier = 10_000 if case["statistic"] == "dsr per 10000" else 100_000
    for suffix, confidence in LEVELS.items():
        result = dsr(_dsr_input(), count="count", population="pop", standard="esp2013", groups=["area"],
                     confidence=confidence, multiplier=multiplier)
        got = result.filter(pl.col("area") == case["area"]).row(0, named=True)
        assert (got["total_count"], got["total_population"]) == (case["total_count"], case["total_pop"])
        assert (got["reason"] is None) == (case["value"] is not None)
        for ours, theirs in (("value", "value"), ("lower", f"lower{suffix}cl"), ("upper", f"upper{suffix}cl")):
            _same(got[ours], case[theirs], theirs)


# -- indirectly standardised ratios and rates ----------------------------------------------------


def _isr_input(area: str) -> pl.DataFrame:
    # Blank cells (testdata_tiny's 10-14 row, whose reference count is 0) are counted as 0, as upstream does.
    # Upstream's zero-population case (rows 13-16) is not exported: Area1 is testdata_big with the 5-9
    # population set to 0 (which gives its expected 808.3217… exactly) and Area2 is testdata_small.
    strata = _table("isr_input_multiarea.csv").fill_null(0)
    if area == "Area1":
        zero = (pl.col("area") == "testdata_big") & (pl.col("ageband") == "5-9")
        return strata.filter(pl.col("area") == "testdata_big").with_columns(
            pl.when(zero).then(0).otherwise(pl.col("pop")).alias("pop"))
    return strata.filter(pl.col("area") == {"Area2": "testdata_small"}.get(area, area))


@pytest.mark.parametrize(("name", "row"), _cases("isr_expected.csv"))
def test_indirectly_standardised_ratios_and_rates(name: str, row: int) -> None:
    case = _row(name, row)
    kind = "rate" if "rate" in case["statistic"] else "ratio"
    multiplier = float(case["statistic"].split()[-1])
    levels = {"95_0": 0.95} if case["area"] in ZERO_POPULATION else LEVELS
    for suffix, confidence in levels.items():
        got = isr(_isr_input(case["area"]), count="count", population="pop", reference_count="refcount",
                  reference_population="refpop", groups=[], kind=kind, confidence=confidence,
                  multiplier=multiplier).row(0, named=True)
        assert got["observed"] == case["observed"]
        assert got["method"] == {"Byars": "byar", "Exact": "exact"}[case["method"]]
        for ours, theirs in (("expected", "expected"), ("reference_rate", "ref_rate"), ("value", "value"),
                             ("lower", f"lower{suffix}cl"), ("upper", f"upper{suffix}cl")):
            _same(got[ours], case[theirs], theirs)


def test_only_the_documented_rows_are_left_out() -> None:
    assert {name for name, _ in UNUSABLE} == {"dsr_expected.csv"}
    areas = {_row(name, row)["area"] for name, row in UNUSABLE}
    assert areas == {"testdata_1976", "testdata_nonind_big", "testdata_nonind_dummy",
                                   "testdata_nonind_small", "testdata_nonind_tiny"}
    assert "testdata_1976" not in set(_table("dsr_input_multiarea.csv")["area"])

"""Indicator confidence intervals: textbook values, planted truth, shapes, zero counts and bad input.

The published PHEindicatormethods results are reproduced in tests/acceptance/test_indicator_ci_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wholeplace.errors import UserError
from wholeplace.outcomes.intervals import (
    METHODS,
    RATE_METHODS,
    byar,
    dsr,
    exact_poisson,
    isr,
    proportion,
    rate,
    wilson,
)

# -- textbook values -----------------------------------------------------------------------------


def test_wilson_reproduces_newcombe_1998_examples() -> None:
    # Newcombe RG, Stat Med 1998;17:857-72: the worked examples, score method without continuity correction
    lower, upper = wilson([81, 15, 0, 1], [263, 148, 20, 29])
    assert np.round(lower, 4).tolist() == [0.2553, 0.0624, 0.0, 0.0061]
    assert np.round(upper, 4).tolist() == [0.3662, 0.1605, 0.1611, 0.1718]


def test_exact_poisson_reproduces_garwood_limits() -> None:
    # Garwood F, Biometrika 1936;28:437-42: the exact 95% limits of a Poisson count
    lower, upper = exact_poisson([0, 1, 5, 10])
    assert np.round(lower, 3).tolist() == [0.0, 0.025, 1.623, 4.795]
    assert np.round(upper, 3).tolist() == [3.689, 5.572, 11.668, 18.390]


def test_byar_approaches_the_exact_limits_for_large_counts() -> None:
    counts = np.array([100, 1_000, 10_000])
    for approximate, exact in zip(byar(counts), exact_poisson(counts), strict=True):
        assert np.all(np.abs(approximate / exact - 1) < 2e-4)


def test_byar_at_99_8_percent_is_wider_than_at_95() -> None:
    narrow, wide = byar(65), byar(65, confidence=0.998)
    assert wide[0] < narrow[0] < 65 < narrow[1] < wide[1]


# -- the Fingertips rule for rates ---------------------------------------------------------------


def test_byar_exact_uses_exact_limits_below_10_and_byar_from_10() -> None:
    _, lower, upper = rate([9, 10], [1, 1], multiplier=1)
    assert (lower[0], upper[0]) == tuple(float(v) for v in exact_poisson(9))
    assert (lower[1], upper[1]) == tuple(float(v) for v in byar(10))


@pytest.mark.parametrize("method", RATE_METHODS)
def test_rate_scales_the_count_limits_by_multiplier_over_denominator(method: str) -> None:
    value, lower, upper = rate(20, 4_000, multiplier=1_000, method=method)
    plain = {"byar": byar(20), "exact": exact_poisson(20), "byar_exact": byar(20)}[method]
    assert value == pytest.approx(5.0)
    assert (float(lower), float(upper)) == pytest.approx((float(plain[0]) / 4, float(plain[1]) / 4))


def test_proportion_is_a_percentage_by_default() -> None:
    value, lower, upper = proportion(65, 100)
    assert value == pytest.approx(65.0)
    assert (float(lower) / 100, float(upper) / 100) == pytest.approx(tuple(float(v) for v in wilson(65, 100)))


# -- planted truth: coverage of the true value ---------------------------------------------------


def test_rate_limits_cover_a_planted_rate_about_95_percent_of_the_time() -> None:
    generator = np.random.default_rng(20240501)
    population = generator.integers(200, 20_000, size=4_000)
    true_rate = 0.004  # per person: expected counts from 0.8 to 80, so both rules are exercised
    counts = generator.poisson(true_rate * population)
    _, lower, upper = rate(counts, population, multiplier=1)
    coverage = np.mean((lower <= true_rate) & (true_rate <= upper))
    assert 0.94 <= coverage <= 0.97


def test_wilson_limits_cover_a_planted_proportion_about_95_percent_of_the_time() -> None:
    generator = np.random.default_rng(7)
    trials = generator.integers(20, 2_000, size=4_000)
    successes = generator.binomial(trials, 0.12)
    lower, upper = wilson(successes, trials)
    coverage = np.mean((lower <= 0.12) & (upper >= 0.12))
    assert 0.935 <= coverage <= 0.965


@given(count=st.integers(0, 10**6), extra=st.integers(0, 10**6), confidence=st.sampled_from([0.9, 0.95, 0.998]))
@settings(max_examples=200, deadline=None)
def test_limits_bracket_the_value(count: int, extra: int, confidence: float) -> None:
    denominator = count + extra
    for value, lower, upper in (rate(count, denominator + 1, confidence=confidence),
                                proportion(count, max(denominator, 1), confidence=confidence)):
        assert 0 <= lower <= value <= upper


# -- shapes, zeros and undefined values ----------------------------------------------------------


def test_scalars_give_zero_dimensional_arrays() -> None:
    results = [*wilson(3, 10), *byar(3), *exact_poisson(3), *rate(3, 10), *proportion(3, 10)]
    assert all(isinstance(r, np.ndarray) and r.shape == () for r in results)


def test_arrays_keep_their_shape_and_a_scalar_denominator_broadcasts() -> None:
    counts = np.arange(12).reshape(3, 4)
    assert all(r.shape == (3, 4) for r in (*rate(counts, 1_000), *proportion(counts, 20), *byar(counts)))
    assert all(r.shape == (3, 4) for r in exact_poisson(counts))


def test_wilson_at_zero_and_at_all() -> None:
    z2 = 1.959963984540054**2
    lower, upper = wilson([0, 50], 50)
    assert lower[0] == 0.0 and upper[0] == pytest.approx(z2 / (50 + z2))
    assert upper[1] == pytest.approx(1.0) and lower[1] == pytest.approx(50 / (50 + z2))


def test_exact_poisson_and_byar_at_zero() -> None:
    lower, upper = exact_poisson(0)
    assert lower == 0.0 and upper == pytest.approx(-math.log(0.025))  # chi-squared on 2 df is exponential
    assert byar(0)[0] == 0.0


def test_byar_lower_limit_is_undefined_where_the_approximation_fails() -> None:
    lower, upper = byar(1, confidence=0.998)
    assert math.isnan(lower) and upper == pytest.approx(9.362180217908362)


def test_a_zero_denominator_gives_nan_and_missing_values_stay_missing() -> None:
    value, lower, upper = rate([5, np.nan, 5], [0, 100, np.nan])
    assert np.isnan(value).all() and np.isnan(lower).all() and np.isnan(upper).all()
    assert all(math.isnan(v) for v in proportion(0, 0))
    assert all(np.isnan(v).all() for v in wilson([None, 2], [10, None]))


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda: byar([3, -1]), lambda: exact_poisson(-2), lambda: rate([1, 2, -4], 100),
    lambda: rate(1, -100), lambda: wilson(-1, 10), lambda: proportion(1, [10, -10]),
])
def test_negative_values_are_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="negative value"):
        call()


def test_the_error_names_the_argument_and_position() -> None:
    with pytest.raises(UserError, match=r"'count' has a negative value -4 at position 2"):
        rate([1, 2, -4], 100)


@pytest.mark.parametrize("call", [lambda: wilson(11, 10), lambda: proportion([1, 12], [10, 10])])
def test_a_numerator_above_its_denominator_is_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="'numerator' is larger than 'denominator'"):
        call()


@pytest.mark.parametrize("confidence", [95, 0, 1, -0.5, True, float("nan"), "0.95"])
def test_a_confidence_outside_zero_to_one_is_refused(confidence: object) -> None:
    for call in (lambda: wilson(1, 10, confidence=confidence), lambda: byar(1, confidence=confidence),  # type: ignore[arg-type]
                 lambda: exact_poisson(1, confidence=confidence), lambda: rate(1, 10, confidence=confidence)):  # type: ignore[arg-type]
        with pytest.raises(UserError, match="'confidence' must be a proportion") as raised:
            call()
        assert "0.95" in (raised.value.hint or "")


def test_an_unknown_rate_method_is_refused_with_the_choices() -> None:
    with pytest.raises(UserError, match="'method'") as raised:
        rate(1, 10, method="wald")
    assert raised.value.hint == "Use one of: byar_exact, byar, exact."


@pytest.mark.parametrize("multiplier", [0, -100, True])
def test_a_multiplier_must_be_positive(multiplier: float) -> None:
    for call in (rate, proportion, wilson):
        with pytest.raises(UserError, match="'multiplier'"):
            call(1, 10, multiplier=multiplier)


def test_text_and_mismatched_shapes_are_refused() -> None:
    with pytest.raises(UserError, match="'count' must hold numbers"):
        rate(["a lot"], 10)
    with pytest.raises(UserError, match="do not match"):
        rate([1, 2, 3], [10, 20])


def test_methods_describe_every_rate_method_in_one_line() -> None:
    assert set(RATE_METHODS) <= set(METHODS)
    assert all(text and "\n" not in text for text in METHODS.values())


# -- directly standardised rates -----------------------------------------------------------------


def _strata(counts: list[int], populations: list[int], standard: list[int], area: str = "A") -> pl.DataFrame:
    return pl.DataFrame({"area": area, "band": [f"b{i}" for i in range(len(counts))], "deaths": counts,
                         "people": populations, "esp": standard})


def _dsr(frame: pl.DataFrame, **options: object) -> pl.DataFrame:
    return dsr(frame, count="deaths", population="people", standard="esp", groups=["area"], **options)  # type: ignore[arg-type]


def test_a_dsr_of_one_stratum_is_the_crude_rate_with_byar_limits() -> None:
    row = _dsr(_strata([40], [8_000], [5_000])).row(0, named=True)
    _, lower, upper = rate(40, 8_000)
    assert row["value"] == pytest.approx(500.0)
    assert (row["lower"], row["upper"]) == pytest.approx((float(lower), float(upper)))


def test_a_dsr_recovers_a_planted_age_specific_rate_whatever_the_weights() -> None:
    populations = [1_000, 4_000, 2_500, 500]
    row = _dsr(_strata([p // 50 for p in populations], populations, [5_000, 7_000, 6_500, 1_000])).row(0, named=True)
    assert row["value"] == pytest.approx(2_000.0)  # 1 in 50 in every band, per 100,000
    assert row["lower"] < 2_000.0 < row["upper"] and row["reason"] is None


def test_dsr_limits_cover_planted_rates_about_95_percent_of_the_time() -> None:
    generator = np.random.default_rng(11)
    rates, populations, standard = np.array([0.001, 0.004, 0.02]), np.array([3_000, 2_000, 800]), [6_000, 5_000, 2_500]
    areas = 1_500
    counts = generator.poisson(np.tile(rates * populations, areas))
    frame = pl.DataFrame({"area": np.repeat(np.arange(areas), 3), "deaths": counts,
                          "people": np.tile(populations, areas), "esp": np.tile(standard, areas)})
    truth = float(np.sum(rates * standard) / np.sum(standard) * 100_000)
    result = _dsr(frame, minimum_count=1)
    coverage = result.select(((pl.col("lower") <= truth) & (pl.col("upper") >= truth)).mean()).item()
    assert 0.935 <= coverage <= 0.97


def test_a_dsr_below_the_minimum_count_is_suppressed_with_a_reason() -> None:
    frame = pl.concat([_strata([3, 4], [900, 1_100], [1, 1], "small"), _strata([30, 40], [900, 1_100], [1, 1], "big")])
    result = _dsr(frame)
    assert result["area"].to_list() == ["small", "big"]
    assert result.row(0, named=True) == {
        "area": "small", "total_count": 7, "total_population": 2_000, "value": None, "lower": None, "upper": None,
        "reason": "total count 7 is below 10"}
    assert result.row(1, named=True)["value"] is not None
    assert _dsr(frame, minimum_count=5).row(0, named=True)["reason"] is None


def test_a_dsr_without_groups_covers_the_whole_frame() -> None:
    result = dsr(_strata([10, 20], [1_000, 1_000], [1, 1]), count="deaths", population="people", standard="esp",
                 groups=[])
    assert result.columns == ["total_count", "total_population", "value", "lower", "upper", "reason"]
    assert result.row(0, named=True)["value"] == pytest.approx(1_500.0)


@pytest.mark.parametrize(("frame", "message"), [
    (_strata([1, 2], [10, 10], [1, 1]).drop("esp"), r"no column 'esp'"),
    (_strata([1, 2], [10, 10], [1, 1]).with_columns(pl.col("people").cast(pl.String)), r"'people' must hold numbers"),
    (_strata([1, 2], [10, 10], [1, 1]).with_columns(deaths=pl.Series([1, None])), r"'deaths' is missing in row 2"),
    (_strata([1, -2], [10, 10], [1, 1]), r"'deaths' is negative in row 2"),
    (_strata([1, 2], [10, 0], [1, 1]), r"'people' is 0 in row 2"),
    (_strata([1, 2], [10, 10], [1, -1]), r"'esp' is negative in row 2"),
])
def test_bad_strata_are_refused_naming_column_and_row(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(UserError, match=message):
        _dsr(frame)


def test_a_missing_count_hint_says_to_fill_with_zero() -> None:
    frame = _strata([1, 2], [10, 10], [1, 1]).with_columns(deaths=pl.Series([1, None]))
    with pytest.raises(UserError) as raised:
        _dsr(frame)
    assert "'band': 'b1'" in (raised.value.hint or "") and "fill it with 0" in (raised.value.hint or "")


# -- indirectly standardised ratios and rates ----------------------------------------------------


def _isr_frame(counts: list[int], populations: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"area": "A", "deaths": counts, "people": populations,
                         "ref_deaths": [100, 600], "ref_people": [10_000, 20_000]})


def _isr(frame: pl.DataFrame, **options: object) -> pl.DataFrame:
    return isr(frame, count="deaths", population="people", reference_count="ref_deaths",
               reference_population="ref_people", groups=["area"], **options)  # type: ignore[arg-type]


def test_an_area_with_the_reference_rates_has_a_ratio_of_100() -> None:
    row = _isr(_isr_frame([20, 90], [2_000, 3_000])).row(0, named=True)  # expected 20 + 90
    assert (row["observed"], row["expected"], row["value"]) == (110, pytest.approx(110.0), pytest.approx(100.0))
    assert row["reference_rate"] is None and row["method"] == "byar"
    assert (row["lower"], row["upper"]) == pytest.approx(tuple(float(v) / 110 * 100 for v in byar(110)))


def test_an_isr_rate_is_the_ratio_times_the_reference_rate() -> None:
    row = _isr(_isr_frame([40, 180], [2_000, 3_000]), kind="rate").row(0, named=True)
    reference = 700 / 30_000 * 100_000
    assert row["reference_rate"] == pytest.approx(reference)
    assert row["value"] == pytest.approx(2 * reference)


def test_an_isr_with_few_events_uses_exact_limits_and_zero_is_defined() -> None:
    small, none = (_isr(_isr_frame(c, [2_000, 3_000]), multiplier=1).row(0, named=True) for c in ([3, 4], [0, 0]))
    assert small["method"] == "exact"
    assert (small["lower"], small["upper"]) == pytest.approx(tuple(float(v) / 110 for v in exact_poisson(7)))
    assert (none["value"], none["lower"]) == (0.0, 0.0) and none["upper"] == pytest.approx(-math.log(0.025) / 110)


def test_an_isr_with_no_expected_events_is_null() -> None:
    row = _isr(_isr_frame([0, 0], [0, 0])).row(0, named=True)
    assert (row["value"], row["lower"], row["upper"]) == (None, None, None)


def test_isr_refuses_an_unknown_kind_and_an_empty_reference_stratum() -> None:
    with pytest.raises(UserError, match="'kind'"):
        _isr(_isr_frame([1, 2], [10, 10]), kind="smr")
    with pytest.raises(UserError, match="'ref_people' is 0 in row 1"):
        _isr(_isr_frame([1, 2], [10, 10]).with_columns(ref_people=pl.Series([0, 10])))

"""Concentration measures on hand-made counts: known answers worked out by hand and invariants
(the published reference values are checked in tests/acceptance/test_demand_concentration_reference.py)."""

from __future__ import annotations

import numpy as np
import pytest

from wholeplace.demand.concentration import (
    describe_concentration,
    generalized_gini,
    gini,
    lorenz_curve,
    units_share_for,
)
from wholeplace.errors import UserError


def test_equal_counts_have_no_concentration_and_one_unit_holding_everything_has_all() -> None:
    assert gini([4, 4, 4, 4]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 8]) == pytest.approx(0.75)  # (n - 1) / n: the most a biased Gini reaches
    assert gini([0, 0, 0, 8], unbiased=True) == pytest.approx(1.0)


def test_gini_by_hand() -> None:
    # sorted 1, 2, 3, 4: sum (2i - 5) x_i = -3 - 2 + 3 + 12 = 10; n * sum = 40
    assert gini([3, 1, 4, 2]) == pytest.approx(0.25)
    assert gini([3, 1, 4, 2], unbiased=True) == pytest.approx(0.25 * 4 / 3)


def test_the_generalised_gini_scores_the_most_even_spread_of_sparse_counts_as_zero() -> None:
    # Three events over ten units can at best fall on three units: the standard Gini says 0.7.
    spread = [1, 1, 1] + [0] * 7
    assert gini(spread) == pytest.approx(0.7)
    assert generalized_gini(spread) == pytest.approx(0.0)
    # With more events than units the generalised Gini is the standard one.
    assert generalized_gini([5, 3, 2, 2]) == pytest.approx(gini([5, 3, 2, 2]))


def test_measures_do_not_depend_on_order_or_scale_of_the_units() -> None:
    rng = np.random.default_rng(7)
    counts = rng.poisson(0.8, 500)
    shuffled = rng.permutation(counts)
    assert gini(counts) == pytest.approx(gini(shuffled))
    assert gini(counts) == pytest.approx(gini(counts * 3))
    assert 0 <= generalized_gini(counts) <= gini(counts) <= 1


def test_lorenz_curve_runs_from_origin_to_one_and_never_above_the_diagonal() -> None:
    counts = [5, 0, 1, 0, 0, 2, 0, 0, 9, 3]
    curve = lorenz_curve(counts)
    assert curve.height == 101
    assert (curve["units_share"][0], curve["events_share"][0]) == (0.0, 0.0)
    assert curve["events_share"][-1] == pytest.approx(1.0)
    assert (curve["events_share"] <= curve["units_share"] + 1e-12).all()
    assert (curve["events_share"].diff().drop_nulls() >= -1e-12).all()
    # The area between the curve and the diagonal is half the Gini (trapezoids, exact at unit steps).
    exact = lorenz_curve(counts, points=11)
    area = np.trapezoid(exact["events_share"].to_numpy(), exact["units_share"].to_numpy())
    assert 1 - 2 * area == pytest.approx(gini(counts))


def test_share_of_units_making_half_the_demand() -> None:
    counts = [50, 20, 10, 10, 5, 5, 0, 0, 0, 0]
    assert units_share_for(counts, events_share=0.5) == pytest.approx(0.1)  # the busiest unit alone
    assert units_share_for(counts, events_share=0.7) == pytest.approx(0.2)
    assert units_share_for(counts, events_share=1.0) == pytest.approx(0.6)
    summary = describe_concentration(counts)
    assert (summary.units, summary.events, summary.units_for_half) == (10, 100.0, pytest.approx(0.1))


@pytest.mark.parametrize("counts, words", [
    ([], "no counts"), ([1, -1], "not negative"), ([0, 0], "all counts are zero"), ([1.0, float("nan")], "finite")])
def test_bad_counts_are_user_errors(counts: list[float], words: str) -> None:
    with pytest.raises(UserError, match=f"(?i){words}"):
        gini(counts)


def test_the_unbiased_gini_needs_two_units_and_the_summary_says_not_a_number() -> None:
    with pytest.raises(UserError, match="at least two"):
        gini([5], unbiased=True)
    summary = describe_concentration([5])
    assert summary.gini == 0.0
    assert np.isnan(summary.gini_unbiased) and np.isnan(summary.generalized_gini_unbiased)

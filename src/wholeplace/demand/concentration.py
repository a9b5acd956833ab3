"""How concentrated demand is: the Lorenz curve, the Gini coefficient and the generalised Gini.

Every function takes a vector of non-negative counts, one per unit (an address, a caller, a
person, an area), including the units with no events where the units are known (every area of
a level): leaving quiet units out understates concentration. When there are fewer events than
units (sparse counts), the standard Gini is pushed towards 1 even if events were spread as
evenly as they could be; Bernasco & Steenbeek (2017, J Quant Criminol 33:451) rescale it so that the most
even spread possible scores 0:

    G  = sum_i (2i - n - 1) x_(i) / (n * sum x)           (x sorted ascending, i = 1..n; biased)
    G* = G * n / (n - 1)                                   (unbiased)
    G' = max(1, n / N) * (G - 1) + 1                       (generalised, N = number of events)
    G'* = G' * m / (m - 1), m = min(n, N)                  (generalised, unbiased)

These reproduce the R package ``lorenzgini`` (and DescTools' ``Gini``) to machine precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wholeplace.errors import UserError

LORENZ_POINTS = 101  # the curve at every whole per cent of units


@dataclass(frozen=True)
class Concentration:
    """Summary of how concentrated ``events`` are over ``units``."""

    units: int
    events: float
    gini: float
    gini_unbiased: float
    generalized_gini: float
    generalized_gini_unbiased: float
    units_for_half: float  # smallest share of units (busiest first) holding half the events
    units_for_quarter: float


def as_counts(counts: Sequence[float] | np.ndarray, *, what: str = "counts") -> np.ndarray:
    """The counts as a float array; a user error when empty, negative, not finite or all zero."""
    values = np.asarray(counts, dtype=np.float64).ravel()
    if values.size == 0:
        raise UserError(f"There are no {what} to measure concentration over.",
                        hint="Choose a wider period or more datasets.")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise UserError(f"The {what} must be finite and not negative to measure concentration.")
    if values.sum() == 0:
        raise UserError(f"All {what} are zero, so concentration is undefined.",
                        hint="Choose a wider period or more datasets.")
    return values


def gini(counts: Sequence[float] | np.ndarray, *, unbiased: bool = False) -> float:
    """The standard Gini coefficient (biased as in DescTools, or times n/(n-1) when ``unbiased``)."""
    values = np.sort(as_counts(counts))
    value = _gini_of_sorted(values)
    return value * _correction(values.size) if unbiased else value


def generalized_gini(counts: Sequence[float] | np.ndarray, *, unbiased: bool = False) -> float:
    """Bernasco & Steenbeek's generalised Gini for sparse counts (fewer events than units)."""
    values = np.sort(as_counts(counts))
    value = _generalized(values, _gini_of_sorted(values))
    return value * _correction(min(values.size, float(values.sum()))) if unbiased else value


def _gini_of_sorted(values: np.ndarray) -> float:
    n = values.size
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float(((2 * ranks - n - 1) * values).sum() / (n * values.sum()))


def _generalized(values: np.ndarray, standard: float) -> float:
    return max(1.0, values.size / float(values.sum())) * (standard - 1.0) + 1.0


def _correction(m: float) -> float:
    if m <= 1:
        raise UserError("The unbiased Gini needs at least two units and two events.",
                        hint="Use the biased Gini, or a wider period or more datasets.")
    return m / (m - 1.0)


def lorenz_curve(counts: Sequence[float] | np.ndarray, *, points: int = LORENZ_POINTS) -> pl.DataFrame:
    """The Lorenz curve at ``points`` evenly spaced shares of units (least busy first), from
    (0, 0) to (1, 1): ``units_share`` and the ``events_share`` those units account for."""
    return _lorenz_of_sorted(np.sort(as_counts(counts)), points)


def _lorenz_of_sorted(values: np.ndarray, points: int) -> pl.DataFrame:
    cumulative = np.concatenate([[0.0], np.cumsum(values)]) / values.sum()
    steps = np.linspace(0.0, 1.0, max(2, points))
    # Between two units the curve is a straight line: interpolate at the chosen shares.
    shares = np.interp(steps * values.size, np.arange(values.size + 1), cumulative)
    return pl.DataFrame({"units_share": steps, "events_share": np.minimum(shares, steps)})


def units_share_for(counts: Sequence[float] | np.ndarray, *, events_share: float) -> float:
    """Smallest share of units, busiest first, that together account for ``events_share`` of events
    ("4 % of addresses make half the calls"); whole units, so a step, not an interpolation."""
    if not 0 < events_share <= 1:
        raise UserError(f"events_share must be above 0 and at most 1, not {events_share}.")
    return _units_share_of_sorted(np.sort(as_counts(counts)), events_share)


def _units_share_of_sorted(values: np.ndarray, events_share: float) -> float:
    cumulative = np.cumsum(values[::-1]) / values.sum()
    needed = int(np.searchsorted(cumulative, events_share - 1e-12)) + 1
    return min(needed, values.size) / values.size


def describe_concentration(counts: Sequence[float] | np.ndarray) -> Concentration:
    """Every concentration measure of the counts at once (one sort); unbiased values are NaN
    below two units (or two events)."""
    values = np.sort(as_counts(counts))
    standard = _gini_of_sorted(values)
    generalized = _generalized(values, standard)
    m = min(values.size, float(values.sum()))
    return Concentration(
        units=int(values.size), events=float(values.sum()), gini=standard,
        gini_unbiased=standard * _correction(values.size) if values.size > 1 else float("nan"),
        generalized_gini=generalized, generalized_gini_unbiased=generalized * _correction(m) if m > 1 else float("nan"),
        units_for_half=_units_share_of_sorted(values, 0.5), units_for_quarter=_units_share_of_sorted(values, 0.25),
    )


def concentration_and_lorenz(counts: Sequence[float] | np.ndarray,
                             *, points: int = LORENZ_POINTS) -> tuple[Concentration, pl.DataFrame]:
    """``describe_concentration`` and ``lorenz_curve`` together, sorting the counts once."""
    values = np.sort(as_counts(counts))
    return describe_concentration(values), _lorenz_of_sorted(values, points)

"""Confidence intervals for indicators, computed the way Fingertips (OHID) publishes them.

Counts get Byar's limits or exact Poisson limits (chi-squared); proportions get Wilson score limits; crude
rates get exact limits below 10 events and Byar's from 10 (PHEindicatormethods' ``phe_rate``); directly
standardised rates (DSR) get Dobson's limits; indirectly standardised ratios and rates (ISR) get the
count limits of the observed total scaled by the expected. The count and proportion functions are
vectorised (numbers or numpy arrays in, numpy arrays out, NaN where a value is undefined, such as a zero
denominator); ``dsr`` and ``isr`` take one row per stratum (age band) and return one row per group.

docs/indicator-methods.md gives each method's formula, source, when it is used and the reference results
the tests reproduce.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from wholeplace.errors import UserError

EXACT_BELOW = 10  # Fingertips: exact Poisson limits for fewer than 10 events, Byar's from 10
RATE_METHODS = ("byar_exact", "byar", "exact")
ISR_KINDS = {"ratio": 100.0, "rate": 100_000.0}  # kind -> default multiplier

METHODS: dict[str, str] = {
    "wilson": "Wilson score interval for a proportion.",
    "byar": "Byar's approximation to the Poisson confidence limits of a count.",
    "exact": "Exact Poisson confidence limits of a count, from the chi-squared distribution.",
    "byar_exact": "Rate with exact Poisson limits below 10 events and Byar's limits from 10 (Fingertips).",
    "dsr_dobson": "Directly standardised rate (European Standard Population 2013) with Dobson's limits.",
    "isr_ratio": "Indirectly standardised ratio (observed over expected) with exact or Byar's limits.",
    "isr_rate": "Indirectly standardised rate (ratio times the reference rate) with exact or Byar's limits.",
}


# -- counts and proportions ----------------------------------------------------------------------


def wilson(numerator: Any, denominator: Any, *, confidence: float = 0.95,
           multiplier: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of ``numerator`` / ``denominator``, times ``multiplier``."""
    z = _z(confidence)
    _check_multiplier(multiplier)
    x, n = _pair(numerator, "numerator", denominator, "denominator")
    _check_within(x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        lower, upper = ((centre + sign * spread) / (2 * (n + z**2)) for sign in (-1, 1))
    lower, upper = np.where(x == 0, 0.0, lower), np.where(x == n, 1.0, upper)  # exact at the ends, not 1 - 1e-16
    undefined = n == 0
    return _undefined(lower * multiplier, undefined), _undefined(upper * multiplier, undefined)


def byar(count: Any, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's limits of a count; the lower limit is 0 at a zero count and NaN where the approximation fails."""
    z = _z(confidence)
    x = _counts(count, "count")
    with np.errstate(divide="ignore", invalid="ignore"):
        base = 1 - 1 / (9 * x) - z / (3 * np.sqrt(x))
        lower = np.where(x == 0, 0.0, np.where(base < 0, np.nan, x * base**3))
        upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    return _arrays(lower, upper)


def exact_poisson(count: Any, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson limits of a count: half the chi-squared quantiles on 2x and 2(x + 1) degrees of freedom."""
    _z(confidence)
    x = _counts(count, "count")
    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(x == 0, 0.0, stats.chi2.ppf(alpha / 2, 2 * x) / 2)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * (x + 1)) / 2
    return _arrays(lower, upper)


def rate(count: Any, denominator: Any, *, confidence: float = 0.95, multiplier: float = 100_000,
         method: str = "byar_exact") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A crude rate per ``multiplier`` with its limits: (value, lower, upper); NaN where the denominator is 0."""
    _check_multiplier(multiplier)
    x, n = _pair(count, "count", denominator, "denominator")
    lower, upper = _count_limits(x, confidence=confidence, method=method)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n == 0, np.nan, multiplier / n)
    return _arrays(x * scale, lower * scale, upper * scale)


def proportion(numerator: Any, denominator: Any, *, confidence: float = 0.95,
               multiplier: float = 100.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A proportion times ``multiplier`` (100: a percentage) with Wilson limits: (value, lower, upper)."""
    _check_multiplier(multiplier)
    x, n = _pair(numerator, "numerator", denominator, "denominator")
    lower, upper = wilson(x, n, confidence=confidence, multiplier=multiplier)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(n == 0, np.nan, x / n * multiplier)
    return _arrays(value, lower, upper)


def _count_limits(count: Any, *, confidence: float = 0.95, method: str = "byar_exact") -> tuple[np.ndarray, np.ndarray]:
    """Limits of a count by a rate method: ``byar_exact`` (exact below 10, Byar's from 10), ``byar`` or ``exact``."""
    if method not in RATE_METHODS:
        raise UserError(f"Unknown interval method {method!r} for the argument 'method'.",
                        hint=f"Use one of: {', '.join(RATE_METHODS)}.")
    if method == "byar":
        return byar(count, confidence=confidence)
    exact = exact_poisson(count, confidence=confidence)
    if method == "exact":
        return exact
    x = _counts(count, "count")
    byars = byar(x, confidence=confidence)
    small = x < EXACT_BELOW
    return _arrays(np.where(small, exact[0], byars[0]), np.where(small, exact[1], byars[1]))


# -- standardised rates and ratios ---------------------------------------------------------------


def dsr(frame: pl.DataFrame, *, count: str, population: str, standard: str, groups: list[str],
        confidence: float = 0.95, multiplier: float = 100_000, minimum_count: int = 10) -> pl.DataFrame:
    """Directly standardised rate per ``multiplier`` with Dobson's limits, one row per group.

    ``frame`` has one row per stratum: the ``count`` of events, the ``population`` and the ``standard``
    population weight (e.g. the European Standard Population 2013 for its age band). Returns the group
    columns, ``total_count``, ``total_population``, ``value``, ``lower``, ``upper`` and ``reason``: when the
    total count is below ``minimum_count`` the value and limits are null and ``reason`` says why.
    """
    _z(confidence)
    _check_multiplier(multiplier)
    _check_strata(frame, "dsr", [count, population, standard], groups, positive=[population])
    weight, stratum_rate = pl.col(standard), pl.col(count) / pl.col(population)
    totals = _by_group(frame, groups, [
        pl.col(count).sum().alias("total_count"), pl.col(population).sum().alias("total_population"),
        (weight * stratum_rate).sum().alias("_weighted"), weight.sum().alias("_weight"),
        (weight**2 * stratum_rate / pl.col(population)).sum().alias("_variance")])
    observed = totals["total_count"].to_numpy().astype(float)
    suppressed = observed < minimum_count
    reason = [f"total count {o:g} is below {minimum_count}" if hide else None
              for o, hide in zip(observed, suppressed, strict=True)]
    return totals.drop("_weighted", "_weight", "_variance").with_columns(
        *(_published(name, values, suppressed) for name, values in _dobson(totals, confidence, multiplier).items()),
        pl.Series("reason", reason, dtype=pl.String))


def _dobson(totals: pl.DataFrame, confidence: float, multiplier: float) -> dict[str, np.ndarray]:
    """Dobson's limits: the DSR moved by the count limits of the total count, scaled by sqrt(variance / count)."""
    observed, weights = (totals[name].to_numpy().astype(float) for name in ("total_count", "_weight"))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = totals["_weighted"].to_numpy() / weights * multiplier
        scale = np.sqrt(totals["_variance"].to_numpy() / weights**2 / observed) * multiplier
    low, high = _count_limits(observed, confidence=confidence)
    return {"value": value, "lower": value + scale * (low - observed), "upper": value + scale * (high - observed)}


def isr(frame: pl.DataFrame, *, count: str, population: str, reference_count: str, reference_population: str,
        groups: list[str], kind: str = "ratio", confidence: float = 0.95,
        multiplier: float | None = None) -> pl.DataFrame:
    """Indirectly standardised ratio or rate with limits, one row per group.

    ``frame`` has one row per stratum: the group's ``count`` and ``population``, and the reference
    population's ``reference_count`` and ``reference_population`` for the same stratum. Expected is the
    sum over strata of population × reference count / reference population. ``kind="ratio"`` gives
    observed / expected × ``multiplier`` (default 100); ``kind="rate"`` gives that ratio times the
    reference rate (all reference counts over all reference populations) per ``multiplier`` (default
    100,000). Limits are the count limits of the observed total (exact below 10, Byar's from 10) scaled the
    same way. Returns the group columns, ``observed``, ``expected``, ``reference_rate`` (null for a ratio),
    ``value``, ``lower``, ``upper`` and ``method`` (``exact`` or ``byar``); undefined values are null.
    """
    if kind not in ISR_KINDS:
        raise UserError(f"Unknown kind {kind!r} for the argument 'kind'.", hint=f"Use one of: {', '.join(ISR_KINDS)}.")
    scale_by = ISR_KINDS[kind] if multiplier is None else multiplier
    _z(confidence)
    _check_multiplier(scale_by)
    columns = [count, population, reference_count, reference_population]
    _check_strata(frame, "isr", columns, groups, positive=[reference_population])
    totals = _by_group(frame, groups, [
        pl.col(count).sum().alias("observed"),
        (pl.col(population) * pl.col(reference_count) / pl.col(reference_population)).sum().alias("expected"),
        (pl.col(reference_count).sum() / pl.col(reference_population).sum() * scale_by).alias("reference_rate")])
    observed, expected = (totals[name].to_numpy().astype(float) for name in ("observed", "expected"))
    factor = totals["reference_rate"].to_numpy() if kind == "rate" else np.full(observed.shape, scale_by)
    low, high = _count_limits(observed, confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_expected = np.where(expected == 0, np.nan, factor / expected)
    values = {"value": observed * per_expected, "lower": low * per_expected, "upper": high * per_expected}
    method = np.where(observed < EXACT_BELOW, "exact", "byar")
    return totals.with_columns(
        pl.col("reference_rate") if kind == "rate" else pl.lit(None, dtype=pl.Float64).alias("reference_rate"),
        *(_published(name, v, np.zeros(observed.shape, dtype=bool)) for name, v in values.items()),
        pl.Series("method", method.tolist(), dtype=pl.String))


# -- checks and helpers --------------------------------------------------------------------------


def _z(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level given as a proportion (0.95, 0.998)."""
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise UserError(f"The argument 'confidence' must be a proportion between 0 and 1; got {confidence!r}.",
                        hint="Give 0.95 for a 95% interval or 0.998 for a 99.8% interval.")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _check_multiplier(multiplier: float) -> None:
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float) or not multiplier > 0:
        raise UserError(f"The argument 'multiplier' must be a positive number; got {multiplier!r}.",
                        hint="Use 1 for a proportion of 1, 100 for a percentage, 100000 for a rate per 100,000.")


def _counts(values: Any, name: str) -> np.ndarray:
    """``values`` as a float array (missing -> NaN); refuses text and negative numbers."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise UserError(f"The argument '{name}' must hold numbers; got {values!r}.",
                        hint="Pass numbers or a numpy array of numbers (NaN or None where missing).") from None
    negative = np.flatnonzero(array < 0)
    if negative.size:
        where = f" at position {int(negative[0])}" if array.ndim else ""
        raise UserError(f"The argument '{name}' has a negative value {array.flat[negative[0]]:g}{where}.",
                        hint=f"Counts and denominators cannot be negative: correct or drop the {negative.size} "
                        "such value(s).")
    return array


def _pair(first: Any, first_name: str, second: Any, second_name: str) -> tuple[np.ndarray, np.ndarray]:
    x, n = _counts(first, first_name), _counts(second, second_name)
    try:
        return tuple(np.broadcast_arrays(x, n))  # type: ignore[return-value]
    except ValueError:
        raise UserError(f"The arguments '{first_name}' (shape {x.shape}) and '{second_name}' (shape {n.shape}) "
                        "do not match.", hint="Pass arrays of one length, or one number for either.") from None


def _check_within(x: np.ndarray, n: np.ndarray) -> None:
    over = np.flatnonzero(x > n)
    if over.size:
        first = int(over[0])
        raise UserError(f"The argument 'numerator' is larger than 'denominator' at position {first} "
                        f"({x.flat[first]:g} > {n.flat[first]:g}): a proportion cannot exceed 1.",
                        hint="Check the two arguments are not swapped; for events that can repeat use rate() instead.")


def _arrays(*values: Any) -> Any:
    """Each of ``values`` as a float numpy array (a 0-d array for a scalar)."""
    return tuple(np.asarray(v, dtype=float) for v in values)


def _undefined(values: np.ndarray, undefined: np.ndarray) -> np.ndarray:
    return np.asarray(np.where(undefined, np.nan, values), dtype=float)


def _check_strata(frame: pl.DataFrame, function: str, columns: list[str], groups: list[str],
                  positive: list[str]) -> None:
    """Refuse missing columns, non-numbers, missing or negative values, and zeros in ``positive`` columns."""
    missing = [c for c in [*columns, *groups] if c not in frame.columns]
    if missing:
        raise UserError(f"{function}: there is no column {', '.join(map(repr, missing))} in the data.",
                        hint=f"The columns are: {', '.join(frame.columns)}.")
    for column in columns:
        values = frame.get_column(column)
        if not values.dtype.is_numeric():
            raise UserError(f"{function}: column {column!r} must hold numbers; it holds {values.dtype}.",
                            hint="Cast the column to numbers before calling.")
        blank = values.is_null() | values.is_nan() if values.dtype.is_float() else values.is_null()
        fill = "fill it with 0 if the stratum had no events" if column == columns[0] else "fill it or drop the row"
        _refuse_rows(frame, function, column, blank, "is missing", fill)
        _refuse_rows(frame, function, column, values < 0, "is negative", "correct it")
        if column in positive:
            _refuse_rows(frame, function, column, values == 0, "is 0",
                         "every stratum needs a population: drop or merge empty strata")


def _refuse_rows(frame: pl.DataFrame, function: str, column: str, bad: pl.Series, what: str, todo: str) -> None:
    rows = bad.fill_null(False).arg_true()
    if rows.len():
        row = int(rows[0])
        raise UserError(f"{function}: column {column!r} {what} in row {row + 1} ({rows.len()} row(s) in all).",
                        hint=f"Row {row + 1} is {frame.row(row, named=True)}; {todo}.")


def _by_group(frame: pl.DataFrame, groups: list[str], aggregations: list[pl.Expr]) -> pl.DataFrame:
    if not groups:
        return frame.select(aggregations)
    return frame.group_by(groups, maintain_order=True).agg(aggregations)


def _published(name: str, values: np.ndarray, suppressed: np.ndarray) -> pl.Series:
    """A float column with nulls where suppressed or undefined (NaN)."""
    keep = ~suppressed & np.isfinite(values)
    return pl.Series(name, [float(v) if k else None for v, k in zip(values, keep, strict=True)], dtype=pl.Float64)

"""Disclosure control against an attacker: properties of every published figure, and a recovery attack.

The attacker knows the published cells and totals, the rounding rule (a value v rounded to 5 means a true
value in [v-2, v+2]) and that counts are non-negative integers. For each hidden element they solve two linear
programmes (scipy.optimize.linprog) for its smallest and largest feasible value. They *recover* it when that
interval holds at most one whole number. Learning only that a hidden count lies somewhere from 1 to the
threshold is not counted: the marker itself says so, since zeros are always shown.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from wholeplace.governance.disclosure import (
    Preset,
    ProtectedTable,
    Totals,
    protect_counts,
    protect_rate,
    rule_for,
)

COUNTS = st.one_of(st.integers(0, 9), st.integers(0, 40), st.integers(0, 400))
ONE_WAY = st.lists(COUNTS, min_size=1, max_size=8).map(lambda v: np.array(v).reshape(-1, 1))
TWO_WAY = st.integers(1, 5).flatmap(lambda r: st.lists(st.lists(COUNTS, min_size=r, max_size=r), min_size=1,
                                                       max_size=5)).map(np.array)
ATTACK = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(matrix: np.ndarray, two_way: bool) -> pl.DataFrame:
    rows, cols = np.indices(matrix.shape)
    data = {"row": rows.ravel(), "events": matrix.ravel()}
    return pl.DataFrame({**data, "col": cols.ravel()} if two_way else data)


def _protect(matrix: np.ndarray, preset: Preset, two_way: bool) -> ProtectedTable:
    return protect_counts(_frame(matrix, two_way), preset=preset, rows="row", columns="col" if two_way else None)


def _published(table: ProtectedTable, shape: tuple[int, int], two_way: bool) -> np.ndarray:
    """The published augmented table (totals in the last row and column), NaN where hidden."""
    out = np.full((shape[0] + 1, shape[1] + (1 if two_way else 0)), np.nan)
    out[:-1, : shape[1]].flat[:] = table.cells.get_column("events").cast(pl.Float64).fill_null(np.nan).to_numpy()
    if two_way:
        assert table.row_totals is not None and table.column_totals is not None
        out[:-1, -1] = table.row_totals.get_column("events").cast(pl.Float64).fill_null(np.nan).to_numpy()
        out[-1, :-1] = table.column_totals.get_column("events").cast(pl.Float64).fill_null(np.nan).to_numpy()
    out[-1, -1] = np.nan if table.grand_total is None else table.grand_total
    return out


def _line_equations(shape: tuple[int, int], two_way: bool) -> np.ndarray:
    """Each line's interior elements minus its total element equal 0."""
    lines = []
    for axis in (0, 1) if two_way else (0,):
        for index in range(shape[1 - axis]):
            line = np.zeros(shape)
            if axis == 0:
                line[:-1, index], line[-1, index] = 1, -1
            else:
                line[index, :-1], line[index, -1] = 1, -1
            lines.append(line.ravel())
    return np.array(lines)


def _bounds(published: np.ndarray, preset: Preset) -> list[tuple[float, float | None]]:
    rule = rule_for(preset)
    totals = np.zeros(published.shape, dtype=bool)
    totals[-1, :] = True
    if published.shape[1] > 1:
        totals[:, -1] = True
    bounds: list[tuple[float, float | None]] = []
    for value, is_total in zip(published.ravel(), totals.ravel(), strict=True):
        if np.isnan(value) or (is_total and rule.totals is Totals.ROUNDED_CELLS):
            bounds.append((0, None))  # hidden, or a total that only restates the shown cells
        elif rule.rounding_base:
            bounds.append((max(0.0, value - 2), value + 2))
        else:
            bounds.append((value, value))
    return bounds


def recovered_cells(published: np.ndarray, preset: Preset, two_way: bool) -> dict[tuple[int, int], tuple[float, float]]:
    """Hidden elements whose feasible interval holds at most one whole number, with that interval."""
    equations = _line_equations(published.shape, two_way)
    bounds = _bounds(published, preset)
    found = {}
    for flat in np.flatnonzero(np.isnan(published.ravel())):
        objective = np.zeros(published.size)
        objective[flat] = 1
        low = linprog(objective, A_eq=equations, b_eq=np.zeros(len(equations)), bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=equations, b_eq=np.zeros(len(equations)), bounds=bounds, method="highs")
        assert low.status == 0, "the true table must be feasible"
        top = math.inf if high.status == 3 else -high.fun
        if top - low.fun < 2 and math.floor(top + 1e-6) - math.ceil(low.fun - 1e-6) < 1:
            found[np.unravel_index(flat, published.shape)] = (low.fun, top)
    return found


def _published_numbers(table: ProtectedTable) -> list[int]:
    frames = [f for f in (table.cells, table.row_totals, table.column_totals) if f is not None]
    numbers = [v for f in frames for v in f.get_column("events").drop_nulls().to_list()]
    return numbers + ([table.grand_total] if table.grand_total is not None else [])


@pytest.mark.parametrize("preset", list(Preset))
@given(matrix=st.one_of(ONE_WAY, TWO_WAY))
@settings(max_examples=150, deadline=None)
def test_no_published_figure_is_a_small_count(preset: Preset, matrix: np.ndarray) -> None:
    two_way = matrix.shape[1] > 1
    table = _protect(matrix, preset, two_way)
    rule = table.rule
    numbers = _published_numbers(table)
    assert [n for n in numbers if 1 <= n <= rule.threshold] == []
    if rule.rounding_base:
        assert [n for n in numbers if n % rule.rounding_base] == []
    shown = table.cells.filter(pl.col("suppressed").is_null())
    assert (shown.get_column("display") != rule.marker).all()
    rates = protect_rate(table).join(table.cells, on=table.keys)
    assert rates.filter(pl.col("rate").is_not_null() & pl.col("events").is_null()).height == 0


@pytest.mark.parametrize("preset", list(Preset))
@given(matrix=st.one_of(ONE_WAY, TWO_WAY))
@ATTACK
def test_the_attacker_recovers_no_hidden_count(preset: Preset, matrix: np.ndarray) -> None:
    two_way = matrix.shape[1] > 1
    published = _published(_protect(matrix, preset, two_way), matrix.shape, two_way)
    assert recovered_cells(published, preset, two_way) == {}


def _primary_only(matrix: np.ndarray, preset: Preset, two_way: bool) -> np.ndarray:
    """What publishing would look like with small counts hidden but no secondary suppression."""
    rule = rule_for(preset)
    table = np.vstack([matrix, matrix.sum(axis=0, keepdims=True)]).astype(np.float64)
    if two_way:
        table = np.hstack([table, table.sum(axis=1, keepdims=True)])
    return np.where((table >= 1) & (table <= rule.threshold), np.nan, table)


@pytest.mark.parametrize("preset", [Preset.THRESHOLD10])
def test_without_secondary_suppression_the_attacker_recovers_a_lone_hidden_cell(preset: Preset) -> None:
    matrix = np.array([[3], [20], [12], [50]])
    assert recovered_cells(_primary_only(matrix, preset, False), preset, False) == {(0, 0): (3.0, 3.0)}
    assert recovered_cells(_published(_protect(matrix, preset, False), matrix.shape, False), preset, False) == {}


def test_a_hidden_cell_bridging_two_hidden_blocks_is_protected_too() -> None:
    """Every row and column here holds 0 or at least two small counts, yet the cell joining the two blocks of
    small counts can be worked out from the totals; the engine hides one more cell across it."""
    matrix = np.array([[2, 2, 50, 50], [2, 2, 3, 50], [50, 50, 2, 2], [50, 50, 2, 2]])
    naive = _primary_only(matrix, Preset.THRESHOLD10, True)
    assert recovered_cells(naive, Preset.THRESHOLD10, True) == {(1, 2): (3.0, 3.0)}
    table = _protect(matrix, Preset.THRESHOLD10, True)
    assert table.cells.get_column("suppressed").value_counts().sort("suppressed", nulls_last=True).rows() == [
        ("primary", 9), ("secondary", 1), (None, 6)]
    assert recovered_cells(_published(table, matrix.shape, True), Preset.THRESHOLD10, True) == {}

"""Which elements of a count table to hide so that no small count can be worked out.

The table is handled as an *augmented* matrix: the interior counts plus their totals as a last row (column
totals, with the grand total in the corner) and, for two-way tables, a last column (row totals). Every row
and column of that matrix is a *line*: its interior elements add up to its total element.

Primary suppression hides counts from 1 to the threshold. When totals are published from true values, a
line with exactly one hidden element gives it away (total minus the rest), so secondary suppression hides
the next smallest non-zero element of that line, repeatedly, until no line has a single hidden element.

In a two-way table that is not quite enough: the hidden elements form a graph (lines are vertices, hidden
elements are edges between their row and their column), and a hidden element that is a *bridge* of that
graph can still be worked out by adding and subtracting whole lines on one side of it. So every bridge is
closed by hiding one more element across it, which puts the bridge on a cycle. When every hidden element
is non-zero and lies on a cycle, adding 1 and subtracting 1 alternately round the cycle gives another table
with the same published figures, so no hidden element can be pinned to one value.
"""

from __future__ import annotations

from collections import deque

import numpy as np


def augment(matrix: np.ndarray, *, two_way: bool) -> np.ndarray:
    """The interior counts with their totals: a last row of column totals and, if two-way, a last column."""
    with_column_totals = np.vstack([matrix, matrix.sum(axis=0, keepdims=True)])
    if not two_way:
        return with_column_totals
    return np.hstack([with_column_totals, with_column_totals.sum(axis=1, keepdims=True)])


def suppression_masks(
    table: np.ndarray, *, threshold: int, totals_from_true_values: bool, two_way: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary masks over the augmented ``table``.

    Totals built only from published cells (``totals_from_true_values=False``) carry nothing a reader does
    not already have, so then only the interior small counts are hidden."""
    primary = (table >= 1) & (table <= threshold)
    if not totals_from_true_values:
        primary[-1, :] = False
        if two_way:
            primary[:, -1] = False
        return primary, np.zeros_like(primary)
    hidden = primary.copy()
    while _fill_single_lines(table, hidden, axes=(0, 1) if two_way else (0,)) or (
        two_way and _close_bridges(table, hidden)
    ):
        pass
    return primary, hidden & ~primary


def _fill_single_lines(table: np.ndarray, hidden: np.ndarray, *, axes: tuple[int, ...]) -> bool:
    """Hide the smallest non-zero visible element of every line that has exactly one hidden element.

    Such an element always exists: the lone hidden element is non-zero, so the line's sum relation needs
    another non-zero element, and it is visible. Ties go to the first element in key order (totals last)."""
    changed = False
    for axis in axes:
        lone = np.flatnonzero(hidden.sum(axis=axis) == 1)
        if lone.size == 0:
            continue
        candidates = np.where(~hidden & (table > 0), table, np.inf)
        if axis == 0:
            hidden[candidates[:, lone].argmin(axis=0), lone] = True
        else:
            hidden[lone, candidates[lone, :].argmin(axis=1)] = True
        changed = True
    return changed


def _close_bridges(table: np.ndarray, hidden: np.ndarray) -> bool:
    """Hide one more element across every bridge of the hidden-element graph; say whether any was found."""
    n_rows = table.shape[0]
    edges = [(int(r), n_rows + int(c)) for r, c in np.argwhere(hidden)]
    adjacency = _adjacency(n_rows + table.shape[1], edges)
    bridges = find_bridges(adjacency)
    for edge in bridges:
        _hide_across(table, hidden, adjacency, edges[edge], edge)
    return bool(bridges)


def _adjacency(n_vertices: int, edges: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n_vertices)]
    for index, (u, v) in enumerate(edges):
        adjacency[u].append((v, index))
        adjacency[v].append((u, index))
    return adjacency


def find_bridges(adjacency: list[list[tuple[int, int]]]) -> list[int]:
    """Indices of the edges whose removal disconnects their component (Tarjan's low-link method).

    Hand-written because no graph library is among the dependencies and scipy.sparse.csgraph has no bridge
    finding; iterative so that tables with thousands of hidden cells do not hit the recursion limit."""
    discovered = [-1] * len(adjacency)
    low = [0] * len(adjacency)
    bridges: list[int] = []
    clock = 0
    for root in range(len(adjacency)):
        if discovered[root] != -1 or not adjacency[root]:
            continue
        discovered[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            vertex, via, neighbours = stack[-1]
            for neighbour, edge in neighbours:
                if edge == via:
                    continue
                if discovered[neighbour] == -1:
                    discovered[neighbour] = low[neighbour] = clock
                    clock += 1
                    stack.append((neighbour, edge, iter(adjacency[neighbour])))
                    break
                low[vertex] = min(low[vertex], discovered[neighbour])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > discovered[parent]:
                        bridges.append(via)
    return bridges


def _hide_across(
    table: np.ndarray, hidden: np.ndarray, adjacency: list[list[tuple[int, int]]], bridge: tuple[int, int],
    edge: int,
) -> None:
    """Hide the smallest non-zero visible element joining the two sides of ``bridge`` (a zero only if none).

    Each side holds a cycle, so it has at least two rows and two columns, and every element joining the
    sides is visible (otherwise the bridge would not be one)."""
    n_rows = table.shape[0]
    side_a = _reachable(adjacency, bridge[0], edge)
    side_b = _reachable(adjacency, bridge[1], edge)
    blocks = [_block(rows, cols, n_rows) for rows, cols in ((side_a, side_b), (side_b, side_a))]
    crossing = sum(int(hidden[np.ix_(rows, cols)].sum()) for rows, cols in blocks)
    if crossing > 1:  # an earlier closure in this pass already crossed this cut
        return
    zero_cost = float(table.max()) + 1
    best: tuple[float, int, int] | None = None
    for rows, cols in blocks:
        cost = np.where(table[np.ix_(rows, cols)] > 0, table[np.ix_(rows, cols)], zero_cost)
        cost[hidden[np.ix_(rows, cols)]] = np.inf
        if cost.size and np.isfinite(cost.min()):
            i, j = np.unravel_index(int(cost.argmin()), cost.shape)
            best = min(best or (np.inf, 0, 0), (float(cost[i, j]), int(rows[i]), int(cols[j])))
    if best is not None:
        hidden[best[1], best[2]] = True


def _block(rows_side: set[int], cols_side: set[int], n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices from one side and column indices from the other, in key order."""
    rows = np.array(sorted(v for v in rows_side if v < n_rows), dtype=np.int64)
    cols = np.array(sorted(v - n_rows for v in cols_side if v >= n_rows), dtype=np.int64)
    return rows, cols


def _reachable(adjacency: list[list[tuple[int, int]]], start: int, without_edge: int) -> set[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        for neighbour, edge in adjacency[queue.popleft()]:
            if edge != without_edge and neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return seen

"""Small column helpers the partner generators share (blanking values, running numbers, times as text)."""

from __future__ import annotations

import numpy as np
import polars as pl


def blank_where(values: np.ndarray | pl.Series | list, mask: np.ndarray) -> pl.Series:  # type: ignore[type-arg]
    """``values`` with the masked entries left blank (null), as a polars column."""
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    return series.set(pl.Series(np.asarray(mask, dtype=bool)), None) if np.any(mask) else series


def running_numbers(keys: pl.Series) -> list[int]:
    """1, 2, 3… within each key, in row order (incident numbers restart each day, month or year)."""
    return pl.DataFrame({"k": keys}).with_columns(n=pl.int_range(1, pl.len() + 1).over("k"))["n"].to_list()


def time_text(times: np.ndarray | pl.Series, fmt: str) -> list[str | None]:
    return (times if isinstance(times, pl.Series) else pl.Series(times)).dt.strftime(fmt).to_list()


def add_minutes(times: pl.Series, minutes: np.ndarray) -> pl.Series:
    """``times`` plus whole minutes."""
    return times + pl.Series(np.round(minutes).astype(np.int64) * 60_000_000).cast(pl.Duration("us"))

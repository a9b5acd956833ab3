"""Seeded random streams and the weighted draws every generator shares.

Each part of the demo place draws from its own stream, derived from the seed and the
part's name, so changing one partner's generator never changes another partner's files.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


def rng_for(seed: int, name: str) -> np.random.Generator:
    """The random stream of one named part of the place, for one seed."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def group_offsets(group_of_item: np.ndarray, groups: int) -> np.ndarray:
    """Start of each group in items sorted by group (length ``groups + 1``)."""
    return np.concatenate([[0], np.cumsum(np.bincount(group_of_item, minlength=groups))])


def pick_in_groups(rng: np.random.Generator, group: np.ndarray, offsets: np.ndarray,
                   weights: np.ndarray) -> np.ndarray:
    """For each draw, an item of the draw's group, with probability proportional to its weight.

    Items are sorted by group, ``offsets[g]:offsets[g + 1]`` being group ``g``; each group
    must have positive total weight. Vectorised: one cumulative sum and one binary search
    for every draw at once.
    """
    cumulative = np.cumsum(weights, dtype=np.float64)
    before = np.concatenate([[0.0], cumulative])
    start, end = before[offsets[group]], before[offsets[group + 1]]
    target = start + rng.random(len(group)) * (end - start)
    index = np.searchsorted(cumulative, target, side="right")
    return np.clip(index, offsets[group], offsets[group + 1] - 1)


def choose(rng: np.random.Generator, options: int, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """``size`` indices in ``range(options)`` drawn with the given relative weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(options, size=size, p=p / p.sum())


def zipf_weights(count: int, offset: float = 4.0, power: float = 1.0) -> np.ndarray:
    """Popularity weights for a ranked list (first most common), as name frequencies fall off."""
    return 1.0 / (np.arange(count) + offset) ** power

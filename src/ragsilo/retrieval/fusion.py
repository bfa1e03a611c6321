"""Fusing ranked result lists: reciprocal rank fusion and weighted normalised scores.

Both take one list per retriever, best first, and give one list of
``(id, fused score)``, best first. Ties are broken by the best rank the item
reached in any list, then by which list came first, so the result is
deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ragsilo.errors import InputError


def rrf(
    ranked: Sequence[Sequence[str]],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion (Cormack et al., 2009): ``score(d) = Σ w_i / (k + rank_i(d))``
    with 1-based ranks; an item missing from a list gets nothing from it."""
    if k < 1:
        raise InputError(f"the RRF constant k must be at least 1, not {k}")
    w = _weights(weights, len(ranked))
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}
    for li, items in enumerate(ranked):
        seen: set[str] = set()
        for rank, item in enumerate(items, 1):
            if item in seen:  # a list that repeats an item counts its best rank only
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + w[li] / (k + rank)
            best[item] = min(best.get(item, (rank, li)), (rank, li))
    return _sorted(scores, best)


def weighted(
    scored: Sequence[Sequence[tuple[str, float]]],
    *,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Weighted sum of min-max normalised scores: each list's scores are scaled to 0..1
    (all equal: 1), an item missing from a list gets 0 from it, and the sum is divided
    by the total weight, so fused scores lie in 0..1."""
    w = _weights(weights, len(scored))
    total = sum(w)
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int]] = {}
    for li, items in enumerate(scored):
        values = [float(s) for _, s in items]
        if any(not math.isfinite(v) for v in values):
            raise InputError("cannot fuse scores that are not finite numbers")
        lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
        seen: set[str] = set()
        for rank, (item, s) in enumerate(items, 1):
            if item in seen:
                continue
            seen.add(item)
            norm = (float(s) - lo) / (hi - lo) if hi > lo else 1.0
            scores[item] = scores.get(item, 0.0) + w[li] * norm / total
            best[item] = min(best.get(item, (rank, li)), (rank, li))
    return _sorted(scores, best)


def _weights(weights: Sequence[float] | None, n: int) -> list[float]:
    if weights is None:
        return [1.0] * n
    w = [float(x) for x in weights]
    if len(w) != n:
        raise InputError(f"{len(w)} weights for {n} result lists")
    if any(x < 0 or not math.isfinite(x) for x in w) or sum(w) <= 0:
        raise InputError("fusion weights must be non-negative numbers, not all zero")
    return w


def _sorted(scores: dict[str, float], best: dict[str, tuple[int, int]]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], best[kv[0]]))

"""Rerankers the user plugs in: a Python callable by import path, or an entry point.

A plugged-in reranker is either an object with ``rerank(hits, ctx)`` (and
optionally ``needs_clusters``), or a plain callable ``fn(hits, ctx)``. It must
give back either hits it was given (any order, a subset allowed, no repeats) or
one finite number per hit (a score; higher first). Anything else, or an
exception, becomes a :class:`~ragsilo.errors.RerankError` naming the reranker.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np

from ragsilo.errors import RerankError
from ragsilo.models import Hit
from ragsilo.rerank.base import RerankContext


class CustomReranker:
    """A user's reranker, with its output checked."""

    def __init__(self, name: str, target: Any) -> None:
        self.name = name
        self._target = target
        self.needs_clusters = bool(getattr(target, "needs_clusters", False))
        method = getattr(target, "rerank", None)
        self._fn: Callable[[Sequence[Hit], RerankContext], Any] = (
            method if callable(method) else target
        )

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        given = list(hits)
        try:
            out = self._fn(given, ctx)
        except Exception as e:  # noqa: BLE001 - a plug-in's failure is reported, not leaked
            raise RerankError(f"reranker {self.name!r} failed: {type(e).__name__}: {e}") from e
        return check_output(self.name, hits, out)


def check_output(name: str, hits: Sequence[Hit], out: Any) -> list[Hit]:
    """``out`` as a list of hits, or a :class:`RerankError` saying what is wrong with it."""
    expected = "expected a list of the hits it was given, or one number per hit"
    if isinstance(out, np.ndarray):
        out = out.tolist()
    if isinstance(out, (str, bytes)) or not isinstance(out, Sequence):
        raise RerankError(f"reranker {name!r} returned {type(out).__name__}; {expected}")
    items = list(out)
    if not items:
        return []
    if all(isinstance(x, Hit) for x in items):
        by_id = {h.id: h for h in hits}
        seen: set[str] = set()
        for h in items:
            if h.id not in by_id:
                raise RerankError(f"reranker {name!r} returned a hit it was not given ({h.id!r})")
            if h.id in seen:
                raise RerankError(f"reranker {name!r} returned hit {h.id!r} twice")
            seen.add(h.id)
        return items
    if all(isinstance(x, Real) and not isinstance(x, bool) for x in items):
        if len(items) != len(hits):
            raise RerankError(
                f"reranker {name!r} returned {len(items)} scores for {len(hits)} hits; {expected}"
            )
        if not all(math.isfinite(float(x)) for x in items):
            raise RerankError(f"reranker {name!r} returned a score that is not a finite number")
        order = np.argsort(-np.asarray(items, dtype=np.float64), kind="stable")
        return [hits[int(i)] for i in order]
    kinds = sorted({type(x).__name__ for x in items})
    raise RerankError(f"reranker {name!r} returned a list of {', '.join(kinds)}; {expected}")

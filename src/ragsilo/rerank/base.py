"""What a reranker is given and what it must give back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ragsilo.cluster.model import ClusterModel
from ragsilo.models import Hit

DEFAULT_CLUSTER_WEIGHT = 0.25


@dataclass(frozen=True)
class RerankContext:
    """Everything a reranker may use besides the hits themselves.

    ``vectors`` and ``cluster_ids`` are aligned with the hits (row ``i`` belongs
    to hit ``i``); a hit no clustering has reached has cluster id ``-1``.
    ``clusters`` is ``None`` when the silo has never been clustered.
    """

    query: str
    query_vector: np.ndarray | None
    vectors: np.ndarray
    cluster_ids: np.ndarray
    clusters: ClusterModel | None
    metric: str = "COSINE"
    mmr_lambda: float = 0.7
    cluster_weight: float = DEFAULT_CLUSTER_WEIGHT

    def position(self, hits: Sequence[Hit]) -> dict[str, int]:
        """Hit id → its row in ``vectors`` and ``cluster_ids``."""
        return {h.id: i for i, h in enumerate(hits)}


@runtime_checkable
class Reranker(Protocol):
    """Reorders search hits. ``needs_clusters`` tells whether it uses ``ctx.clusters``.

    A reranker may also say ``needs_vectors = False``: then the hits' vectors are not
    fetched and ``ctx.vectors`` has no columns.
    """

    name: str
    needs_clusters: bool

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        """The same hits (or a subset) in a new order, best first."""
        ...

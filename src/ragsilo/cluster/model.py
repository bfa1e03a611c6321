"""The fitted clusters of a silo: centroids, sizes, keywords and representative chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragsilo.cluster.kmeans import assign, normalise, similarity


@dataclass(frozen=True)
class ClusterModel:
    """Centroids with what is known about each cluster.

    ``sizes`` are the cluster sizes at the last fit. ``partitioned`` tells
    whether the chunks of each cluster are stored in a partition of their own
    (then a routed query searches those partitions; otherwise it filters on
    ``cluster_id``). ``info`` records how the fit went (k, seed, rows, inertia,
    algorithm, time).
    """

    centroids: np.ndarray  # (k, d) float32
    sizes: np.ndarray  # (k,) int64
    metric: str
    partitioned: bool = False
    keywords: tuple[tuple[str, ...], ...] = ()
    representatives: tuple[tuple[str, ...], ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.centroids.shape[1])

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """The nearest cluster of each vector."""
        labels, _ = assign(np.atleast_2d(vectors), self.centroids, self.metric)
        return labels

    def nearest(self, vector: np.ndarray, n: int) -> list[int]:
        """The ``n`` clusters whose centroids are nearest to ``vector``, nearest first."""
        sim = similarity(np.atleast_2d(vector), self.centroids, self.metric)[0]
        n = min(max(n, 0), self.k)
        order = np.argsort(-sim, kind="stable")
        return [int(i) for i in order[:n]]

    def centroid_similarity(self, vector: np.ndarray) -> np.ndarray:
        """How close ``vector`` is to every centroid (cosine, inner product, or minus the
        squared Euclidean distance); larger is nearer."""
        return similarity(np.atleast_2d(vector), self.centroids, self.metric)[0]

    def distance_to_centre(self, vectors: np.ndarray, cluster_ids: np.ndarray) -> np.ndarray:
        """Distance of each vector to the centre of its cluster (``inf`` when it has none):
        ``1 - cosine`` for COSINE, minus the inner product for IP, Euclidean for L2."""
        v = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        ids = np.asarray(cluster_ids, dtype=np.int64)
        out = np.full(len(ids), np.inf, dtype=np.float64)
        ok = (ids >= 0) & (ids < self.k)
        if not ok.any():
            return out
        c = self.centroids[ids[ok]]
        x = v[ok]
        if self.metric == "COSINE":
            out[ok] = 1.0 - np.sum(normalise(x) * normalise(c), axis=1)
        elif self.metric == "IP":
            out[ok] = -np.sum(x * c, axis=1)
        else:
            out[ok] = np.linalg.norm(x - c, axis=1)
        return out

    def size_of(self, cluster_ids: np.ndarray) -> np.ndarray:
        """The size of each cluster id (0 for none)."""
        ids = np.asarray(cluster_ids, dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.int64)
        ok = (ids >= 0) & (ids < self.k)
        out[ok] = self.sizes[ids[ok]]
        return out

"""k-means in numpy: k-means++ seeding, Lloyd iterations, mini-batches for large inputs.

For the ``COSINE`` metric the vectors are normalised and so are the centroids
after each update (spherical k-means), so "nearest centroid" means "highest
cosine"; for ``L2`` and ``IP`` it is ordinary Euclidean k-means (for ``IP`` the
nearest centroid is the one with the largest inner product, as in an IVF
index). Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ragsilo.errors import InputError

#: Rows per block when a distance matrix is computed, to bound memory.
BLOCK_ROWS = 8192
#: At most this many vectors (or 3 k) are used for k-means++ seeding.
INIT_SAMPLE = 10_000


@dataclass(frozen=True)
class KMeansResult:
    """Fitted centroids with how the fit went."""

    centroids: np.ndarray  # (k, d) float32
    inertia: float  # mean distance of the fitted vectors to their centroid
    iterations: int
    algorithm: str  # "lloyd" or "minibatch"
    fitted_on: int  # how many vectors the fit saw


@runtime_checkable
class Clusterer(Protocol):
    """Fits centroids to vectors."""

    def fit(self, vectors: np.ndarray, k: int) -> KMeansResult: ...


class KMeansClusterer:
    """k-means with k-means++ seeding; Lloyd iterations up to ``full_batch_max`` vectors,
    mini-batch k-means (Sculley, 2010) above that. At most ``sample_size`` vectors
    (a seeded random sample) are used to fit."""

    def __init__(
        self,
        *,
        metric: str = "COSINE",
        seed: int = 0,
        max_iter: int = 100,
        tol: float = 1e-4,
        sample_size: int = 100_000,
        batch_size: int = 2048,
        full_batch_max: int = 30_000,
    ) -> None:
        if metric not in ("COSINE", "IP", "L2"):
            raise InputError(f"metric {metric!r} is unknown; use COSINE, IP or L2")
        self.metric = metric
        self.seed = seed
        self.max_iter = max_iter
        self.tol = tol
        self.sample_size = sample_size
        self.batch_size = batch_size
        self.full_batch_max = full_batch_max

    @property
    def spherical(self) -> bool:
        return self.metric == "COSINE"

    def fit(self, vectors: np.ndarray, k: int) -> KMeansResult:
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] == 0:
            raise InputError("nothing to cluster: no vectors")
        n = x.shape[0]
        if not 1 <= k <= n:
            raise InputError(f"cannot make {k} clusters from {n} vectors; k must be 1 to {n}")
        rng = np.random.default_rng(self.seed)
        if n > self.sample_size:
            x = x[np.sort(rng.choice(n, self.sample_size, replace=False))]
        if self.spherical:
            x = normalise(x)
        # seeding is O(n k d); a seeded subsample of the fitting set is enough for it
        init_n = min(x.shape[0], max(INIT_SAMPLE, 3 * k))
        init = x if init_n == x.shape[0] else x[rng.choice(x.shape[0], init_n, replace=False)]
        centroids = kmeans_plus_plus(init, k, rng)
        if x.shape[0] <= self.full_batch_max:
            centroids, iters = self._lloyd(x, centroids, rng)
            algorithm = "lloyd"
        else:
            centroids, iters = self._minibatch(x, centroids, rng)
            algorithm = "minibatch"
        _, dist = assign(x, centroids, "L2" if not self.spherical else "COSINE")
        return KMeansResult(
            centroids=centroids.astype(np.float32),
            inertia=float(dist.mean()),
            iterations=iters,
            algorithm=algorithm,
            fitted_on=int(x.shape[0]),
        )

    # ----------------------------------------------------------------- internals
    def _update(self, x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros((k, x.shape[1]), dtype=np.float64)
        order = np.argsort(labels, kind="stable")
        present = np.flatnonzero(counts)
        starts = np.concatenate(([0], np.cumsum(counts[present])[:-1]))
        sums[present] = np.add.reduceat(x[order].astype(np.float64), starts, axis=0)
        return sums, counts

    def _finish(self, sums: np.ndarray, counts: np.ndarray, old: np.ndarray) -> np.ndarray:
        new = old.astype(np.float64).copy()
        nonempty = counts > 0
        new[nonempty] = sums[nonempty] / counts[nonempty, None]
        if self.spherical:
            new = normalise(new)
        return new.astype(np.float32)

    def _lloyd(
        self, x: np.ndarray, centroids: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, int]:
        k = centroids.shape[0]
        metric = "COSINE" if self.spherical else "L2"
        labels = np.full(x.shape[0], -1)
        iterations = 0
        for iterations in range(1, self.max_iter + 1):  # noqa: B007 - the count is returned
            new_labels, dist = assign(x, centroids, metric)
            sums, counts = self._update(x, new_labels, k)
            updated = self._finish(sums, counts, centroids)
            empty = np.flatnonzero(counts == 0)
            if empty.size:
                # re-seed empty clusters with the points farthest from their centroid
                far = np.argsort(-dist)[: empty.size]
                updated[empty] = x[far]
            shift = float(np.max(np.linalg.norm(updated - centroids, axis=1)))
            centroids = updated
            if np.array_equal(new_labels, labels) and not empty.size:
                break
            labels = new_labels
            if shift <= self.tol and not empty.size:
                break
        return centroids, iterations

    def _minibatch(
        self, x: np.ndarray, centroids: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, int]:
        k = centroids.shape[0]
        metric = "COSINE" if self.spherical else "L2"
        counts = np.zeros(k, dtype=np.float64)
        centroids = centroids.astype(np.float64)
        n = x.shape[0]
        steps_per_epoch = max(1, n // self.batch_size)
        best = np.inf
        stale = 0
        ewa: float | None = None
        step = 0
        for step in range(1, self.max_iter * steps_per_epoch + 1):
            idx = rng.integers(0, n, self.batch_size)
            batch = x[idx]
            labels, dist = assign(batch, centroids.astype(np.float32), metric)
            sums, batch_counts = self._update(batch, labels, k)
            hit = batch_counts > 0
            counts[hit] += batch_counts[hit]
            # per-centre learning rate 1/count: a running mean of the points it has seen
            rate = batch_counts[hit] / counts[hit]
            centroids[hit] += rate[:, None] * (sums[hit] / batch_counts[hit, None] - centroids[hit])
            if self.spherical:
                centroids[hit] = normalise(centroids[hit])
            batch_inertia = float(dist.mean())
            ewa = batch_inertia if ewa is None else 0.9 * ewa + 0.1 * batch_inertia
            if ewa < best * (1 - self.tol):
                best, stale = ewa, 0
            else:
                stale += 1
            if stale >= 10 and step >= steps_per_epoch:
                break
        # centres no batch ever reached take the worst-served points
        dead = np.flatnonzero(counts == 0)
        if dead.size:
            _, dist = assign(x, centroids.astype(np.float32), metric)
            centroids[dead] = x[np.argsort(-dist)[: dead.size]]
        # one full Lloyd pass settles the centres on the whole sample
        labels, _ = assign(x, centroids.astype(np.float32), metric)
        sums, full_counts = self._update(x, labels, k)
        return self._finish(sums, full_counts, centroids.astype(np.float32)), step


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def similarity(x: np.ndarray, centroids: np.ndarray, metric: str) -> np.ndarray:
    """(n, k) closeness of each vector to each centroid; larger is nearer."""
    x = np.asarray(x, dtype=np.float32)
    c = np.asarray(centroids, dtype=np.float32)
    if metric == "COSINE":
        return normalise(x) @ normalise(c).T
    if metric == "IP":
        return x @ c.T
    # L2: minus the squared distance
    return -(
        np.sum(x * x, axis=1, keepdims=True) - 2.0 * (x @ c.T) + np.sum(c * c, axis=1)[None, :]
    )


def assign(x: np.ndarray, centroids: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of each vector and the distance to it (1 - cosine, or Euclidean)."""
    x = np.asarray(x, dtype=np.float32)
    labels = np.empty(x.shape[0], dtype=np.int64)
    dist = np.empty(x.shape[0], dtype=np.float32)
    for start in range(0, x.shape[0], BLOCK_ROWS):
        block = x[start : start + BLOCK_ROWS]
        sim = similarity(block, centroids, metric)
        best = np.argmax(sim, axis=1)
        labels[start : start + len(block)] = best
        top = sim[np.arange(len(block)), best]
        if metric == "COSINE":
            dist[start : start + len(block)] = 1.0 - top
        elif metric == "IP":
            dist[start : start + len(block)] = -top
        else:
            dist[start : start + len(block)] = np.sqrt(np.maximum(-top, 0.0))
    return labels, dist


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii, 2007) with squared Euclidean distances,
    taking the best of a few candidates per step as scikit-learn does."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    first = int(rng.integers(n))
    centres[0] = x[first]
    sq = np.sum(x * x, axis=1)
    closest = np.maximum(sq - 2.0 * (x @ centres[0]) + sq[first], 0.0)
    for i in range(1, k):
        total = float(closest.sum())
        if total <= 0:
            # every point coincides with a centre already: take any unused point
            centres[i] = x[int(rng.integers(n))]
            continue
        candidates = np.searchsorted(np.cumsum(closest), rng.random(trials) * total)
        candidates = np.minimum(candidates, n - 1)
        d = np.maximum(sq[None, :] - 2.0 * (x[candidates] @ x.T) + sq[candidates, None], 0.0)
        options = np.minimum(closest[None, :], d)
        best = int(np.argmin(options.sum(axis=1)))
        centres[i] = x[candidates[best]]
        closest = options[best]
    return centres

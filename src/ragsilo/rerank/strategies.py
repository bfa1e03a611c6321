"""The built-in rerankers: cluster score smoothing, three cluster strategies, MMR, and none.

Each reorders the hits it is given and keeps every hit; the hits' ``score``
stays the search's score, so only the order changes. Ties keep the search's
order (every sort is stable).

What each does to the ranking:

- ``cluster_smooth`` blends each hit's own relevance with its cluster's evidence
  (``retrieval.cluster_weight``); at weight 0 it is the search's order. The one
  cluster reranker meant to improve relevance.
- ``cluster_distance`` only swaps hits of one cluster among that cluster's places.
- ``cluster_size`` and ``centroid_query`` sort by a property of the cluster alone,
  ignoring how relevant each hit is: they are for browsing and grouping by topic.
- ``mmr`` trades relevance for variety among the hits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ragsilo.cluster.kmeans import normalise
from ragsilo.models import Hit
from ragsilo.rerank.base import RerankContext


class NoReranker:
    """The search's own order."""

    name = "none"
    needs_clusters = False

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        return list(hits)


class ClusterDistanceReranker:
    """Within each cluster's hits, those closest to the cluster's centre come first.

    The places a cluster's hits hold in the ranking stay theirs; only which of
    that cluster's hits sits in which of those places changes. Hits without a
    cluster keep their places.
    """

    name = "cluster_distance"
    needs_clusters = True

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        assert ctx.clusters is not None
        dist = ctx.clusters.distance_to_centre(ctx.vectors, ctx.cluster_ids)
        out = list(hits)
        slots: dict[int, list[int]] = {}
        for i, cid in enumerate(ctx.cluster_ids):
            if cid >= 0:
                slots.setdefault(int(cid), []).append(i)
        for positions in slots.values():
            ordered = sorted(positions, key=lambda i: dist[i])
            for place, i in zip(positions, ordered, strict=True):
                out[place] = hits[i]
        return out


class ClusterSizeReranker:
    """Hits from larger clusters first (sizes as of the last clustering)."""

    name = "cluster_size"
    needs_clusters = True

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        assert ctx.clusters is not None
        sizes = ctx.clusters.size_of(ctx.cluster_ids)
        order = np.argsort(-sizes, kind="stable")
        return [hits[int(i)] for i in order]


class CentroidQueryReranker:
    """Hits whose cluster centroid is nearer to the query first."""

    name = "centroid_query"
    needs_clusters = True

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        assert ctx.clusters is not None
        if ctx.query_vector is None:
            return list(hits)
        sim = ctx.clusters.centroid_similarity(ctx.query_vector)
        ids = np.asarray(ctx.cluster_ids, dtype=np.int64)
        closeness = np.full(len(ids), -np.inf)
        ok = (ids >= 0) & (ids < ctx.clusters.k)
        closeness[ok] = sim[ids[ok]]
        order = np.argsort(-closeness, kind="stable")
        return [hits[int(i)] for i in order]


CLUSTER_EVIDENCE_TOP = 20  # the head of the list whose clusters count as evidence
CLUSTER_EVIDENCE_MIN = 3  # hits of one cluster at the head it takes to lend evidence


class ClusterSmoothReranker:
    """Cluster-based score smoothing (Liu and Croft, 2004; Kurland and Lee, 2004): each hit's
    score is ``(1 − w)·relevance + w·cluster evidence``, relevance scaled to 0..1 over the
    hits.

    Relevance is the search's score (a distance, when the scores grow down the list,
    counts as its negative). Cluster evidence is query-specific: the mean relevance of
    a cluster's hits among the first ``CLUSTER_EVIDENCE_TOP``, lent to every hit of a
    cluster with at least ``CLUSTER_EVIDENCE_MIN`` hits there, so a hit of a topic the
    search found several good hits of rises over a hit of the same score from a topic
    it did not. Every other hit (a cluster with one hit or none at the head, a hit no
    clustering has reached) is its own evidence: the blend leaves its relevance as it
    is, neither pulling it up nor pushing it down.
    ``w`` is ``ctx.cluster_weight`` (``retrieval.cluster_weight``); 0 keeps the search's
    order. It uses only the hits' scores and cluster ids: no vectors are fetched for it.
    """

    name = "cluster_smooth"
    needs_clusters = True
    needs_vectors = False

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        if len(hits) < 2 or ctx.cluster_weight <= 0:
            return list(hits)
        scores = cluster_smooth_scores(
            np.asarray([h.score for h in hits], dtype=np.float64),
            ctx.cluster_ids,
            ctx.cluster_weight,
        )
        order = np.argsort(-scores, kind="stable")
        return [hits[int(i)] for i in order]


def cluster_smooth_scores(
    scores: np.ndarray,
    cluster_ids: np.ndarray,
    weight: float,
    *,
    top: int = CLUSTER_EVIDENCE_TOP,
    min_members: int = CLUSTER_EVIDENCE_MIN,
) -> np.ndarray:
    """The blended score of each hit (see :class:`ClusterSmoothReranker`); hits best first."""
    s = np.asarray(scores, dtype=np.float64)
    if len(s) and s[0] < s[-1]:  # scores that grow down the list are distances
        s = -s
    rel = _unit_range(s)
    ids = np.asarray(cluster_ids, dtype=np.int64)
    head = np.arange(len(rel)) < top
    evidence = rel.copy()  # a hit without a cluster's support is its own evidence
    clusters, counts = np.unique(ids[head & (ids >= 0)], return_counts=True)
    for c in clusters[counts >= max(1, min_members)]:
        members = ids == c
        evidence[members] = rel[members & head].mean()
    return (1.0 - weight) * rel + weight * evidence


def _unit_range(x: np.ndarray) -> np.ndarray:
    spread = x.max() - x.min() if len(x) else 0.0
    return (x - x.min()) / spread if spread > 0 else np.zeros(len(x))


class MMRReranker:
    """Maximal marginal relevance (Carbonell and Goldstein, 1998): each next hit maximises
    ``λ·relevance − (1 − λ)·(its highest cosine to a hit already chosen)``.

    Relevance is the search score scaled to 0..1 over the hits given (so it works
    the same for cosine, BM25 and fused scores); ``λ`` is ``ctx.mmr_lambda``
    (``retrieval.mmr_lambda``): 1 is the search's order, 0 only diversity.
    """

    name = "mmr"
    needs_clusters = False

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        scores = np.asarray([h.score for h in hits], dtype=np.float64)
        order = mmr_order(scores, ctx.vectors, ctx.mmr_lambda)
        return [hits[i] for i in order]


def mmr_order(scores: np.ndarray, vectors: np.ndarray, lam: float) -> list[int]:
    """The MMR selection order of items with these relevance ``scores`` and ``vectors``."""
    n = len(scores)
    if n == 0:
        return []
    s = np.asarray(scores, dtype=np.float64)
    spread = s.max() - s.min()
    rel = (s - s.min()) / spread if spread > 0 else np.ones(n)
    v = normalise(np.asarray(vectors, dtype=np.float64).reshape(n, -1))
    sim = v @ v.T
    chosen: list[int] = []
    left = list(range(n))
    max_sim = np.full(n, -np.inf)
    while left:
        cand = np.asarray(left)
        redundancy = np.where(np.isfinite(max_sim[cand]), max_sim[cand], 0.0)
        value = lam * rel[cand] - (1.0 - lam) * redundancy
        # argmax takes the first best: ties go to the better-ranked hit
        pick = int(cand[int(np.argmax(value))])
        chosen.append(pick)
        left.remove(pick)
        max_sim = np.maximum(max_sim, sim[pick])
    return chosen

"""The built-in rerankers: cluster score smoothing, three cluster strategies, MMR, and none.

Each reorders the hits it is given and keeps every hit; the hits' ``score``
stays the search's score, so only the order changes. Ties keep the search's
order (every sort is stable).

What each does to the ranking:

- ``cluster_smooth`` blends each hit's own relevance with the evidence of its
  query-specific cluster, its nearest neighbours among the candidates
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


CLUSTER_NEIGHBOURS = 6  # the nearest candidates that make up each hit's query-specific cluster


class ClusterSmoothReranker:
    """Cluster-based score smoothing (Liu and Croft, 2004; Kurland and Lee, 2004): each hit's
    score is ``(1 − w)·relevance + w·cluster evidence``, relevance scaled to 0..1 over the
    hits.

    Relevance is the search's score (a distance, when the scores grow down the list,
    counts as its negative). The clusters are query-specific, built from the candidates
    themselves: each hit's cluster is the hit and its ``CLUSTER_NEIGHBOURS`` nearest
    candidates by the cosine of their vectors, and its evidence is the best relevance in
    that cluster. A hit whose closest neighbours include a stronger hit rises over an
    isolated hit of the same score. The evidence only ever lifts: it is never below the
    hit's own relevance, so no hit is pushed down for standing alone, and the first hit
    stays first (a question with one right passage, found first, keeps it first).
    ``w`` is ``ctx.cluster_weight`` (``retrieval.cluster_weight``); 0 keeps the search's
    order.

    It needs the candidates' vectors (``needs_vectors``), which the search fetches with
    the hits, and not the collection's k-means clusters (``needs_clusters`` is false):
    those are too coarse to tell one query's candidates apart, and a silo ranks the same
    before and after ``recluster``.
    """

    name = "cluster_smooth"
    needs_clusters = False
    needs_vectors = True

    def rerank(self, hits: Sequence[Hit], ctx: RerankContext) -> list[Hit]:
        if len(hits) < 2 or ctx.cluster_weight <= 0:
            return list(hits)
        scores = cluster_smooth_scores(
            np.asarray([h.score for h in hits], dtype=np.float64),
            ctx.vectors,
            ctx.cluster_weight,
        )
        order = np.argsort(-scores, kind="stable")
        return [hits[int(i)] for i in order]


def cluster_smooth_scores(
    scores: np.ndarray,
    vectors: np.ndarray,
    weight: float,
    *,
    neighbours: int = CLUSTER_NEIGHBOURS,
) -> np.ndarray:
    """The blended score of each hit (see :class:`ClusterSmoothReranker`); hits best first,
    ``vectors`` row ``i`` hit ``i``'s. Without vectors (no columns) it is the relevance
    alone, the search's order."""
    rel, best = neighbour_relevance(scores, vectors, neighbours)
    if best is None or weight <= 0:
        return rel
    # the best relevance among the hit and its neighbours: evidence only lifts
    return (1.0 - weight) * rel + weight * np.maximum(best, rel)


def neighbour_relevance(
    scores: np.ndarray, vectors: np.ndarray, neighbours: int = CLUSTER_NEIGHBOURS
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each hit's relevance (its score scaled to 0..1 over the hits; a distance, when the
    scores grow down the list, counts as its negative) and the best relevance among its
    ``neighbours`` nearest other hits by the cosine of their vectors (``None`` when there
    is nothing to compare: fewer than two hits, or no vector columns)."""
    s = np.asarray(scores, dtype=np.float64)
    if len(s) and s[0] < s[-1]:  # scores that grow down the list are distances
        s = -s
    rel = _unit_range(s)
    if len(rel) < 2:
        return rel, None
    v = np.asarray(vectors, dtype=np.float32)  # float32 tells neighbours apart well enough
    if v.ndim != 2 or len(v) != len(rel):
        raise ValueError(f"cluster_smooth needs one vector per hit: {v.shape} for {len(rel)}")
    k = min(int(neighbours), len(rel) - 1)
    if v.shape[1] == 0 or k < 1:
        return rel, None
    v = normalise(v)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)  # a hit is not its own neighbour
    nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    return rel, rel[nearest].max(axis=1)


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

"""Choosing the chunks a question's context is made of, from a larger pool of search hits.

A plain top-k spends the context on near-copies (the same passage ingested twice,
overlapping chunks of one document) and on several chunks of one document. The
selection walks the pool greedily: each next chunk is the one with the highest
relevance (the search's score scaled to 0..1 over the pool) less a penalty for
each chunk already chosen from its document and from its cluster; a chunk that
is nearly identical to one already chosen (its words overlap by
``duplicate_jaccard`` or more) is never taken. The chosen chunks keep the pool's
order, best first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ragsilo.models import Hit

_WORD = re.compile(r"\w+", re.UNICODE)

DUPLICATE_JACCARD = 0.8
SAME_DOCUMENT_PENALTY = 0.5
SAME_CLUSTER_PENALTY = 0.05


def context_pool_size(k: int, max_k: int) -> int:
    """How many hits to search for when ``k`` chunks are to be chosen."""
    return max(k, min(max(4 * k, 20), max_k))


def select_context(
    hits: Sequence[Hit],
    k: int,
    *,
    cluster_ids: Sequence[int] | None = None,
    duplicate_jaccard: float = DUPLICATE_JACCARD,
    same_document: float = SAME_DOCUMENT_PENALTY,
    same_cluster: float = SAME_CLUSTER_PENALTY,
) -> list[Hit]:
    """``k`` hits of ``hits`` (best first) for a question's context; see the module notes.

    ``cluster_ids`` are aligned with ``hits`` (-1: none); without them only documents
    and near-copies count.
    """
    n = len(hits)
    if k < 1 or n == 0:
        return []
    rel = _relevance([h.score for h in hits])
    clusters = list(cluster_ids) if cluster_ids is not None else [-1] * n
    if len(clusters) != n:
        raise ValueError(f"{n} hits but {len(clusters)} cluster ids")
    words = [frozenset(w.lower() for w in _WORD.findall(h.text)) for h in hits]
    docs = [h.doc_id or h.source or h.id for h in hits]
    chosen: list[int] = []
    per_doc: dict[str, int] = {}
    per_cluster: dict[int, int] = {}
    left = list(range(n))
    while left and len(chosen) < k:
        best, best_value = -1, -np.inf
        for i in left:
            value = rel[i] - same_document * per_doc.get(docs[i], 0)
            if clusters[i] >= 0:
                value -= same_cluster * per_cluster.get(int(clusters[i]), 0)
            if value > best_value:  # strict: ties go to the better-ranked hit
                best, best_value = i, value
        left.remove(best)
        if any(_jaccard(words[best], words[j]) >= duplicate_jaccard for j in chosen):
            continue
        chosen.append(best)
        per_doc[docs[best]] = per_doc.get(docs[best], 0) + 1
        if clusters[best] >= 0:
            per_cluster[int(clusters[best])] = per_cluster.get(int(clusters[best]), 0) + 1
    return [hits[i] for i in sorted(chosen)]


def _relevance(scores: Sequence[float]) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if len(s) and s[0] < s[-1]:  # scores that grow down the list are distances
        s = -s
    spread = s.max() - s.min() if len(s) else 0.0
    return (s - s.min()) / spread if spread > 0 else np.ones(len(s))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0

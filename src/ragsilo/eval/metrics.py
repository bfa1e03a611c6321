"""Ranking metrics as BEIR reports them (trec_eval conventions).

* nDCG@k: ``DCG = Σ rel_i / log2(i + 1)`` over the first k results (linear
  gains, as trec_eval's ``ndcg_cut``), divided by the DCG of the ideal order of
  all judged documents.
* Recall@k: judged relevant documents among the first k, over all judged
  relevant documents.
* MRR@k: ``1 / rank`` of the first relevant result within k, else 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    dcg = sum(
        qrels.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if qrels.get(doc)
    )
    ideal = sorted((r for r in qrels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in qrels.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k], 1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / i
    return 0.0


def dedupe(ranked: Sequence[str]) -> list[str]:
    """``ranked`` with each id kept at its first (best) place: chunks to documents."""
    return list(dict.fromkeys(ranked))


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0

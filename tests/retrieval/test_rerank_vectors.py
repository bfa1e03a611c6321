"""The search hands ``cluster_smooth`` the candidates' own vectors, row for row, in every mode."""

from __future__ import annotations

import numpy as np
import pytest

import ragsilo.rerank.strategies as strategies
from ragsilo.settings import load_settings
from ragsilo.silo import Silo

pytestmark = pytest.mark.lite

TEXTS = [f"river {w} valley stone water number {i}" for i, w in enumerate("abcdefghij")]
TEXTS += [f"forest {w} tree leaf bird number {i}" for i, w in enumerate("klmnopqrst")]


@pytest.mark.parametrize("codes", [True, False])
@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_cluster_smooth_gets_each_candidates_vector(
    mode: str, codes: bool, lite_uri: str, hash_embedder, monkeypatch
) -> None:
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    original = strategies.cluster_smooth_scores

    def spy(scores, vectors, weight, **kw):
        seen.append((np.asarray(scores), np.asarray(vectors)))
        return original(scores, vectors, weight, **kw)

    monkeypatch.setattr(strategies, "cluster_smooth_scores", spy)
    settings = load_settings(
        None, {"milvus": {"uri": lite_uri}, "collection": {"vector_codes": codes}}
    )
    with Silo.open(settings, embedder=hash_embedder) as silo:
        silo.ingest_texts(TEXTS)
        silo.recluster(k=2)
        plain = silo.search("river water", mode=mode, k=50, rerank="none")
        result = silo.retrieve("river water", mode=mode, k=50, rerank="cluster_smooth")
        assert result.reranker == "cluster_smooth" and len(seen) == 1
        scores, vectors = seen[0]
        assert vectors.shape == (len(plain), hash_embedder.dimension)
        # row i is the stored vector of the search's hit i
        stored = {
            str(r["id"]): np.asarray(r["vector"])
            for r in silo.store.get_rows(silo.collection, [h.id for h in plain], ["id", "vector"])
        }
        exact = np.stack([stored[h.id] for h in plain])
        assert silo.store.has_codes(silo.collection) is codes
        if codes:  # the vectors' codes: each within half a step of 8-bit quantisation
            step = np.abs(exact).max(axis=1, keepdims=True) / 127
            assert np.all(np.abs(vectors - exact) <= step / 2 + 1e-6)
        else:
            assert np.allclose(vectors, exact, atol=1e-6)
        assert np.allclose(scores, [h.score for h in plain])
        assert sorted(h.id for h in result.hits) == sorted(h.id for h in plain)

"""cluster_smooth on hand-built candidates whose right order is known, its weight setting, and
a silo that has no clusters yet (cluster_smooth needs none; the seed strategies fall back)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import ConfigError, InputError
from ragsilo.models import Hit
from ragsilo.rerank import RerankContext, cluster_smooth_scores, create_reranker
from ragsilo.rerank.base import DEFAULT_CLUSTER_WEIGHT
from ragsilo.rerank.strategies import CLUSTER_NEIGHBOURS
from ragsilo.settings import load_settings


def hit(i: str, score: float) -> Hit:
    return Hit(i, score, i, f"/d/{i}", "", None, None, 0, i)


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


MODEL = ClusterModel(
    centroids=np.stack([unit(1, 0), unit(0, 1), unit(1, 1)]),
    sizes=np.asarray([5, 5, 5]),
    metric="COSINE",
)


def ctx(vectors, weight: float) -> RerankContext:
    v = np.asarray(vectors, dtype=np.float32)
    return RerankContext(
        query="q",
        query_vector=None,
        vectors=v,
        cluster_ids=np.full(len(v), -1),
        clusters=MODEL,
        cluster_weight=weight,
    )


def ids(hits) -> list[str]:
    return [h.id for h in hits]


def smooth(hits, vectors, weight: float) -> list[str]:
    return ids(create_reranker("cluster_smooth").rerank(hits, ctx(vectors, weight)))


def near(centre, i: int) -> np.ndarray:
    """A vector close to ``centre`` (each ``i`` a little apart)."""
    rng = np.random.default_rng(i)
    return unit(*(np.asarray(centre, dtype=np.float64) + 0.05 * rng.normal(size=len(centre))))


# Topic X: five good hits close together. "lone" scores the same as "c" but sits apart from
# every good hit, next to six weak hits of topic Y. With 5 neighbours, c's nearest candidates
# are the rest of topic X (the best hit among them), lone's the weak hits of topic Y.
X, Z, Y = (1, 0, 0, 0), (0, 1, 0, 0), (0, 0.8, 0.6, 0)
HITS = [hit("a", 0.90), hit("b", 0.88), hit("lone", 0.86), hit("c", 0.86)]
HITS += [hit("x4", 0.84), hit("x5", 0.82)]
HITS += [hit(f"y{i}", 0.30 - 0.02 * i) for i in range(6)]
VECTORS = np.stack(
    [near(X, 0), near(X, 1), unit(*Z), near(X, 2), near(X, 3), near(X, 4)]
    + [near(Y, 10 + i) for i in range(6)]
)
ORDER = [h.id for h in HITS]


def test_weight_zero_keeps_the_search_order() -> None:
    assert smooth(HITS, VECTORS, 0.0) == ORDER


def test_a_hit_among_good_neighbours_rises_over_an_isolated_hit_of_the_same_score() -> None:
    for w in (0.05, DEFAULT_CLUSTER_WEIGHT, 0.3):
        out = smooth(HITS, VECTORS, w)
        assert out.index("c") < out.index("lone"), w
        assert out[:2] == ["a", "b"], w  # a clear lead is kept


def test_weak_hits_are_not_carried_over_good_ones_by_a_good_neighbour() -> None:
    for w in (0.05, DEFAULT_CLUSTER_WEIGHT, 0.3):
        out = smooth(HITS, VECTORS, w)
        assert set(out[:6]) == {"a", "b", "c", "lone", "x4", "x5"}, w
        assert out[6:] == [f"y{i}" for i in range(6)], w


def test_evidence_only_lifts_and_the_first_hit_stays_first() -> None:
    # the first hit stands alone, far from every other; the rest sit close together
    scores = np.asarray([0.95, 0.94, 0.93, 0.92, 0.91, 0.90, 0.89, 0.5])
    vectors = np.stack([unit(*Z)] + [near(X, i) for i in range(7)])
    rng = np.random.default_rng(7)
    for w in (0.05, DEFAULT_CLUSTER_WEIGHT, 0.5, 1.0):
        blended = cluster_smooth_scores(scores, vectors, w)
        rel = (scores - scores.min()) / (scores.max() - scores.min())
        assert np.all(blended >= rel - 1e-12), w  # no hit is pushed down
        assert int(np.argmax(blended)) == 0, w  # the lone best hit keeps its place
    for _ in range(20):  # and for any vectors
        v = rng.normal(size=(8, 4))
        s = rng.random(8)
        order = np.argsort(-cluster_smooth_scores(np.sort(s)[::-1], v, 0.7), kind="stable")
        assert order[0] == 0


def test_the_blend_by_hand() -> None:
    scores = np.asarray([h.score for h in HITS])
    s = cluster_smooth_scores(scores, VECTORS, 0.4)
    rel = (scores - scores.min()) / (scores.max() - scores.min())
    sim = VECTORS @ VECTORS.T
    for i in range(len(HITS)):
        others = [j for j in np.argsort(-sim[i], kind="stable") if j != i][:CLUSTER_NEIGHBOURS]
        evidence = max(rel[i], *(rel[j] for j in others))  # the hit and its neighbours
        assert math.isclose(s[i], 0.6 * rel[i] + 0.4 * evidence), i
    assert s.min() >= 0 and s.max() <= 1


def test_distances_count_as_their_negative() -> None:
    # L2-like scores: smaller is better, so the list grows down; the same blend as for
    # the mirrored similarities
    scores = np.asarray([h.score for h in HITS])
    by_distance = cluster_smooth_scores(1 - scores, VECTORS, 0.2)
    assert np.allclose(by_distance, cluster_smooth_scores(scores, VECTORS, 0.2))


def test_fewer_hits_than_neighbours_and_no_vectors() -> None:
    # three hits: each hit's cluster is itself and the other two
    s = cluster_smooth_scores(np.asarray([0.9, 0.5, 0.1]), np.eye(3), 0.5)
    assert np.allclose(s, [0.5 * 1 + 0.5 * 1, 0.5 * 0.5 + 0.5 * 1, 0.5 * 0 + 0.5 * 1])
    # no vectors at all (no columns): the relevance alone, the search's order
    s = cluster_smooth_scores(np.asarray([0.9, 0.5, 0.1]), np.zeros((3, 0)), 0.5)
    assert np.allclose(s, [1.0, 0.5, 0.0])
    assert len(cluster_smooth_scores(np.asarray([]), np.zeros((0, 3)), 0.5)) == 0
    assert cluster_smooth_scores(np.asarray([0.4]), [], 0.5).tolist() == [0.0]
    with pytest.raises(ValueError, match="one vector per hit"):
        cluster_smooth_scores(np.asarray([0.9, 0.5, 0.1]), np.eye(2), 0.5)


def test_one_hit_stays_and_the_vectors_are_asked_for() -> None:
    r = create_reranker("cluster_smooth")
    assert smooth(HITS[:1], VECTORS[:1], 0.5) == ["a"]
    assert not r.needs_clusters and getattr(r, "needs_vectors", False) is True


def test_the_default_weight() -> None:
    assert load_settings(None).retrieval.cluster_weight == DEFAULT_CLUSTER_WEIGHT == 0.25


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf"), "heavy", True])
def test_a_bad_cluster_weight_is_a_clear_settings_error(bad) -> None:
    with pytest.raises(ConfigError, match=r"retrieval\.cluster_weight must be"):
        load_settings(None, {"retrieval": {"cluster_weight": bad}})


def test_cluster_weight_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("RAGSILO_RETRIEVAL__CLUSTER_WEIGHT", "0.35")
    assert load_settings(None).retrieval.cluster_weight == 0.35
    assert load_settings(None, {"retrieval": {"rerank": "cluster_smooth"}}).retrieval.rerank == (
        "cluster_smooth"
    )


@pytest.mark.lite
def test_cluster_smooth_needs_no_clusters_and_the_seed_strategies_fall_back(
    lite_uri: str, hash_embedder, caplog
) -> None:
    from ragsilo.silo import Silo

    settings = load_settings(None, {"milvus": {"uri": lite_uri}})
    assert settings.retrieval.rerank == "cluster_smooth"  # the default
    with Silo.open(settings, embedder=hash_embedder) as silo:
        silo.ingest_texts([f"{w} beta gamma {i}" for i, w in enumerate("abcdefghijkl")])
        with caplog.at_level(logging.INFO, logger="ragsilo.retrieval.searcher"):
            before = silo.retrieve("a beta", k=12)
        assert before.reranker == "cluster_smooth" and len(before.hits) == 12
        assert "needs clusters" not in caplog.text
        # a seed cluster strategy as the default: no clusters yet, so no reranking, logged;
        # asked for by name, it is refused
        silo.settings.retrieval.rerank = "centroid_query"
        with caplog.at_level(logging.INFO, logger="ragsilo.retrieval.searcher"):
            result = silo.retrieve("a beta", k=3)
        assert result.reranker == "none" and len(result.hits) == 3
        assert "centroid_query needs clusters" in caplog.text
        with pytest.raises(InputError, match="needs clusters"):
            silo.search("a beta", rerank="cluster_size")
        # clustering changes nothing for cluster_smooth: its clusters are the candidates'
        silo.recluster(k=2)
        after = silo.retrieve("a beta", k=12, rerank="cluster_smooth")
        assert [h.id for h in after.hits] == [h.id for h in before.hits]

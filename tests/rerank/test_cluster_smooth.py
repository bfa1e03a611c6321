"""cluster_smooth on hand-built clusters whose right order is known, its weight setting, and
the fall-back of a silo that has no clusters yet."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import ConfigError, InputError
from ragsilo.models import Hit
from ragsilo.rerank import RerankContext, cluster_smooth_scores, create_reranker
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


def ctx(cluster_ids, weight: float) -> RerankContext:
    n = len(cluster_ids)
    return RerankContext(
        query="q",
        query_vector=None,
        vectors=np.zeros((n, 0), dtype=np.float32),
        cluster_ids=np.asarray(cluster_ids),
        clusters=MODEL,
        cluster_weight=weight,
    )


def ids(hits) -> list[str]:
    return [h.id for h in hits]


def smooth(hits, cluster_ids, weight: float) -> list[str]:
    return ids(create_reranker("cluster_smooth").rerank(hits, ctx(cluster_ids, weight)))


# Cluster 0 holds three good hits; "lone" scored best but its cluster's other hit is weak.
HITS = [
    hit("lone", 0.90),
    hit("a", 0.88),
    hit("b", 0.86),
    hit("c", 0.85),
    hit("weak", 0.30),
    hit("low", 0.20),
]
CLUSTERS = [1, 0, 0, 0, 1, 2]


def test_weight_zero_keeps_the_search_order() -> None:
    assert smooth(HITS, CLUSTERS, 0.0) == ["lone", "a", "b", "c", "weak", "low"]


def test_a_close_call_goes_to_the_hit_whose_cluster_the_search_found_good() -> None:
    # relevance 0..1: lone 1, a .971, b .943, c .929, weak .143, low 0; cluster evidence
    # (mean relevance of the cluster's hits, scaled): cluster 0 → 1, cluster 1 → .603
    assert smooth(HITS, CLUSTERS, 0.1) == ["a", "lone", "b", "c", "weak", "low"]
    assert smooth(HITS, CLUSTERS, 0.3) == ["a", "b", "c", "lone", "weak", "low"]


def test_a_weak_hit_is_not_carried_up_by_its_cluster() -> None:
    for w in (0.05, 0.1, 0.2, 0.3, 0.5):
        assert smooth(HITS, CLUSTERS, w)[-2:] == ["weak", "low"], w


def test_the_blend_by_hand() -> None:
    s = cluster_smooth_scores(np.asarray([h.score for h in HITS]), np.asarray(CLUSTERS), 0.4)
    rel_a, ev_0 = (0.88 - 0.2) / 0.7, (0.88 + 0.86 + 0.85 - 3 * 0.2) / 0.7 / 3
    assert math.isclose(s[1], 0.6 * rel_a + 0.4 * ev_0)
    assert s.min() >= 0 and s.max() <= 1


def test_distances_count_as_their_negative_and_unclustered_hits_stand_alone() -> None:
    # L2-like scores: smaller is better, so the list grows down
    hits = [hit("x", 0.10), hit("y", 0.11), hit("z", 0.12), hit("far", 0.90)]
    # x is alone in cluster 1 with "far"; y and z share cluster 0
    assert smooth(hits, [1, 0, 0, 1], 0.3) == ["y", "z", "x", "far"]
    # an unclustered hit is its own cluster: its evidence is its own relevance
    assert smooth(hits, [-1, 0, 0, 1], 0.3) == ["x", "y", "z", "far"]


def test_one_hit_stays_and_no_vectors_are_asked_for() -> None:
    r = create_reranker("cluster_smooth")
    assert smooth(HITS[:1], CLUSTERS[:1], 0.5) == ["lone"]
    assert r.needs_clusters and getattr(r, "needs_vectors", True) is False


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
def test_a_silo_without_clusters_falls_back_with_a_log_line(
    lite_uri: str, hash_embedder, caplog
) -> None:
    from ragsilo.silo import Silo

    settings = load_settings(
        None, {"milvus": {"uri": lite_uri}, "retrieval": {"rerank": "cluster_smooth"}}
    )
    with Silo.open(settings, embedder=hash_embedder) as silo:
        silo.ingest_texts(["alpha beta gamma", "delta epsilon zeta", "eta theta iota"])
        with caplog.at_level(logging.INFO, logger="ragsilo.retrieval.searcher"):
            result = silo.retrieve("alpha", k=3)
        assert result.reranker == "none" and len(result.hits) == 3
        assert "cluster_smooth needs clusters" in caplog.text
        with pytest.raises(InputError, match="needs clusters"):
            silo.search("alpha", rerank="cluster_smooth")
        silo.recluster(k=2)
        assert silo.retrieve("alpha", k=3).reranker == "cluster_smooth"


def test_only_clusters_at_the_head_of_the_list_lend_evidence() -> None:
    # fourteen hits: "t" (cluster 5) ties "u" (cluster 6); cluster 5 also holds the two best
    # hits, cluster 6 one hit in the first ten, so only "t" gets cluster evidence
    # (over all fourteen, cluster 5's mean would be dragged down by "t2" and "t3")
    scores = [0.95] + [0.9 - i * 0.01 for i in range(8)] + [0.5, 0.5, 0.49, 0.1, 0.1]
    names = ["best", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "u", "t", "u2", "t2", "t3"]
    clusters = [5, 5, 1, 2, 2, 3, 3, 4, 4, 6, 5, 6, 5, 5]
    hits = [hit(n, s) for n, s in zip(names, scores, strict=True)]
    out = smooth(hits, clusters, 0.075)
    assert out.index("t") < out.index("u") and out[0] == "best"


def test_a_hit_without_support_at_the_head_keeps_its_own_score() -> None:
    # "lone" is the only hit of cluster 1 among the first ten, "tail" the only hit of
    # cluster 7 anywhere: neither has a cluster's support, so the blend leaves both as they
    # are (1 and 0 after scaling), while cluster 0's hits take the mean of its three
    scores = np.asarray([0.9, 0.88, 0.86, 0.85, 0.3, 0.2])
    s = cluster_smooth_scores(scores, np.asarray([1, 0, 0, 0, 7, 2]), 0.4)
    rel = (scores - 0.2) / 0.7
    assert math.isclose(s[0], rel[0]) and math.isclose(s[4], rel[4]) and s[5] == 0.0
    assert math.isclose(s[1], 0.6 * rel[1] + 0.4 * rel[1:4].mean())


def test_a_hit_below_the_head_is_not_pushed_down_for_its_cluster_being_absent() -> None:
    # twelve hits; "x" (cluster 9) and "y" (cluster 8) have no cluster mate at the head:
    # their blended scores are their own relevance, not a share of it
    scores = np.asarray([0.95 - i * 0.01 for i in range(10)] + [0.60, 0.59])
    clusters = np.asarray([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 9, 8])
    rel = (scores - 0.59) / 0.36
    for w in (0.05, 0.1, 0.2):
        s = cluster_smooth_scores(scores, clusters, w)
        assert math.isclose(s[10], rel[10]) and s[11] == 0.0, w


def test_a_cluster_needs_two_hits_at_the_head_to_lend_evidence() -> None:
    # "best" is cluster 3's only hit at the head; "mate", of cluster 3 too, sits below the
    # head just above "pair2", whose cluster 4 has two hits at the head: one good hit does
    # not make a topic, so mate gains nothing from best, and pair2 rises over it
    scores = [0.95, 0.8, 0.79] + [0.78 - i * 0.01 for i in range(7)] + [0.40, 0.39, 0.1]
    names = ["best", "p1", "p2", *(f"f{i}" for i in range(7)), "mate", "pair2", "low"]
    clusters = [3, 4, 4, *range(10, 17), 3, 4, 20]
    hits = [hit(n, s) for n, s in zip(names, scores, strict=True)]
    out = smooth(hits, clusters, 0.1)
    assert out.index("pair2") < out.index("mate") and out[0] == "best"

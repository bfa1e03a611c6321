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
from ragsilo.rerank.strategies import CLUSTER_EVIDENCE_MIN, CLUSTER_EVIDENCE_TOP
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


# Cluster 0 holds three good hits; "lone" scored between them, and its cluster's other hit
# is weak (two hits of cluster 1 are too few to lend evidence: CLUSTER_EVIDENCE_MIN is 3).
HITS = [
    hit("a", 0.90),
    hit("b", 0.88),
    hit("lone", 0.857),
    hit("c", 0.855),
    hit("weak", 0.30),
    hit("low", 0.20),
]
CLUSTERS = [0, 0, 1, 0, 1, 2]


def test_weight_zero_keeps_the_search_order() -> None:
    assert smooth(HITS, CLUSTERS, 0.0) == ["a", "b", "lone", "c", "weak", "low"]


def test_a_close_call_goes_to_the_hit_whose_cluster_the_search_found_good() -> None:
    # relevance 0..1: a 1, b .971, lone .939, c .936, weak .143, low 0; cluster 0's
    # evidence is the mean of a, b and c (.969); lone and the rest keep their relevance
    assert smooth(HITS, CLUSTERS, 0.05) == ["a", "b", "lone", "c", "weak", "low"]
    assert smooth(HITS, CLUSTERS, 0.1) == ["a", "b", "c", "lone", "weak", "low"]


def test_a_weak_hit_is_not_carried_up_by_its_cluster() -> None:
    for w in (0.05, 0.1, 0.2, 0.3, 0.5):
        assert smooth(HITS, CLUSTERS, w)[-2:] == ["weak", "low"], w


def test_the_blend_by_hand() -> None:
    s = cluster_smooth_scores(np.asarray([h.score for h in HITS]), np.asarray(CLUSTERS), 0.4)
    rel = (np.asarray([h.score for h in HITS]) - 0.2) / 0.7
    ev_0 = (rel[0] + rel[1] + rel[3]) / 3
    assert math.isclose(s[3], 0.6 * rel[3] + 0.4 * ev_0)
    assert math.isclose(s[2], rel[2]) and math.isclose(s[4], rel[4])  # cluster 1: no evidence
    assert s.min() >= 0 and s.max() <= 1


def test_distances_count_as_their_negative_and_unclustered_hits_stand_alone() -> None:
    # L2-like scores: smaller is better, so the list grows down; the same blend as for
    # the mirrored similarities
    distances = np.asarray([1 - h.score for h in HITS])
    by_distance = cluster_smooth_scores(distances, np.asarray(CLUSTERS), 0.1)
    by_score = cluster_smooth_scores(np.asarray([h.score for h in HITS]), CLUSTERS, 0.1)
    assert np.allclose(by_distance, by_score)
    # hits no clustering has reached keep their own relevance, and lend no evidence
    s = cluster_smooth_scores(np.asarray([h.score for h in HITS]), [-1, -1, 1, -1, 1, 2], 0.3)
    assert np.allclose(s, (np.asarray([h.score for h in HITS]) - 0.2) / 0.7)


def test_one_hit_stays_and_no_vectors_are_asked_for() -> None:
    r = create_reranker("cluster_smooth")
    assert smooth(HITS[:1], CLUSTERS[:1], 0.5) == ["a"]
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
    # "t" (cluster 5) ties "u" (cluster 6) just below the head; cluster 5 holds the three
    # best hits, cluster 6 the rest of its hits far down, so only "t" gets evidence (over
    # the whole list, cluster 5's mean would be dragged down by "t2" and "t3")
    head = CLUSTER_EVIDENCE_TOP
    scores = [0.95, 0.94, 0.93] + [0.9 - i * 0.01 for i in range(head - 3)]
    scores += [0.5, 0.5, 0.49, 0.48, 0.47, 0.1, 0.1]
    names = ["best", "b2", "b3"] + [f"h{i}" for i in range(head - 3)]
    names += ["u", "t", "u2", "u3", "u4", "t2", "t3"]
    clusters = [5, 5, 5] + [100 + i for i in range(head - 3)] + [6, 5, 6, 6, 6, 5, 5]
    hits = [hit(n, s) for n, s in zip(names, scores, strict=True)]
    out = smooth(hits, clusters, 0.1)
    assert out.index("t") < out.index("u") and out[:3] == ["best", "b2", "b3"]


def test_a_hit_below_the_head_is_not_pushed_down_for_its_cluster_being_absent() -> None:
    # "x" and "y", below the head, have no cluster mate there: their blended scores are
    # their own relevance, not a share of it
    head = CLUSTER_EVIDENCE_TOP
    scores = np.asarray([0.95 - i * 0.01 for i in range(head)] + [0.60, 0.59])
    clusters = np.asarray([i // 4 for i in range(head)] + [90, 91])
    rel = (scores - 0.59) / (0.95 - 0.59)
    for w in (0.05, 0.1, 0.2):
        s = cluster_smooth_scores(scores, clusters, w)
        assert math.isclose(s[head], rel[head]) and s[head + 1] == 0.0, w


def test_a_cluster_needs_enough_hits_at_the_head_to_lend_evidence() -> None:
    # "mate" (cluster 3) sits below the head just above "trio" (cluster 4): cluster 3 has
    # CLUSTER_EVIDENCE_MIN - 1 hits at the head, the best ones, cluster 4 has
    # CLUSTER_EVIDENCE_MIN; a few good hits do not make a topic, so only trio rises
    head, least = CLUSTER_EVIDENCE_TOP, CLUSTER_EVIDENCE_MIN
    scores = [0.99 - i * 0.001 for i in range(least - 1)]
    scores += [0.8 - i * 0.001 for i in range(least)]
    rest = head - len(scores)
    scores += [0.78 - i * 0.01 for i in range(rest)] + [0.40, 0.39, 0.1]
    clusters = [3] * (least - 1) + [4] * least + [100 + i for i in range(rest)] + [3, 4, 200]
    names = [f"h{i}" for i in range(head)] + ["mate", "trio", "low"]
    hits = [hit(n, s) for n, s in zip(names, scores, strict=True)]
    out = smooth(hits, clusters, 0.1)
    assert out.index("trio") < out.index("mate") and out[0] == "h0"

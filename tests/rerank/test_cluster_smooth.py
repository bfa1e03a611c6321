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


# Two topics on the plane: cluster 0 along x (the query's topic), cluster 1 along y.
MODEL = ClusterModel(
    centroids=np.stack([unit(1, 0), unit(0, 1)]), sizes=np.asarray([5, 5]), metric="COSINE"
)
QUERY = unit(1, 0.2)


def ctx(vectors, cluster_ids, weight: float, query=QUERY) -> RerankContext:
    return RerankContext(
        query="q",
        query_vector=query,
        vectors=np.stack([unit(*v) for v in vectors]),
        cluster_ids=np.asarray(cluster_ids),
        clusters=MODEL,
        cluster_weight=weight,
    )


def ids(hits) -> list[str]:
    return [h.id for h in hits]


# "off" scored a little higher than "on" but sits in the other topic's cluster;
# "far" is in the query's cluster but far from its centre.
HITS = [hit("off", 0.80), hit("on", 0.78), hit("far", 0.60), hit("low", 0.20)]
VECTORS = [(0.3, 1), (1, 0.1), (1, 1.2), (0.2, 1)]
CLUSTERS = [1, 0, 0, 1]


def test_weight_zero_keeps_the_search_order() -> None:
    out = create_reranker("cluster_smooth").rerank(HITS, ctx(VECTORS, CLUSTERS, 0.0))
    assert ids(out) == ["off", "on", "far", "low"]


def test_cluster_evidence_lifts_a_close_call_but_not_a_weak_hit() -> None:
    out = ids(create_reranker("cluster_smooth").rerank(HITS, ctx(VECTORS, CLUSTERS, 0.3)))
    # a near tie goes to the hit in the query's cluster, close to its centre ...
    assert out[:2] == ["on", "off"]
    # ... but a much weaker hit is not carried past a strong one by its cluster alone,
    # unlike centroid_query, which sorts by the cluster only
    assert out.index("far") > out.index("off") and out[-1] == "low"
    seed = ids(create_reranker("centroid_query").rerank(HITS, ctx(VECTORS, CLUSTERS, 0.3)))
    assert seed[:2] == ["on", "far"]


def test_closeness_to_the_centre_counts() -> None:
    # two equally scored hits of the query's cluster: the one near the centre wins
    hits = [hit("edge", 0.5), hit("core", 0.5), hit("other", 0.1)]
    c = ctx([(1, 0.9), (1, 0.05), (0, 1)], [0, 0, 1], 0.2)
    assert ids(create_reranker("cluster_smooth").rerank(hits, c))[0] == "core"


def test_scores_are_blended_on_a_zero_to_one_scale() -> None:
    c = ctx(VECTORS, CLUSTERS, 0.4)
    s = cluster_smooth_scores(
        np.asarray([h.score for h in HITS]), QUERY, c.vectors, c.cluster_ids, MODEL.centroids, 0.4
    )
    assert s.min() >= 0 and s.max() <= 1 and math.isclose(s[1], 0.6 * (0.58 / 0.6) + 0.4)
    # weight 1: cluster evidence alone; the hit in cluster 0 nearest its centre is first
    only = cluster_smooth_scores(
        np.asarray([h.score for h in HITS]), QUERY, c.vectors, c.cluster_ids, MODEL.centroids, 1.0
    )
    assert int(np.argmax(only)) == 1


def test_distances_count_as_their_negative_and_unclustered_hits_stand_alone() -> None:
    # L2-like scores: smaller is better, so the list grows down
    hits = [hit("a", 0.10), hit("b", 0.11), hit("c", 0.90)]
    c = ctx([(0.2, 1), (1, 0.1), (1, 0.2)], [1, -1, 0], 0.3)
    out = ids(create_reranker("cluster_smooth").rerank(hits, c))
    assert out[0] == "b" and out[-1] == "c"


def test_without_a_query_vector_or_with_one_hit_the_order_stays() -> None:
    r = create_reranker("cluster_smooth")
    assert ids(r.rerank(HITS, ctx(VECTORS, CLUSTERS, 0.5, query=None))) == ids(HITS)
    assert ids(r.rerank(HITS[:1], ctx(VECTORS[:1], CLUSTERS[:1], 0.5))) == ["off"]


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

"""Each reranker on a hand-built case whose right order is known."""

from __future__ import annotations

import numpy as np
import pytest

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import InputError, RerankError
from ragsilo.models import Hit
from ragsilo.rerank import (
    RerankContext,
    create_reranker,
    group_by_cluster,
    mmr_order,
    reranker_name_problem,
)
from ragsilo.rerank import registry as registry_module


def hit(i: str, score: float, text: str = "") -> Hit:
    return Hit(
        id=i,
        score=score,
        text=text or i,
        source=f"/d/{i}",
        title="",
        page=None,
        section=None,
        chunk_index=0,
        doc_id=i,
    )


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


# Two clusters on the plane: 0 along x (size 10), 1 along y (size 3).
MODEL = ClusterModel(
    centroids=np.stack([unit(1, 0), unit(0, 1)]),
    sizes=np.asarray([10, 3]),
    metric="COSINE",
    keywords=(("alpha",), ("beta",)),
)


def ctx(vectors, cluster_ids, query=None, lam=0.7, clusters=MODEL) -> RerankContext:
    return RerankContext(
        query="q",
        query_vector=None if query is None else unit(*query),
        vectors=np.stack([unit(*v) for v in vectors]),
        cluster_ids=np.asarray(cluster_ids),
        clusters=clusters,
        mmr_lambda=lam,
    )


def ids(hits) -> list[str]:
    return [h.id for h in hits]


def test_none_keeps_the_search_order() -> None:
    hits = [hit("a", 0.9), hit("b", 0.8)]
    assert ids(create_reranker("none").rerank(hits, ctx([(1, 0), (0, 1)], [0, 1]))) == ["a", "b"]


def test_cluster_distance_reorders_within_each_cluster_keeping_its_places() -> None:
    # places 1, 3, 4 belong to cluster 0; "far0" is farthest from its centre (1, 0)
    hits = [hit("far0", 0.9), hit("y1", 0.85), hit("mid0", 0.8), hit("near0", 0.7), hit("z", 0.6)]
    c = ctx([(1, 1), (0, 1), (3, 1), (1, 0), (1, 2)], [0, 1, 0, 0, -1])
    out = ids(create_reranker("cluster_distance").rerank(hits, c))
    assert out == ["near0", "y1", "mid0", "far0", "z"]


def test_cluster_size_puts_larger_clusters_first_and_is_stable() -> None:
    hits = [hit("s1", 0.9), hit("b1", 0.8), hit("none", 0.75), hit("b2", 0.7), hit("s2", 0.6)]
    c = ctx([(0, 1), (1, 0), (1, 1), (1, 0), (0, 1)], [1, 0, -1, 0, 1])
    assert ids(create_reranker("cluster_size").rerank(hits, c)) == ["b1", "b2", "s1", "s2", "none"]


def test_centroid_query_puts_the_cluster_nearest_the_query_first() -> None:
    hits = [hit("x1", 0.9), hit("y1", 0.8), hit("x2", 0.7)]
    c = ctx([(1, 0), (0, 1), (1, 0)], [0, 1, 0], query=(0.1, 1))  # the query points along y
    assert ids(create_reranker("centroid_query").rerank(hits, c)) == ["y1", "x1", "x2"]


def test_mmr_trades_relevance_for_diversity() -> None:
    # "a" and "a2" are near duplicates; "b" is less relevant but different
    hits = [hit("a", 0.90), hit("a2", 0.89), hit("b", 0.80)]
    vecs = [(1, 0), (1, 0.01), (0, 1)]
    assert ids(create_reranker("mmr").rerank(hits, ctx(vecs, [0, 0, 1], lam=0.5))) == [
        "a",
        "b",
        "a2",
    ]
    # λ = 1 is pure relevance: the search's order
    assert ids(create_reranker("mmr").rerank(hits, ctx(vecs, [0, 0, 1], lam=1.0))) == [
        "a",
        "a2",
        "b",
    ]


def test_mmr_order_by_hand() -> None:
    scores = np.asarray([1.0, 0.9, 0.0])
    vectors = np.asarray([[1, 0], [1, 0], [0, 1]], dtype=np.float64)
    # relevance after scaling: 1, 0.9, 0; λ=0.6: second pick compares 0.54-0.4 vs 0-0
    assert mmr_order(scores, vectors, 0.6) == [0, 1, 2]
    # λ=0.3: 0.27-0.7 < 0 → the orthogonal item comes second
    assert mmr_order(scores, vectors, 0.3) == [0, 2, 1]
    assert mmr_order(np.asarray([]), np.zeros((0, 2)), 0.5) == []


def test_custom_by_import_path_reorders_or_scores() -> None:
    hits = [hit("a", 0.9, "xx"), hit("b", 0.8, "xxxx"), hit("c", 0.7, "x")]
    c = ctx([(1, 0), (0, 1), (1, 1)], [0, 1, 0])
    assert ids(create_reranker("custom:tests.rerank.plugins:reverse").rerank(hits, c)) == [
        "c",
        "b",
        "a",
    ]
    assert ids(create_reranker("custom:tests.rerank.plugins:by_length").rerank(hits, c)) == [
        "b",
        "a",
        "c",
    ]
    plugged = create_reranker("custom:tests.rerank.plugins:NeedsClusters")
    assert plugged.needs_clusters


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("explode", "failed: ValueError: boom"),
        ("wrong_shape", "returned str"),
        ("too_few_scores", "returned 1 scores for 2 hits"),
        ("stranger", "a hit it was not given"),
    ],
)
def test_a_failing_or_malformed_custom_reranker_is_a_rerank_error(name: str, message: str) -> None:
    hits = [hit("a", 0.9), hit("b", 0.8)]
    with pytest.raises(RerankError, match=message) as e:
        create_reranker(f"custom:tests.rerank.plugins:{name}").rerank(
            hits, ctx([(1, 0), (0, 1)], [0, 1])
        )
    assert f"tests.rerank.plugins:{name}" in str(e.value)
    assert e.value.exit_code == 8


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bogus", "reranker 'bogus' is unknown"),
        ("custom:nomodule", "must look like custom:package.module:function"),
        ("custom:no_such_module_xyz:f", "cannot import module"),
        ("custom:tests.rerank.plugins:missing", "has no 'missing'"),
        ("custom:tests.rerank.plugins:NOT_CALLABLE", "not a callable"),
        ("", "empty"),
    ],
)
def test_unknown_reranker_names_are_input_errors(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        create_reranker(name)


def test_entry_point_rerankers_are_found_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class EP:
        name = "flip"
        value = "tests.rerank.plugins:reverse"

        def load(self):
            from tests.rerank.plugins import reverse

            return reverse

    def fake_entry_points(group: str):
        return [EP()] if group == "ragsilo.rerankers" else []

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    assert reranker_name_problem("flip") is None
    two = [hit("a", 1), hit("b", 0.5)]
    out = create_reranker("flip").rerank(two, ctx([(1, 0), (0, 1)], [0, 1]))
    assert ids(out) == ["b", "a"]


def test_group_by_cluster_orders_groups_by_their_best_hit() -> None:
    hits = [hit("a", 0.9), hit("b", 0.8), hit("c", 0.7), hit("d", 0.6)]
    groups = group_by_cluster(hits, [1, 0, 1, -1], MODEL)
    assert [(g.cluster_id, g.rank, ids(g.hits)) for g in groups] == [
        (1, 1, ["a", "c"]),
        (0, 2, ["b"]),
        (-1, 4, ["d"]),
    ]
    assert groups[0].keywords == ("beta",) and groups[2].keywords == ()
    with pytest.raises(InputError, match="cluster_id"):
        group_by_cluster(hits)

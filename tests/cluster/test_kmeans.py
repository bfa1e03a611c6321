"""k-means, keywords and the cluster model on data whose right answer is known."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ragsilo.cluster import ClusterModel, KMeansClusterer, auto_k, terms, top_keywords
from ragsilo.cluster.kmeans import assign, kmeans_plus_plus
from ragsilo.errors import InputError


def blobs(
    n_per: int, centres: np.ndarray, noise: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(centres)), n_per)
    x = centres[labels] + rng.normal(scale=noise, size=(len(labels), centres.shape[1]))
    return x.astype(np.float32), labels


def agreement(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of points whose found cluster's majority truth label is their own."""
    ok = 0
    for c in np.unique(found):
        members = truth[found == c]
        ok += Counter(members.tolist()).most_common(1)[0][1]
    return ok / len(truth)


CENTRES = np.eye(8, dtype=np.float32)[:5] * 4.0


@pytest.mark.parametrize("metric", ["COSINE", "L2", "IP"])
def test_lloyd_recovers_well_separated_clusters(metric: str) -> None:
    x, truth = blobs(60, CENTRES, 0.3)
    fit = KMeansClusterer(metric=metric, seed=1).fit(x, 5)
    assert fit.algorithm == "lloyd" and fit.centroids.shape == (5, 8)
    labels, _ = assign(x, fit.centroids, metric)
    assert agreement(labels, truth) == 1.0


def test_minibatch_for_large_inputs_recovers_them_too() -> None:
    x, truth = blobs(400, CENTRES, 0.3)
    fit = KMeansClusterer(seed=0, full_batch_max=500, batch_size=128).fit(x, 5)
    assert fit.algorithm == "minibatch"
    assert agreement(assign(x, fit.centroids, "COSINE")[0], truth) == 1.0


def test_sample_size_bounds_the_fit() -> None:
    x, _ = blobs(200, CENTRES, 0.3)
    assert KMeansClusterer(sample_size=300).fit(x, 5).fitted_on == 300


def test_same_seed_same_centroids_other_seed_may_differ() -> None:
    x, _ = blobs(50, CENTRES, 1.5)
    a = KMeansClusterer(seed=7).fit(x, 4).centroids
    b = KMeansClusterer(seed=7).fit(x, 4).centroids
    assert np.array_equal(a, b)


def test_spherical_centroids_are_unit_length() -> None:
    x, _ = blobs(30, CENTRES, 0.5)
    c = KMeansClusterer(metric="COSINE").fit(x, 5).centroids
    assert np.allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-5)


def test_kmeans_plus_plus_spreads_the_seeds() -> None:
    x, truth = blobs(40, CENTRES, 0.1)
    seeds = kmeans_plus_plus(x, 5, np.random.default_rng(3))
    nearest = assign(seeds, CENTRES, "L2")[0]
    assert sorted(nearest.tolist()) == [0, 1, 2, 3, 4]


def test_duplicate_points_still_give_k_centroids() -> None:
    x = np.ones((10, 4), dtype=np.float32)
    assert KMeansClusterer().fit(x, 3).centroids.shape == (3, 4)


@pytest.mark.parametrize(("k", "n"), [(0, 5), (6, 5)])
def test_bad_k_is_refused(k: int, n: int) -> None:
    with pytest.raises(InputError, match="cannot make"):
        KMeansClusterer().fit(np.ones((n, 3), dtype=np.float32), k)
    with pytest.raises(InputError, match="no vectors"):
        KMeansClusterer().fit(np.zeros((0, 3), dtype=np.float32), 1)


def test_auto_k_is_about_the_square_root() -> None:
    assert [auto_k(n) for n in (0, 1, 3, 100, 12_659, 10**8)] == [0, 1, 2, 10, 113, 1024]
    assert auto_k(10_000, max_k=50) == 50


def test_model_routing_and_distances() -> None:
    model = ClusterModel(
        centroids=np.asarray([[1, 0], [0, 1], [-1, 0]], dtype=np.float32),
        sizes=np.asarray([5, 2, 9]),
        metric="COSINE",
    )
    assert model.nearest(np.asarray([0.9, 0.3]), 2) == [0, 1]
    assert model.nearest(np.asarray([0.9, 0.3]), 99) == [0, 1, 2]
    assert model.assign(np.asarray([[0, 2], [-3, 0.1]])).tolist() == [1, 2]
    d = model.distance_to_centre(np.asarray([[1, 0], [1, 1], [0, 1]]), np.asarray([0, 0, -1]))
    assert d[0] == pytest.approx(0.0) and d[1] == pytest.approx(1 - 2**-0.5) and np.isinf(d[2])
    assert model.size_of(np.asarray([2, -1, 7])).tolist() == [9, 0, 0]


def test_terms_drop_stop_words_and_numbers_and_cut_chinese_into_pairs() -> None:
    assert terms("The 2 mice and the 1999 Mice ran") == ["mice", "mice", "ran"]
    assert terms("北京首都") == ["北京", "京首", "首都"]


def test_keywords_favour_terms_frequent_here_and_rare_elsewhere() -> None:
    clusters = [
        Counter(terms("insulin glucose insulin diabetes cell")),
        Counter(terms("tumour cancer tumour cancer cell")),
    ]
    top = top_keywords(clusters, 2)  # "cell" is in both; ties go alphabetically
    assert top[0] == ["insulin", "diabetes"] and top[1] == ["cancer", "tumour"]
    assert top_keywords(clusters, 0) == [[], []]

"""Recluster through the store seam: the same refit, reassignment and centroid storage on the
in-memory store, with no Milvus at all."""

from __future__ import annotations

import numpy as np
import pytest
from tests.store.conftest import make_chunks

from ragsilo.cluster.centroids import CentroidStore
from ragsilo.cluster.recluster import recluster
from ragsilo.settings import ClusteringSettings, IndexSettings
from ragsilo.store import plan_index
from ragsilo.store.memory import InMemoryStore
from ragsilo.store.schema import UNASSIGNED, cluster_partition

DIM = 8
NAME = "docs"


def _blobs(n_per: int, k: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.eye(DIM, dtype=np.float32)[:k] * 5
    points = np.concatenate([c + rng.normal(scale=0.2, size=(n_per, DIM)) for c in centres])
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def _store(vectors: np.ndarray) -> InMemoryStore:
    store = InMemoryStore()
    plan = plan_index(IndexSettings(type="FLAT"), store.info, DIM)
    store.ensure_collection(NAME, dimension=DIM, plan=plan, consistency_level="Strong")
    store.upsert_chunks(NAME, make_chunks(len(vectors)), vectors, batch_bytes=1 << 20)
    return store


@pytest.mark.parametrize("partitioned", [False, True])
def test_recluster_on_the_in_memory_store(partitioned: bool) -> None:
    vectors = _blobs(12, 3)
    store = _store(vectors)

    def create_like(name: str) -> None:
        plan = store.plan_of(NAME)
        assert plan is not None
        store.ensure_collection(name, dimension=DIM, plan=plan, consistency_level="Strong")

    model, report = recluster(
        store,
        NAME,
        ClusteringSettings(k=3),
        metric="COSINE",
        partitioned=partitioned,
        create_like=create_like,
    )
    assert (report.rows, report.k, report.partitioned) == (36, 3, partitioned)
    rows = store.query(NAME, "", ["id", "cluster_id"])
    assert len(rows) == 36 and UNASSIGNED not in {r["cluster_id"] for r in rows}
    by_blob = [{r["cluster_id"] for r in rows if int(r["id"][2:]) // 12 == b} for b in range(3)]
    assert all(len(s) == 1 for s in by_blob) and len(set.union(*by_blob)) == 3
    if partitioned:
        assert report.rebuilt
        assert set(store.list_partitions(NAME)) >= {cluster_partition(c) for c in range(3)}
    stored = CentroidStore(store).read(NAME)
    assert stored is not None and stored.k == 3 and stored.partitioned is partitioned
    assert np.allclose(stored.centroids, model.centroids, atol=1e-6)
    # the same data again: nothing moves
    _, again = recluster(
        store,
        NAME,
        ClusteringSettings(k=3),
        metric="COSINE",
        partitioned=partitioned,
        create_like=create_like,
    )
    assert again.moved == 0 and store.count(NAME) == 36

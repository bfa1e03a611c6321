"""BM25 fields, cluster partitions and centroid storage: the same contract on Milvus Lite, on
the Milvus 2.3 server (which has no BM25, and says so) and on the in-memory store (no BM25
either)."""

from __future__ import annotations

import numpy as np
import pytest

from ragsilo.cluster.centroids import CentroidStore
from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import CapabilityError
from ragsilo.store import MilvusStore
from ragsilo.store.centroids import centroid_collection
from ragsilo.store.milvus import chunk_row, cluster_partition
from ragsilo.store.schema import bm25_spec

from .conftest import flat_plan, make_chunks, unit_vectors

DIM = 8


def _create(store: MilvusStore, name: str, *, bm25: bool = True) -> None:
    spec = bm25_spec("english", store.info) if bm25 else None
    store.ensure_collection(
        name, dimension=DIM, plan=flat_plan(store, DIM), consistency_level="Strong", bm25=spec
    )


def test_bm25_where_milvus_has_it_and_a_clear_refusal_where_not(
    store: MilvusStore, collection: str
) -> None:
    _create(store, collection)
    chunks = make_chunks(6)
    store.upsert_chunks(collection, chunks, unit_vectors(6, DIM), batch_bytes=1 << 20)
    store.commit(collection)
    if store.info.bm25:
        assert store.has_bm25(collection)
        hits = store.search_bm25(collection, ["chunk numbers 4"], k=3)[0]
        assert hits[0]["id"] == "d-4" and hits[0]["distance"] > 0
    else:
        assert not store.has_bm25(collection)
        with pytest.raises(CapabilityError, match="BM25 function.*came in Milvus 2.5"):
            store.search_bm25(collection, ["chunk"], k=3)
    assert store.count(collection) == 6  # the data is intact either way


def test_a_collection_made_without_bm25_is_accepted_and_says_why_bm25_fails(
    store: MilvusStore, collection: str
) -> None:
    _create(store, collection, bm25=False)
    _create(store, collection, bm25=True)  # reopening with BM25 settings is fine
    with pytest.raises(CapabilityError, match="created without one|came in Milvus 2.5"):
        store.search_bm25(collection, ["chunk"], k=1)


def test_rows_go_to_their_cluster_partitions_and_stay_there(
    store: MilvusStore, collection: str
) -> None:
    _create(store, collection, bm25=False)
    chunks = make_chunks(9)
    vecs = unit_vectors(9, DIM, seed=5)
    ids = [i % 3 for i in range(9)]
    assert (
        store.upsert_chunks(
            collection, chunks, vecs, batch_bytes=1 << 20, cluster_ids=ids, partitioned=True
        )
        == 9
    )
    # the same ids again with other clusters: they keep their partitions, no copies appear
    store.upsert_chunks(
        collection,
        chunks[:3],
        vecs[:3],
        batch_bytes=1 << 20,
        cluster_ids=[2, 2, 2],
        partitioned=True,
    )
    store.commit(collection)
    assert set(store.list_partitions(collection)) == {
        "_default",
        cluster_partition(0),
        cluster_partition(1),
        cluster_partition(2),
    }
    assert store.count(collection) == 9
    hits = store.search(collection, vecs[:1], k=9, partitions=[cluster_partition(0)])[0]
    assert sorted(h["id"] for h in hits) == ["d-0", "d-3", "d-6"]
    rows = {r["id"]: r["cluster_id"] for r in store.query(collection, "", ["id", "cluster_id"])}
    assert rows == {f"d-{i}": i % 3 for i in range(9)}


def test_centroids_round_trip_and_shrink(store: MilvusStore, collection: str) -> None:
    model = ClusterModel(
        centroids=unit_vectors(3, DIM, seed=2),
        sizes=np.asarray([4, 5, 6]),
        metric="COSINE",
        partitioned=True,
        keywords=(("a", "b"), ("c",), ()),
        representatives=(("d-1",), ("d-2", "d-3"), ()),
        info={"k": 3, "seed": 0},
    )
    centroids = CentroidStore(store)
    try:
        assert centroids.read(collection) is None
        centroids.write(collection, model)
        back = centroids.read(collection)
        assert back is not None and back.k == 3 and back.partitioned
        assert np.allclose(back.centroids, model.centroids, atol=1e-6)
        assert back.sizes.tolist() == [4, 5, 6] and back.keywords == model.keywords
        assert back.representatives == model.representatives and back.info["k"] == 3
        smaller = ClusterModel(
            centroids=model.centroids[:2], sizes=np.asarray([7, 8]), metric="COSINE"
        )
        centroids.write(collection, smaller)
        again = centroids.read(collection)
        assert again is not None and again.k == 2 and not again.partitioned
    finally:
        store.drop_collection(centroid_collection(collection))


def test_chunk_rows_carry_the_cluster_id() -> None:
    row = chunk_row(make_chunks(1)[0], unit_vectors(1, DIM)[0], 7)
    assert row["cluster_id"] == 7
    assert chunk_row(make_chunks(1)[0], unit_vectors(1, DIM)[0])["cluster_id"] == -1

"""The store contract: every test runs on Milvus Lite, on the real Milvus server and on the
in-memory store."""

from __future__ import annotations

import numpy as np
import pytest

from ragsilo.errors import (
    CollectionNotFoundError,
    DimensionMismatchError,
    FilterError,
    InputError,
    SchemaMismatchError,
)
from ragsilo.settings import IndexSettings
from ragsilo.store import MilvusStore, build_filter, capabilities_of, plan_index

from .conftest import flat_plan, make_chunks, unit_vectors

DIM = 16


def _fill(store: MilvusStore, name: str, n: int = 40, **kw) -> np.ndarray:
    store.ensure_collection(
        name, dimension=DIM, plan=flat_plan(store, DIM), consistency_level="Strong"
    )
    vecs = unit_vectors(n, DIM)
    assert store.upsert_chunks(name, make_chunks(n, **kw), vecs, batch_bytes=1 << 20) == n
    store.commit(name)
    return vecs


def test_probe_reports_kind_and_version(store: MilvusStore) -> None:
    info = store.info
    assert info.kind in ("lite", "server", "memory")
    assert info.version
    if info.kind == "lite":
        assert info.bm25 and info.hybrid_search and not info.rbac
    elif info.kind == "memory":  # exact dense search only
        assert not info.bm25 and not info.hybrid_search and not info.rbac
    else:  # the test server is Milvus 2.3: no BM25 and no hybrid search
        assert not info.bm25 and not info.hybrid_search and info.rbac


def test_create_is_loaded_and_idempotent(store: MilvusStore, collection: str) -> None:
    plan = flat_plan(store, DIM)
    assert store.ensure_collection(collection, dimension=DIM, plan=plan, consistency_level="Strong")
    assert collection in store.list_collections()
    assert store._load_state(collection) == "Loaded"
    assert not store.ensure_collection(
        collection, dimension=DIM, plan=plan, consistency_level="Strong"
    )


def test_upsert_search_and_count(store: MilvusStore, collection: str) -> None:
    vecs = _fill(store, collection)
    assert store.count(collection) == 40
    hits = store.search(collection, vecs[:3], k=5)
    assert [h[0]["id"] for h in hits] == ["d-0", "d-1", "d-2"]
    assert hits[0][0]["distance"] == pytest.approx(1.0, abs=1e-4)
    first = hits[0][0]
    assert first["source"] == "/docs/a.txt" and first["metadata"]["year"] == "2000"


def test_search_returns_each_hits_stored_vector(store: MilvusStore, collection: str) -> None:
    vecs = _fill(store, collection)
    results = store.search(
        collection, vecs[[4, 9, 30]], k=6, output_fields=["doc_id", "metadata", "vector"]
    )
    assert [len(r) for r in results] == [6, 6, 6]
    for query, hits in zip((4, 9, 30), results, strict=True):
        assert hits[0]["id"] == f"d-{query}"
        for hit in hits:
            i = int(hit["id"].split("-")[1])
            assert np.allclose(np.asarray(hit["vector"], dtype=np.float32), vecs[i], atol=1e-6)
            assert hit["metadata"] == {"year": str(2000 + i % 4), "n": i}
            assert hit["doc_id"] == "d"
    if store.info.kind != "memory":  # decoded in one pass, as rows of one float32 matrix
        assert all(
            isinstance(h["vector"], np.ndarray) and h["vector"].dtype == np.float32
            for hits in results
            for h in hits
        )


def test_upsert_same_ids_does_not_duplicate(store: MilvusStore, collection: str) -> None:
    vecs = _fill(store, collection)
    store.upsert_chunks(collection, make_chunks(40), vecs, batch_bytes=1 << 20)
    store.commit(collection)
    assert store.count(collection) == 40


def test_byte_bounded_batches_write_everything(store: MilvusStore, collection: str) -> None:
    store.ensure_collection(
        collection, dimension=DIM, plan=flat_plan(store, DIM), consistency_level="Strong"
    )
    vecs = unit_vectors(300, DIM)
    # ~200 bytes a row: a 2 KB budget forces dozens of batches
    assert store.upsert_chunks(collection, make_chunks(300), vecs, batch_bytes=2048) == 300
    store.commit(collection)
    assert store.count(collection) == 300


def test_dimension_mismatch_refused(store: MilvusStore, collection: str) -> None:
    _fill(store, collection, n=5)
    with pytest.raises(SchemaMismatchError) as e:
        store.ensure_collection(
            collection,
            dimension=DIM * 2,
            plan=flat_plan(store, DIM * 2),
            consistency_level="Strong",
        )
    assert f"vector dimension is {DIM}" in str(e.value) and str(DIM * 2) in str(e.value)
    with pytest.raises(DimensionMismatchError):
        store.upsert_chunks(
            collection, make_chunks(2), unit_vectors(2, DIM * 2), batch_bytes=1 << 20
        )
    assert store.count(collection) == 5  # nothing stored was lost


def test_metric_mismatch_refused(store: MilvusStore, collection: str) -> None:
    _fill(store, collection, n=3)
    l2 = plan_index(IndexSettings(type="FLAT", metric="L2"), store.info, DIM)
    with pytest.raises(SchemaMismatchError, match="metric COSINE"):
        store.ensure_collection(collection, dimension=DIM, plan=l2, consistency_level="Strong")


def test_filters_are_literal_and_safe(store: MilvusStore, collection: str) -> None:
    vecs = _fill(store, collection, n=20)
    _more = make_chunks(5, doc="q", source='/docs/we"ird\\name.txt')
    store.upsert_chunks(collection, _more, unit_vectors(5, DIM, seed=1), batch_bytes=1 << 20)
    store.commit(collection)
    quoted = build_filter({"source": '/docs/we"ird\\name.txt'})
    assert len(store.query(collection, quoted, ["id"])) == 5
    injection = build_filter({"source": '/docs/a.txt" or 1==1 or source == "'})
    assert store.search(collection, vecs[:1], k=10, filter=injection) == [[]]
    assert store.query(collection, build_filter({"title": "x' or 1==1"}), ["id"]) == []
    assert len(store.query(collection, build_filter({"page": "2"}), ["id"])) == 9
    assert len(store.query(collection, build_filter({"metadata.year": "2001"}), ["id"])) == 6
    assert len(store.query(collection, build_filter({"metadata.n": 3}), ["id"])) == 2


def test_bad_raw_filter_is_a_filter_error(store: MilvusStore, collection: str) -> None:
    vecs = _fill(store, collection, n=3)
    for expr in ("page >", "page == (1", "title == 'a", "nofield == 1", "page = 1", "page in [1,"):
        with pytest.raises(FilterError):
            store.search(collection, vecs[:1], k=2, filter=expr)
    assert store.count(collection) == 3


def test_delete_and_iterate(store: MilvusStore, collection: str) -> None:
    store.ensure_collection(
        collection, dimension=DIM, plan=flat_plan(store, DIM), consistency_level="Strong"
    )
    store.upsert_chunks(collection, make_chunks(2100), unit_vectors(2100, DIM), batch_bytes=1 << 20)
    store.commit(collection)
    ids = [r["id"] for r in store.iter_rows(collection, "", ["id"], batch_size=500)]
    assert len(ids) == len(set(ids)) == 2100
    assert store.delete_ids(collection, [f"d-{i}" for i in range(100)]) == 100
    store.commit(collection)
    assert store.count(collection) == 2000
    assert store.query(collection, 'id == "d-5"', ["id"]) == []


def test_stats(store: MilvusStore, collection: str) -> None:
    _fill(store, collection, n=12)
    s = store.stats(collection)
    assert (s.rows, s.documents, s.dimension, s.index_type, s.metric_type) == (
        12,
        1,
        DIM,
        "FLAT",
        "COSINE",
    )
    assert s.load_state == "Loaded"


def test_missing_collection(store: MilvusStore) -> None:
    assert store.drop_collection("never_created_here") is False
    with pytest.raises(CollectionNotFoundError):
        store.stats("never_created_here")
    with pytest.raises(CollectionNotFoundError):
        store.search("never_created_here", unit_vectors(1, DIM), k=1)


def test_capabilities_are_those_of_the_info(store: MilvusStore) -> None:
    assert store.capabilities == capabilities_of(store.info)


def test_dimension_of(store: MilvusStore, collection: str) -> None:
    _fill(store, collection, n=2)
    assert store.dimension_of(collection) == DIM
    with pytest.raises(CollectionNotFoundError):
        store.dimension_of("never_created_here")


def test_delete_where(store: MilvusStore, collection: str) -> None:
    _fill(store, collection, n=12)
    store.delete_where(collection, build_filter({"page": "2"}))
    store.commit(collection)
    assert store.count(collection) == 8
    assert store.query(collection, build_filter({"page": "2"}), ["id"]) == []
    with pytest.raises(InputError, match="needs a filter"):
        store.delete_where(collection, " ")
    assert store.count(collection) == 8


def test_centroid_collection_is_keyed_by_cluster_id(store: MilvusStore, collection: str) -> None:
    name = f"{collection}_centroids"
    try:
        assert store.ensure_centroid_collection(name, dimension=DIM, metric="COSINE")
        assert not store.ensure_centroid_collection(name, dimension=DIM, metric="COSINE")
        vecs = unit_vectors(3, DIM)

        def row(i: int, size: int) -> dict:
            return {
                "cluster_id": i,
                "vector": vecs[i].tolist(),
                "size": size,
                "detail": {},
                "info": {},
            }

        store.write_rows(name, [row(i, 10 + i) for i in range(3)])
        store.write_rows(name, [row(1, 99)])  # the same cluster id replaces its row
        store.commit(name)
        got = {r["cluster_id"]: r["size"] for r in store.query(name, "cluster_id >= 0", ["size"])}
        assert got == {0: 10, 1: 99, 2: 12}
        # another dimension: made again, empty
        assert store.ensure_centroid_collection(name, dimension=DIM * 2, metric="COSINE")
        assert store.dimension_of(name) == DIM * 2 and store.count(name) == 0
    finally:
        store.drop_collection(name)


def test_committed_writes_are_counted_and_found(store: MilvusStore, collection: str) -> None:
    """``commit`` is all a writer needs: on a server it sends nothing (the server holds every
    acknowledged write), on Milvus Lite it flushes; either way a Strong read sees the rows."""
    store.ensure_collection(
        collection, dimension=DIM, plan=flat_plan(store, DIM), consistency_level="Strong"
    )
    vecs = unit_vectors(5, DIM)
    store.upsert_chunks(collection, make_chunks(5), vecs, batch_bytes=1 << 20)
    store.commit(collection)
    assert store.count(collection) == 5
    assert store.search(collection, vecs[:1], k=1)[0][0]["id"] == "d-0"
    store.delete_where(collection, build_filter({"page": "1"}))
    store.commit(collection)
    assert store.count(collection) == 3

"""The per-collection state of MilvusStore: one record a collection, read with one describe,
changed only when a collection is ensured, renamed or dropped."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from ragsilo.errors import DimensionMismatchError, RagsiloError
from ragsilo.settings import MilvusSettings
from ragsilo.store import CollectionState, MilvusStore
from ragsilo.store.codes import encode_codes
from ragsilo.store.schema import (
    CODE_FIELD,
    SCALAR_FIELD_NAMES,
    VECTOR_FIELD,
    bm25_spec,
)

from .conftest import flat_plan, make_chunks, unit_vectors

DIM = 8


@pytest.fixture
def lite(tmp_path) -> MilvusStore:
    store = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "catalog.db")))
    yield store
    store.close()


def _counting_describe(store: MilvusStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = store.describe

    def describe(name: str):
        calls.append(name)
        return real(name)

    monkeypatch.setattr(store, "describe", describe)
    return calls


def test_one_describe_fills_every_fact_of_a_collection(
    lite: MilvusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"c_{uuid.uuid4().hex[:8]}"
    spec = bm25_spec("english", lite.info)
    lite.ensure_collection(
        name, dimension=DIM, plan=flat_plan(lite, DIM), consistency_level="Strong", bm25=spec
    )
    lite._forget(name)  # as a store that has not opened it yet
    calls = _counting_describe(lite, monkeypatch)
    assert lite.has_bm25(name) and lite.has_terms(name) and not lite.has_tenants(name)
    assert not lite.has_codes(name)
    assert lite.row_fields(name) == [*SCALAR_FIELD_NAMES, "bm25_text", VECTOR_FIELD]
    assert lite.upsert_chunks(name, make_chunks(3), unit_vectors(3, DIM), batch_bytes=1 << 20)
    assert calls == [name]  # read once, then remembered
    assert lite.plan_of(name) is None  # a plan comes only from ensure_collection


def test_ensure_remembers_without_describing_a_new_collection(
    lite: MilvusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting_describe(lite, monkeypatch)
    name = f"c_{uuid.uuid4().hex[:8]}"
    plan = flat_plan(lite, DIM)
    assert lite.ensure_collection(name, dimension=DIM, plan=plan, consistency_level="Strong")
    assert lite._states[name] == CollectionState(dimension=DIM, plan=plan)
    lite.upsert_chunks(name, make_chunks(2), unit_vectors(2, DIM), batch_bytes=1 << 20)
    assert lite.row_fields(name)[-1] == VECTOR_FIELD and calls == []


def test_drop_and_rename_change_the_state_in_one_place(lite: MilvusStore) -> None:
    old, new = f"o_{uuid.uuid4().hex[:8]}", f"n_{uuid.uuid4().hex[:8]}"
    plan = flat_plan(lite, DIM)
    lite.ensure_collection(old, dimension=DIM, plan=plan, consistency_level="Strong")
    lite.rename_collection(old, new)
    assert lite.plan_of(new) == plan and lite.plan_of(old) is None and old not in lite._states
    assert lite.drop_collection(new)
    assert new not in lite._states and lite.plan_of(new) is None
    # created again with another dimension: the write path checks the new one
    lite.ensure_collection(
        new, dimension=DIM * 2, plan=flat_plan(lite, DIM * 2), consistency_level="Strong"
    )
    with pytest.raises(DimensionMismatchError, match=f"holds {DIM * 2}"):
        lite.upsert_chunks(new, make_chunks(1), unit_vectors(1, DIM), batch_bytes=1 << 20)
    lite.drop_collection(new)


def test_call_runs_on_the_client_with_errors_translated(lite: MilvusStore) -> None:
    assert lite.call("list collections", lambda c: c.list_collections()) == []
    with pytest.raises(RagsiloError) as e:
        lite.call("describe collection 'nope'", lambda c: c.describe_collection("nope"))
    assert "nope" in str(e.value)


def test_a_new_collection_is_ready_without_waiting_on_its_empty_indexes(
    tmp_path, monkeypatch
) -> None:
    """pymilvus sleeps 0.5 s before it first looks at an index it created; a new collection
    has no rows to index, so ragsilo does not wait there (loading it says it is ready)."""
    import pymilvus.client.grpc_handler as handler

    from ragsilo.settings import IndexSettings, MilvusSettings
    from ragsilo.store import MilvusStore, plan_index
    from ragsilo.store.schema import bm25_spec

    store = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "new.db")))
    try:
        sleeps: list[float] = []
        monkeypatch.setattr(handler.time, "sleep", sleeps.append)
        plan = plan_index(IndexSettings(), store.info, 16)
        spec = bm25_spec("english", store.info)
        assert store.ensure_collection(
            "fresh", dimension=16, plan=plan, consistency_level="Strong", bm25=spec
        )
        assert sleeps == []
        assert store._load_state("fresh") == "Loaded"
        assert store.vector_index("fresh")["index_type"] == plan.type
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["lite", pytest.param("server", marks=pytest.mark.server)])
def test_a_collection_with_codes_is_compared_by_them(kind: str, request, tmp_path) -> None:
    if kind == "lite":
        store = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "codes.db")))
    else:
        server = request.getfixturevalue("milvus_server")
        store = MilvusStore.connect(MilvusSettings(uri=server.uri, token=server.token))
    name = f"c_{uuid.uuid4().hex[:8]}"
    try:
        plan = flat_plan(store, DIM)
        store.ensure_collection(
            name, dimension=DIM, plan=plan, consistency_level="Strong", codes=True
        )
        store._forget(name)  # read back from Milvus, as another process would
        assert store.has_codes(name) and store.row_fields(name)[-2:] == [CODE_FIELD, VECTOR_FIELD]
        vectors = unit_vectors(6, DIM)
        store.upsert_chunks(name, make_chunks(6), vectors, batch_bytes=1 << 20)
        store.commit(name)
        field = store.candidate_vector_field(name)
        assert field == CODE_FIELD
        hits = store.search(name, vectors[:1], k=6, output_fields=[field])[0]
        assert len(hits) == 6
        for hit in hits:
            exact = vectors[int(hit["id"].split("-")[1])]
            assert hit[field].dtype == np.float32
            assert np.abs(hit[field] - exact).max() <= np.abs(exact).max() / 254 + 1e-6
        # rows written whole without codes (copied from elsewhere) get theirs made
        rows = store.get_rows(name, ["d-0"], store.row_fields(name))
        assert rows[0][CODE_FIELD] == encode_codes(vectors[:1])[0]
        store.write_rows(name, [{k: v for k, v in rows[0].items() if k != CODE_FIELD}])
        store.commit(name)
        assert store.get_rows(name, ["d-0"], [CODE_FIELD]) == [
            {"id": "d-0", CODE_FIELD: rows[0][CODE_FIELD]}
        ]
    finally:
        store.drop_collection(name)
        store.close()


def test_a_collection_without_codes_is_compared_by_its_vectors(lite: MilvusStore) -> None:
    name = f"c_{uuid.uuid4().hex[:8]}"
    plan = flat_plan(lite, DIM)
    lite.ensure_collection(name, dimension=DIM, plan=plan, consistency_level="Strong")
    # asking for codes later does not change a collection that exists
    lite.ensure_collection(name, dimension=DIM, plan=plan, consistency_level="Strong", codes=True)
    assert not lite.has_codes(name) and CODE_FIELD not in lite.row_fields(name)
    assert lite.candidate_vector_field(name) == VECTOR_FIELD
    vectors = unit_vectors(4, DIM)
    lite.upsert_chunks(name, make_chunks(4), vectors, batch_bytes=1 << 20)
    # a row carrying a code from a collection that has them loses it here
    row = {**lite.get_rows(name, ["d-1"], lite.row_fields(name))[0], CODE_FIELD: "x"}
    lite.write_rows(name, [row])
    lite.commit(name)
    hits = lite.search(name, vectors[1:2], k=4, output_fields=[VECTOR_FIELD])[0]
    assert hits[0]["id"] == "d-1"
    assert np.allclose(hits[0][VECTOR_FIELD], vectors[1], atol=1e-6)

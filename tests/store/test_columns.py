"""Rows written as columns: the same stored rows as pymilvus's row path, and the row path
wherever the rows do not fit the schema."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient
from pymilvus.client.cache import GlobalCache
from pymilvus.client.prepare import Prepare

from ragsilo.store import MilvusStore
from ragsilo.store.columns import as_columns, write_columns

from .conftest import connect_milvus, flat_plan, make_chunks, unit_vectors

DIM = 16

SCHEMA = {
    "fields": [
        {"name": "id", "type": DataType.VARCHAR, "is_primary": True, "params": {}},
        {"name": "text", "type": DataType.VARCHAR, "params": {"max_length": 100}},
        {"name": "vector", "type": DataType.FLOAT_VECTOR, "params": {"dim": 2}},
        {"name": "sparse", "type": DataType.SPARSE_FLOAT_VECTOR, "is_function_output": True},
    ],
    "enable_dynamic_field": False,
}


def test_columns_follow_the_schema_and_leave_function_outputs_to_the_server() -> None:
    rows = [
        {"vector": [1.0, 0.0], "id": "a", "text": "x"},
        {"text": "y", "id": "b", "vector": [0, 1]},
    ]
    columns = as_columns(SCHEMA, rows)
    assert columns == [
        {"name": "id", "type": DataType.VARCHAR, "values": ["a", "b"]},
        {"name": "text", "type": DataType.VARCHAR, "values": ["x", "y"]},
        {"name": "vector", "type": DataType.FLOAT_VECTOR, "values": [[1.0, 0.0], [0, 1]]},
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [{"id": "a", "text": "x"}],  # a field missing
        [{"id": "a", "text": "x", "vector": [1.0, 0.0], "extra": 1}],  # one more
        [{"id": "a", "text": "x", "vector": [1.0, 0.0], "sparse": {1: 0.5}}],  # a function's
    ],
)
def test_rows_that_do_not_fit_the_schema_are_left_to_the_row_path(rows: list[dict]) -> None:
    assert as_columns(SCHEMA, rows) is None


@pytest.mark.parametrize(
    "change",
    [
        {"enable_dynamic_field": True},
        {"struct_array_fields": [{"name": "s"}]},
        {"fields": [*SCHEMA["fields"][:2], {**SCHEMA["fields"][2], "nullable": True}]},
        {"fields": [*SCHEMA["fields"][:1], {**SCHEMA["fields"][1], "default_value": "-"}]},
    ],
)
def test_schemas_the_column_path_does_not_handle(change: dict) -> None:
    rows = [{"id": "a", "text": "x", "vector": [1.0, 0.0]}]
    assert as_columns({**SCHEMA, **change}, rows) is None


class _NoColumns:
    """A client without pymilvus's column path."""

    def insert(self, *a, **k):  # pragma: no cover - never reached
        raise AssertionError


def test_a_client_without_the_column_path_writes_nothing() -> None:
    assert not write_columns(_NoColumns(), "c", [{"id": "a"}], upsert=False)
    assert not write_columns(_NoColumns(), "c", [], upsert=True)


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.server)])
def milvus(request: pytest.FixtureRequest, tmp_path) -> MilvusStore:
    store = connect_milvus(request, tmp_path)
    yield store
    store.close()


def _stored(store: MilvusStore, name: str) -> dict[str, dict]:
    rows = store.iter_rows(name, "", ["*"])
    return {r["id"]: {k: v for k, v in r.items() if k != "sparse"} for r in rows}


def _refuse_rows(store: MilvusStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a, **k):
        raise AssertionError("written as rows")

    monkeypatch.setattr(store.client, "insert", refuse)
    monkeypatch.setattr(store.client, "upsert", refuse)


@pytest.mark.parametrize("insert", [True, False])
def test_rows_stored_as_columns_equal_rows_stored_as_rows(
    milvus: MilvusStore, monkeypatch: pytest.MonkeyPatch, insert: bool
) -> None:
    names = [f"t_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    vecs = unit_vectors(30, DIM)
    chunks = make_chunks(30)
    for name in names:
        milvus.ensure_collection(
            name, dimension=DIM, plan=flat_plan(milvus, DIM), consistency_level="Strong"
        )
    try:
        with monkeypatch.context() as m:  # the first collection the row way
            m.setattr("ragsilo.store.milvus.write_columns", lambda *a, **k: False)
            assert (
                milvus.upsert_chunks(names[0], chunks, vecs, new=insert, batch_bytes=1 << 20) == 30
            )
        _refuse_rows(milvus, monkeypatch)  # the second only as columns
        assert milvus.upsert_chunks(names[1], chunks, vecs, new=insert, batch_bytes=1 << 20) == 30
        for name in names:
            milvus.commit(name)
        by_rows, by_columns = (_stored(milvus, n) for n in names)
        assert len(by_columns) == 30 and by_rows.keys() == by_columns.keys()
        for key, row in by_rows.items():
            other = by_columns[key]
            assert np.allclose(row.pop("vector"), other.pop("vector"))
            assert row == other
        hits = milvus.search(names[1], vecs[:2], k=1)
        assert [h[0]["id"] for h in hits] == ["d-0", "d-1"]
    finally:
        for name in names:
            milvus.drop_collection(name)


def test_a_chunk_rows_request_as_columns_sends_the_same_field_data(
    milvus: MilvusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pymilvus packs the same chunk rows into the same field data either way (a guard for
    pymilvus upgrades: the column path must not change what is stored)."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    milvus.ensure_collection(
        name, dimension=DIM, plan=flat_plan(milvus, DIM), consistency_level="Strong"
    )
    sent: list[list[dict]] = []
    monkeypatch.setattr(milvus, "_send_rows", lambda n, rows, **k: sent.append(rows))
    try:
        milvus.upsert_chunks(name, make_chunks(12), unit_vectors(12, DIM), batch_bytes=1 << 20)
        rows = sent[0]
        conn = milvus.client._get_connection()
        schema, stamp = conn._get_schema(name, context=milvus.client._generate_call_context())
        as_rows = Prepare.row_insert_param(
            name, rows, "", schema["fields"], [], enable_dynamic=False, schema_timestamp=stamp
        )
        columns = as_columns(schema, rows)
        assert columns is not None
        as_cols = Prepare.batch_insert_param(name, columns, "", schema["fields"])
        by_name = {f.field_name: f.SerializeToString() for f in as_rows.fields_data}
        assert by_name == {f.field_name: f.SerializeToString() for f in as_cols.fields_data}
        assert as_rows.num_rows == as_cols.num_rows == 12
    finally:
        milvus.drop_collection(name)


def test_an_upsert_as_columns_replaces_the_rows(
    milvus: MilvusStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"t_{uuid.uuid4().hex[:10]}"
    milvus.ensure_collection(
        name, dimension=DIM, plan=flat_plan(milvus, DIM), consistency_level="Strong"
    )
    try:
        _refuse_rows(milvus, monkeypatch)
        milvus.upsert_chunks(name, make_chunks(10), unit_vectors(10, DIM), batch_bytes=1 << 20)
        changed = make_chunks(10)
        for c in changed[:4]:
            object.__setattr__(c, "text", c.text + " again")
        milvus.upsert_chunks(name, changed, unit_vectors(10, DIM), batch_bytes=1 << 20)
        milvus.commit(name)
        stored = _stored(milvus, name)
        assert len(stored) == 10
        assert sorted(k for k, r in stored.items() if r["text"].endswith("again")) == [
            f"d-{i}" for i in range(4)
        ]
    finally:
        milvus.drop_collection(name)


def _collection(client: MilvusClient, tag: bool) -> None:
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=10)
    if tag:
        schema.add_field("tag", DataType.VARCHAR, max_length=10)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection("c", schema=schema)


@pytest.mark.parametrize("tag", ["t", 7])
def test_a_stale_cached_schema_is_read_again(tmp_path, tag: object) -> None:
    """pymilvus caches each collection's schema; another process may drop the collection
    and make it again with other fields. A write whose rows do not fit the cached schema,
    or that pymilvus refuses against it, reads the schema again once."""
    client = MilvusClient(str(tmp_path / "stale.db"))
    try:
        _collection(client, tag=False)
        conn = client._get_connection()
        old, _ = conn._get_schema("c", context=client._generate_call_context())
        client.drop_collection("c")
        _collection(client, tag=True)
        if tag == 7:  # the stale schema has the fields, but "tag" as a number
            old = {**old, "fields": [*old["fields"], {"name": "tag", "type": DataType.INT64}]}
        GlobalCache.schema.set(conn.server_address, "", "c", old)
        assert write_columns(
            client, "c", [{"id": "r", "tag": "t", "vector": [0.5, 0.5]}], upsert=False
        )
        client.flush("c")
        assert client.query("c", filter="id == 'r'", output_fields=["tag"])[0]["tag"] == "t"
    finally:
        client.close()

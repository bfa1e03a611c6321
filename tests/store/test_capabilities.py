"""The named capabilities the store code branches on, decided once from ServerInfo."""

from __future__ import annotations

import pytest

from ragsilo.errors import CapabilityError
from ragsilo.settings import IndexSettings
from ragsilo.store import Capabilities, capabilities_of, plan_index
from ragsilo.store.capabilities import capabilities_for
from ragsilo.store.memory import InMemoryStore, memory_info
from ragsilo.store.schema import TERMS_FIELD, _build_params, bm25_spec

LITE = capabilities_for("lite", "v2.4.0-milvus_lite", "x.db")
SERVER_23 = capabilities_for("server", "v2.3.5", "http://127.0.0.1:19530")
SERVER_24 = capabilities_for("server", "v2.4.9", "http://127.0.0.1:19530")
SERVER_25 = capabilities_for("server", "v2.5.3", "http://127.0.0.1:19530")


def test_lite_differs_from_a_server_by_name() -> None:
    lite = capabilities_of(LITE)
    assert lite == Capabilities(
        bm25_function=True,
        builtin_analyzers=False,
        nested_index_params=True,
        loads_partitions=False,
        replicas=False,
        upsert_routes_partition_key=True,
        gpu_indexes=False,
        routes_by_partition=True,
        durable_writes=False,
        keeps_replaced_rows=True,
        session_timestamps=False,
    )
    server = capabilities_of(SERVER_25)
    assert server.bm25_function and server.builtin_analyzers and server.replicas
    assert server.loads_partitions and server.gpu_indexes and not server.nested_index_params
    assert not server.routes_by_partition
    assert server.durable_writes  # a server logs every acknowledged write: no flush needed
    assert not server.keeps_replaced_rows  # its compaction drops replaced rows
    assert server.session_timestamps


@pytest.mark.parametrize(
    ("info", "bm25", "routes"),
    [(SERVER_23, False, False), (SERVER_24, False, True), (SERVER_25, True, True)],
)
def test_server_capabilities_follow_the_version(info, bm25: bool, routes: bool) -> None:
    caps = capabilities_of(info)
    assert caps.bm25_function is bm25
    # Milvus 2.3 does not route upserted rows by their partition key
    assert caps.upsert_routes_partition_key is routes


def test_the_in_memory_store_reports_its_own() -> None:
    store = InMemoryStore()
    assert store.capabilities == capabilities_of(memory_info())
    assert not store.capabilities.bm25_function and not store.capabilities.replicas
    assert store.capabilities.to_dict()["upsert_routes_partition_key"] is True


def test_english_bm25_is_stemmed_by_ragsilo_only_without_builtin_analyzers() -> None:
    assert bm25_spec("english", LITE).input_field == TERMS_FIELD
    server = bm25_spec("english", SERVER_25)
    assert server.input_field == "text" and server.analyzer_params == {"type": "english"}


def test_index_build_parameters_are_nested_where_milvus_reads_them_so() -> None:
    build = {"M": 16, "efConstruction": 64}
    assert _build_params(dict(build), LITE) == {"params": build}
    assert _build_params(dict(build), SERVER_25) == build
    assert _build_params({}, LITE) == {}


def test_gpu_indexes_are_refused_where_there_can_be_none() -> None:
    gpu = IndexSettings(type="GPU_CAGRA", gpu=True)
    with pytest.raises(CapabilityError, match="Milvus Lite has no GPU indexes"):
        plan_index(gpu, LITE, 16, gpu=True)
    with pytest.raises(CapabilityError, match="memory has no GPU indexes"):
        plan_index(gpu, memory_info(), 16, gpu=True)
    assert plan_index(gpu, SERVER_25, 16, gpu=True).type == "GPU_CAGRA"


def test_commit_flushes_only_where_writes_are_not_yet_durable(tmp_path, monkeypatch) -> None:
    import dataclasses

    from ragsilo.settings import MilvusSettings
    from ragsilo.store import MilvusStore

    store = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "c.db")))
    try:
        flushed: list[str] = []
        monkeypatch.setattr(store, "flush", flushed.append)
        store.commit("docs")  # Milvus Lite keeps writes in memory until a flush
        assert flushed == ["docs"]
        store._caps = dataclasses.replace(store.capabilities, durable_writes=True)
        store.commit("docs")  # as on a server: nothing to send
        assert flushed == ["docs"]
    finally:
        store.close()

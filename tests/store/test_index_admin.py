"""Changing and rebuilding the vector index in place, replicas, and GPU types refused."""

from __future__ import annotations

import uuid

import pytest
from tests.conftest import HashEmbedder

from ragsilo import Silo
from ragsilo.errors import CapabilityError, ConfigError
from ragsilo.models import Chunk
from ragsilo.settings import load_settings


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.server)])
def silo(request: pytest.FixtureRequest, tmp_path):
    name = f"idx_{uuid.uuid4().hex[:10]}"
    if request.param == "lite":
        milvus = {"uri": str(tmp_path / "index.db")}
    else:
        server = request.getfixturevalue("milvus_server")
        milvus = {"uri": server.uri, "token": server.token}
    settings = load_settings(
        overrides={"milvus": milvus, "collection": {"name": name}, "index": {"type": "HNSW"}}
    )
    s = Silo.open(settings, embedder=HashEmbedder())
    s._ensure_collection(create=True)
    chunks = [
        Chunk(
            f"c{i}",
            f"d{i}",
            f"text://n{i}",
            "sha",
            "text/plain",
            "t",
            None,
            None,
            0,
            f"note number {i} about topic {i % 7}",
            {},
            1,
        )
        for i in range(300)
    ]
    vectors = s.embedder.embed([c.text for c in chunks])
    s.store.upsert_chunks(s.collection, chunks, vectors, batch_bytes=1 << 22)
    s.store.commit(s.collection)
    yield s
    s.drop_collection()
    s.close()


def _top(silo: Silo) -> list[str]:
    return [h.source for h in silo.search("note number 17 about topic 3", k=3)]


def test_set_and_rebuild_keep_every_row(silo: Silo) -> None:
    before = silo.index()
    assert before["type"] == "HNSW" and before["rows"] == 300
    top = _top(silo)
    assert top[0] == "text://n17"

    plan = silo.set_index("IVF_FLAT", params={"nlist": 16}, search_params={"nprobe": 16})
    assert plan.type == "IVF_FLAT"
    after = silo.index()
    assert after["type"] == "IVF_FLAT" and after["params"].get("nlist") == 16
    assert after["rows"] == 300 and silo.stats().load_state == "Loaded"
    assert _top(silo)[0] == "text://n17"

    rebuilt = silo.rebuild_index()
    assert rebuilt.type == "IVF_FLAT" and silo.index()["rows"] == 300

    auto = silo.set_index("auto")
    assert auto.type == "FLAT" and "300 rows" in auto.reason
    assert silo.index()["type"] == "FLAT" and silo.stats().rows == 300


def test_refusals_change_nothing(silo: Silo) -> None:
    for kind in ("GPU_CAGRA", "GPU_IVF_FLAT", "GPU_IVF_PQ", "GPU_BRUTE_FORCE"):
        with pytest.raises(CapabilityError, match="GPU"):
            silo.set_index(kind)
    if silo.info.kind == "lite":
        for kind in ("DISKANN", "IVF_PQ"):
            with pytest.raises(CapabilityError, match=kind):
                silo.set_index(kind)
    with pytest.raises(ConfigError, match="M of HNSW must be a whole number from 2 to 2048"):
        silo.set_index("HNSW", params={"M": 4096})
    with pytest.raises(ConfigError, match="nlist"):
        silo.set_index("IVF_FLAT", params={"nlist": 0})
    if silo.info.kind == "server":
        with pytest.raises(ConfigError, match="divide"):
            silo.set_index("IVF_PQ", params={"m": 7})
    info = silo.index()
    assert info["type"] == "HNSW" and info["rows"] == 300
    assert _top(silo)[0] == "text://n17"


def test_replicas(silo: Silo) -> None:
    assert len(silo.replicas()) == 1
    with pytest.raises(CapabilityError, match="replicas") as e:
        silo.set_replicas(2)
    if silo.info.kind == "server":
        assert "loaded again with 1" in str(e.value)
    # still loaded, still answering
    assert silo.stats().load_state == "Loaded"
    assert len(silo.replicas()) == 1
    assert _top(silo)[0] == "text://n17"
    assert silo.set_replicas(1) == 1


@pytest.mark.server
def test_replicas_setting_over_capacity_is_a_clear_refusal(milvus_server) -> None:
    name = f"rep_{uuid.uuid4().hex[:10]}"
    milvus = {"uri": milvus_server.uri, "token": milvus_server.token}
    base = {"milvus": milvus, "collection": {"name": name}, "index": {"type": "FLAT"}}
    with Silo.open(load_settings(overrides=base), embedder=HashEmbedder()) as one:
        one.ingest_texts(["a first note"])
        one.store.client.release_collection(name)  # the next open loads it
        try:
            two = {**base, "collection": {"name": name, "replicas": 2}}
            with Silo.open(load_settings(overrides=two), embedder=HashEmbedder()) as silo:
                with pytest.raises(CapabilityError, match="with 2 replicas") as e:
                    silo.search("note")
                assert "collection.replicas" in str(e.value)
            one._ready = False
            assert [h.source for h in one.search("a first note", k=1)][0].startswith("text://")
        finally:
            one.drop_collection()

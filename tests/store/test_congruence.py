"""The same corpus gives the same exact (FLAT) top-k on Milvus Lite and on the Milvus server."""

from __future__ import annotations

import uuid

import pytest

from ragsilo.settings import MilvusSettings
from ragsilo.store import MilvusStore, build_filter

from .conftest import flat_plan, make_chunks, unit_vectors

pytestmark = pytest.mark.server

DIM = 32


def _load(store: MilvusStore, name: str) -> None:
    store.ensure_collection(
        name, dimension=DIM, plan=flat_plan(store, DIM), consistency_level="Strong"
    )
    store.upsert_chunks(name, make_chunks(600), unit_vectors(600, DIM, seed=3), batch_bytes=1 << 20)
    store.commit(name)


def test_lite_and_server_agree_on_exact_top_k(milvus_server, tmp_path) -> None:
    lite = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "c.db")))
    server = MilvusStore.connect(MilvusSettings(uri=milvus_server.uri, token=milvus_server.token))
    name = f"cong_{uuid.uuid4().hex[:8]}"
    try:
        _load(lite, name)
        _load(server, name)
        queries = unit_vectors(25, DIM, seed=99)
        for flt in ("", build_filter({"metadata.year": "2002"}), build_filter({"page": 2})):
            a = lite.search(name, queries, k=10, filter=flt)
            b = server.search(name, queries, k=10, filter=flt)
            for qa, qb in zip(a, b, strict=True):
                assert [h["id"] for h in qa] == [h["id"] for h in qb]
                for ha, hb in zip(qa, qb, strict=True):
                    assert ha["distance"] == pytest.approx(hb["distance"], abs=1e-4)
    finally:
        lite.drop_collection(name)
        server.drop_collection(name)
        lite.close()
        server.close()

from __future__ import annotations

import uuid

import numpy as np
import pytest

from ragsilo.models import Chunk
from ragsilo.settings import IndexSettings, MilvusSettings
from ragsilo.store import MilvusStore, plan_index
from ragsilo.store.memory import InMemoryStore


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.server), "memory"])
def store(request: pytest.FixtureRequest, tmp_path) -> MilvusStore:
    """The same contract runs against Milvus Lite, the real Milvus server and the in-memory
    store."""
    if request.param == "memory":
        mem = InMemoryStore()
        yield mem
        mem.close()
        return
    s = connect_milvus(request, tmp_path)
    yield s
    s.close()


def connect_milvus(request: pytest.FixtureRequest, tmp_path) -> MilvusStore:
    """A store on a Milvus Lite file in ``tmp_path`` (``request.param`` "lite") or on the
    real Milvus server the tests share ("server")."""
    if request.param == "lite":
        settings = MilvusSettings(uri=str(tmp_path / "contract.db"))
    else:
        server = request.getfixturevalue("milvus_server")
        settings = MilvusSettings(uri=server.uri, token=server.token)
    return MilvusStore.connect(settings)


@pytest.fixture
def collection(store: MilvusStore) -> str:
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    store.drop_collection(name)


def flat_plan(store: MilvusStore, dim: int):
    return plan_index(IndexSettings(type="FLAT"), store.info, dim)


def make_chunks(
    n: int, *, doc: str = "d", source: str = "/docs/a.txt", start: int = 0
) -> list[Chunk]:
    return [
        Chunk(
            id=f"{doc}-{i}",
            doc_id=doc,
            source=source,
            file_sha256="sha",
            mime_type="text/plain",
            title="A title",
            page=(i % 3) + 1,
            section="Intro" if i % 2 else None,
            chunk_index=i,
            text=f"chunk number {i}",
            metadata={"year": str(2000 + i % 4), "n": i},
            doc_chunks=n,
        )
        for i in range(start, start + n)
    ]


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)

"""LangChain's standard vector-store tests on the real Milvus server (the server tier)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("langchain_core")
pytest.importorskip("langchain_tests")

from langchain_tests.integration_tests import VectorStoreIntegrationTests  # noqa: E402

from ragsilo import Silo  # noqa: E402
from ragsilo.integrations.langchain import RagsiloVectorStore, langchain_embedder  # noqa: E402

pytestmark = pytest.mark.server


class TestRagsiloVectorStoreOnServer(VectorStoreIntegrationTests):
    """The same standard tests on the real Milvus 2.3 server, a new collection each."""

    @pytest.fixture
    def vectorstore(self, milvus_server) -> Iterator[RagsiloVectorStore]:  # type: ignore[override]
        embeddings = self.get_embeddings()
        name = f"lc_std_{uuid.uuid4().hex[:12]}"
        silo = Silo.open(
            embedder=langchain_embedder(embeddings),
            milvus={"uri": milvus_server.uri, "token": milvus_server.token},
            collection={"name": name},
            index={"type": "FLAT"},
        )
        try:
            yield RagsiloVectorStore(silo, embedding=embeddings)
        finally:
            silo.drop_collection()
            silo.close()

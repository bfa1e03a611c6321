"""The adapters on the real Milvus server (the server tier): LangChain's standard
vector-store tests, and the LlamaIndex vector store under an index."""

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
    """The same standard tests on the real Milvus 2.3 server. Creating and loading a
    collection costs seconds on the server, so the tests share one, emptied after each."""

    @pytest.fixture(scope="class")
    def collection_name(self, milvus_server) -> Iterator[str]:
        name = f"lc_std_{uuid.uuid4().hex[:12]}"
        yield name
        silo = Silo.open(
            embedder=langchain_embedder(self.get_embeddings()),
            milvus={"uri": milvus_server.uri, "token": milvus_server.token},
            collection={"name": name},
        )
        silo.drop_collection()
        silo.close()

    @pytest.fixture
    def vectorstore(self, milvus_server, collection_name) -> Iterator[RagsiloVectorStore]:  # type: ignore[override]
        embeddings = self.get_embeddings()
        silo = Silo.open(
            embedder=langchain_embedder(embeddings),
            milvus={"uri": milvus_server.uri, "token": milvus_server.token},
            collection={"name": collection_name},
            index={"type": "FLAT"},
        )
        try:
            yield RagsiloVectorStore(silo, embedding=embeddings)
        finally:
            silo.store.delete_where(silo.collection, 'id != ""')
            silo.store.commit(silo.collection)
            assert silo.store.count(silo.collection) == 0
            silo.close()


def test_llama_index_vector_store_on_the_server(milvus_server, hash_embedder) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

    from ragsilo.integrations.llama_index import (
        RagsiloEmbedding,
        RagsiloRetriever,
        RagsiloVectorStore,
    )

    texts = ["Hedgehogs eat beetles and worms.", "Basaltic lava is runny and flows far."]
    silo = Silo.open(
        embedder=hash_embedder,
        milvus={"uri": milvus_server.uri, "token": milvus_server.token},
        collection={"name": f"li_{uuid.uuid4().hex[:12]}"},
        index={"type": "FLAT"},
    )
    try:
        nodes = []
        for i, (text, topic) in enumerate(zip(texts, ["animals", "rocks"], strict=True)):
            node = TextNode(id_=f"n{i}", text=text, metadata={"topic": topic})
            node.excluded_embed_metadata_keys = ["topic"]
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=topic)
            nodes.append(node)
        store = RagsiloVectorStore(silo)
        index = VectorStoreIndex(
            nodes,
            storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=RagsiloEmbedding(silo),
        )
        found = index.as_retriever(similarity_top_k=1).retrieve(texts[1])
        assert found[0].node.node_id == "n1" and found[0].node.metadata == {"topic": "rocks"}
        rocks = MetadataFilters(filters=[MetadataFilter(key="topic", value="rocks")])
        assert [n.node_id for n in store.get_nodes(filters=rocks)] == ["n1"]
        hits = RagsiloRetriever(silo, similarity_top_k=2).retrieve(texts[0])
        assert hits[0].node.node_id == "n0"
        store.delete("animals")
        assert [n.node_id for n in store.get_nodes(["n0", "n1"])] == ["n1"]
    finally:
        silo.drop_collection()
        silo.close()

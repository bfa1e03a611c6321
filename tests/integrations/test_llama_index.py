"""The LlamaIndex adapter on Milvus Lite: the retriever over ingested chunks, and the
vector store under a ``VectorStoreIndex``."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode  # noqa: E402
from llama_index.core.vector_stores.types import (  # noqa: E402
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from tests.integrations.conftest import open_silo  # noqa: E402

from ragsilo import FilterError, InputError  # noqa: E402
from ragsilo.integrations.llama_index import (  # noqa: E402
    RagsiloEmbedding,
    RagsiloRetriever,
    RagsiloVectorStore,
    filters_to_expr,
)

pytestmark = pytest.mark.lite

TEXTS = [
    "Hedgehogs eat beetles and worms. They hibernate in winter under leaves.",
    "Otters hold hands while they sleep so that they do not drift apart.",
    "Basaltic lava is runny and flows far from the vent before it cools.",
]


def _node(i: int, text: str, doc: str, **meta) -> TextNode:
    # the test embedder hashes whole texts: embed the text alone, as the queries are
    node = TextNode(id_=f"n{i}", text=text, metadata=meta, excluded_embed_metadata_keys=list(meta))
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc)
    return node


@pytest.fixture
def index(hash_silo):
    store = RagsiloVectorStore(hash_silo)
    nodes = [
        _node(0, TEXTS[0], "animals", topic="animals", year=2020),
        _node(1, TEXTS[1], "animals", topic="animals", year=2024),
        _node(2, TEXTS[2], "rocks", topic="rocks", year=2024),
    ]
    return VectorStoreIndex(
        nodes,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=RagsiloEmbedding(hash_silo),
    )


def test_retriever_over_ingested_chunks_returns_scored_nodes(hash_silo, tmp_path) -> None:
    (tmp_path / "lava.md").write_text("# Lava\n\n" + TEXTS[2])
    hash_silo.ingest([tmp_path / "lava.md"])
    hash_silo.ingest_texts(TEXTS[:2])
    retriever = RagsiloRetriever(hash_silo, similarity_top_k=2, mode="hybrid", rerank="mmr")
    found = retriever.retrieve("runny basaltic lava")
    assert len(found) == 2 and TEXTS[2] in found[0].node.get_content()
    assert found[0].node.metadata["source"].endswith("lava.md") and found[0].score is not None
    assert found[0].node.node_id == found[0].node.id_
    afound = asyncio.run(retriever.aretrieve("runny basaltic lava"))
    assert [n.node.node_id for n in afound] == [n.node.node_id for n in found]
    only = RagsiloRetriever(hash_silo, similarity_top_k=3, where={"source": "text://x"})
    assert only.retrieve("lava") == []
    with pytest.raises(InputError, match="k must be"):
        RagsiloRetriever(hash_silo, similarity_top_k=0)


def test_vector_store_under_an_index_gives_back_the_nodes_it_stored(index) -> None:
    found = index.as_retriever(similarity_top_k=1).retrieve(TEXTS[1])
    node = found[0].node
    assert node.node_id == "n1" and node.get_content() == TEXTS[1]
    assert node.metadata == {"topic": "animals", "year": 2024}
    assert node.ref_doc_id == "animals"


def test_metadata_filters_and_modes(index) -> None:
    store = index.vector_store
    year = MetadataFilters(filters=[MetadataFilter(key="year", value=2024)])
    found = index.as_retriever(similarity_top_k=3, filters=year).retrieve(TEXTS[0])
    assert sorted(n.node.node_id for n in found) == ["n1", "n2"]
    either = MetadataFilters(
        filters=[
            MetadataFilter(key="topic", value="rocks"),
            MetadataFilter(key="year", value=2021, operator=FilterOperator.LT),
        ],
        condition=FilterCondition.OR,
    )
    result = store.query(
        VectorStoreQuery(
            query_str="lava",
            similarity_top_k=3,
            filters=either,
            mode=VectorStoreQueryMode.TEXT_SEARCH,
        )
    )
    assert result.ids == ["n2"]
    result = store.query(
        VectorStoreQuery(
            query_str="hedgehogs", similarity_top_k=1, mode=VectorStoreQueryMode.HYBRID
        )
    )
    assert result.ids == ["n0"]
    with pytest.raises(FilterError, match="not supported"):
        filters_to_expr(
            MetadataFilters(
                filters=[MetadataFilter(key="t", value="x", operator=FilterOperator.TEXT_MATCH)]
            )
        )
    with pytest.raises(FilterError, match="invalid"):
        filters_to_expr(MetadataFilters(filters=[MetadataFilter(key='a"]', value=1)]))


def test_delete_by_document_by_node_and_clear(index) -> None:
    store = index.vector_store
    assert {n.node_id for n in store.get_nodes(["n0", "n1", "n2", "zz"])} == {"n0", "n1", "n2"}
    store.delete("animals")
    assert [n.node_id for n in store.get_nodes(["n0", "n1", "n2"])] == ["n2"]
    store.delete_nodes(
        filters=MetadataFilters(filters=[MetadataFilter(key="topic", value="rocks")])
    )
    assert store.get_nodes(["n2"]) == []
    store.add([_node(5, TEXTS[0], "again")])
    store.clear()
    assert store.client.stats().rows == 0
    with pytest.raises(InputError, match="clear"):
        store.delete_nodes()


def test_tenants_on_the_vector_store(tmp_path, hash_embedder) -> None:
    silo = open_silo(tmp_path, hash_embedder, collection={"tenants": True})
    try:
        acme = RagsiloVectorStore(silo, tenant="acme")
        other = RagsiloVectorStore(silo, tenant="other")
        vector = RagsiloEmbedding(silo).get_text_embedding(TEXTS[0])
        acme.add([_node(0, TEXTS[0], "d")])
        q = VectorStoreQuery(query_embedding=vector, similarity_top_k=5)
        assert acme.query(q).ids == ["n0"] and other.query(q).ids == []
        other.clear()
        assert acme.get_nodes(["n0"])[0].node_id == "n0"
    finally:
        silo.close()

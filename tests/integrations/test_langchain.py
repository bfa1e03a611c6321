"""The LangChain adapter: LangChain's own standard vector-store tests on Milvus Lite, and
what the standard tests do not cover (search options, filters, tenants, the retriever)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("langchain_core")
pytest.importorskip("langchain_tests")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings  # noqa: E402
from langchain_tests.integration_tests import VectorStoreIntegrationTests  # noqa: E402
from tests.integrations.conftest import open_silo  # noqa: E402

from ragsilo import ConfigError, InputError, Silo  # noqa: E402
from ragsilo.integrations.langchain import (  # noqa: E402
    RagsiloEmbeddings,
    RagsiloRetriever,
    RagsiloVectorStore,
    langchain_embedder,
)

pytestmark = pytest.mark.lite


class TestRagsiloVectorStoreStandard(VectorStoreIntegrationTests):
    """langchain-tests' VectorStoreIntegrationTests, unchanged, on a fresh Lite file each."""

    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Iterator[RagsiloVectorStore]:  # type: ignore[override]
        embeddings = self.get_embeddings()
        silo = open_silo(tmp_path, langchain_embedder(embeddings))
        try:
            yield RagsiloVectorStore(silo, embedding=embeddings)
        finally:
            silo.close()


FACTS = [
    ("Compost heats up because microbes break down the green material.", {"topic": "soil"}),
    ("Basaltic lava is runny and flows far from the vent.", {"topic": "volcano"}),
    ("Bees dance to tell each other where the flowers are.", {"topic": "bees"}),
]


@pytest.fixture
def store(hash_silo: Silo) -> RagsiloVectorStore:
    s = RagsiloVectorStore(hash_silo)
    s.add_texts([t for t, _ in FACTS], [m for _, m in FACTS], ids=["c", "l", "b"])
    return s


def test_dict_filter_reaches_metadata_and_string_filter_is_an_expression(store) -> None:
    docs = store.similarity_search(FACTS[0][0], k=3, filter={"topic": "bees"})
    assert [d.id for d in docs] == ["b"]
    docs = store.similarity_search(FACTS[0][0], k=3, filter='metadata["topic"] == "volcano"')
    assert [d.id for d in docs] == ["l"]
    assert docs[0].metadata == {"topic": "volcano"}


def test_bm25_and_hybrid_modes_pass_through(store) -> None:
    assert store.similarity_search("runny lava vent", k=1, mode="bm25")[0].id == "l"
    hybrid = store.similarity_search_with_score("microbes compost", k=3, mode="hybrid")
    assert hybrid[0][0].id == "c" and len(hybrid) == 3
    with pytest.raises(InputError, match="mode"):
        store.similarity_search("x", k=1, mode="fuzzy")


def test_unknown_search_option_is_refused_by_name(store) -> None:
    with pytest.raises(InputError, match="'colour'"):
        store.similarity_search("lava", k=1, colour="red")


def test_retriever_returns_scored_documents_and_rerankers_pass_through(hash_silo, store) -> None:
    retriever = RagsiloRetriever(silo=hash_silo, k=2, rerank="mmr")
    docs = retriever.invoke(FACTS[2][0])
    assert docs[0].id == "b" and len(docs) == 2
    assert docs[0].metadata["topic"] == "bees" and isinstance(docs[0].metadata["score"], float)
    adocs = asyncio.run(retriever.ainvoke(FACTS[2][0]))
    assert [d.id for d in adocs] == [d.id for d in docs]
    with pytest.raises(InputError):
        RagsiloRetriever(silo=hash_silo, rerank="nonsense").invoke("bees")


class _Fixed(Embeddings):
    """Fixed vectors: a1 and its near twin a2 nearest the query, b further off."""

    VECTORS = {"q": [1, 0, 0], "a1": [0.95, 0.31, 0], "a2": [0.94, 0.34, 0], "b": [0.8, -0.3, 0.52]}

    def embed_documents(self, texts):
        return [list(map(float, self.VECTORS[t])) for t in texts]

    def embed_query(self, text):
        return self.embed_documents([text])[0]


def test_mmr_search_picks_diverse_documents(tmp_path) -> None:
    silo = open_silo(tmp_path, langchain_embedder(_Fixed(), dimension=3))
    try:
        store = RagsiloVectorStore(silo)
        store.add_texts(["a1", "a2", "b"], ids=["a1", "a2", "b"])
        assert [d.id for d in store.similarity_search("q", k=2)] == ["a1", "a2"]
        assert [d.id for d in store.max_marginal_relevance_search("q", k=2)] == ["a1", "b"]
        mmr = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 3})
        assert [d.id for d in mmr.invoke("q")] == ["a1", "b"]
        with pytest.raises(InputError, match="lambda_mult"):
            store.max_marginal_relevance_search("q", lambda_mult=2)
    finally:
        silo.close()


def test_as_retriever_uses_the_store(store) -> None:
    docs = store.as_retriever(search_kwargs={"k": 1, "filter": {"topic": "soil"}}).invoke("x y")
    assert [d.id for d in docs] == ["c"]


def test_ingested_files_show_where_they_come_from(hash_silo, tmp_path) -> None:
    (tmp_path / "lava.md").write_text(
        "# Lava\n\nBasaltic lava is runny. It flows far from the vent before it cools down."
    )
    hash_silo.ingest([tmp_path / "lava.md"])
    store = RagsiloVectorStore(hash_silo)
    doc = store.similarity_search("Basaltic lava is runny.", k=1, mode="bm25")[0]
    assert doc.metadata["source"].endswith("lava.md") and doc.metadata["title"] == "Lava"


def test_an_embedding_that_is_not_the_silos_is_refused(hash_silo) -> None:
    with pytest.raises(ConfigError, match="langchain_embedder"):
        RagsiloVectorStore(hash_silo, embedding=DeterministicFakeEmbedding(size=16))
    assert isinstance(RagsiloVectorStore(hash_silo).embeddings, RagsiloEmbeddings)
    vector = RagsiloVectorStore(hash_silo).embeddings.embed_query("bees")
    assert len(vector) == 16


def test_from_texts_opens_a_silo_with_the_langchain_embedding(tmp_path) -> None:
    emb = DeterministicFakeEmbedding(size=8)
    store = RagsiloVectorStore.from_texts(
        ["alpha beta", "gamma delta"],
        emb,
        [{"n": 1}, {"n": 2}],
        ids=["a", "g"],
        uri=str(tmp_path / "from_texts.db"),
        collection="lc_docs",
        mode="dense",
    )
    try:
        assert store.silo.collection == "lc_docs" and store.embeddings is emb
        found = store.similarity_search_with_relevance_scores("gamma delta", k=2)
        assert found[0][0].id == "g" and found[0][1] == pytest.approx(1.0, abs=1e-5)
        assert store.similarity_search_by_vector(emb.embed_query("alpha beta"), k=1)[0].id == "a"
    finally:
        store.close()


def test_tenants_keep_their_documents_apart(tmp_path, hash_embedder) -> None:
    silo = open_silo(tmp_path, hash_embedder, collection={"tenants": True})
    try:
        acme = RagsiloVectorStore(silo, tenant="acme")
        other = RagsiloVectorStore(silo, tenant="other")
        acme.add_texts(["acme's secret plan"], ids=["p"])
        other.add_texts(["other's public note"], ids=["n"])
        assert [d.id for d in acme.similarity_search("plan", k=5)] == ["p"]
        assert other.get_by_ids(["p"]) == []
        other.delete(["p"])  # not other's: stays
        assert [d.id for d in acme.get_by_ids(["p"])] == ["p"]
        with pytest.raises(InputError, match="tenant"):
            RagsiloVectorStore(silo)
    finally:
        silo.close()


def test_bad_input_says_what_to_do(store) -> None:
    with pytest.raises(InputError, match="one id per text"):
        store.add_texts(["a", "b"], ids=["1"])
    with pytest.raises(InputError, match="JSON"):
        store.add_texts(["a"], [{"when": object()}])
    with pytest.raises(InputError, match="64 bytes"):
        store.add_texts(["a"], ids=["x" * 65])
    with pytest.raises(InputError, match="drop the collection"):
        store.delete()
    store.delete(filter={"topic": "bees"})
    assert store.get_by_ids(["b"]) == []
    assert Document(page_content="x") is not None

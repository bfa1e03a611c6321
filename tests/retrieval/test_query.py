"""One checked search request: each check of a Query, with the error a user sees, and a Silo
(on the in-memory store) that takes a Query where it takes keyword arguments."""

from __future__ import annotations

import numpy as np
import pytest

import ragsilo
from ragsilo.errors import CapabilityError, ConfigError, FilterError, InputError
from ragsilo.retrieval.query import Query
from ragsilo.settings import Settings
from ragsilo.silo import Silo
from ragsilo.store.memory import InMemoryStore

TEXTS = [
    "Compost piles heat up to sixty degrees when microbes break down green matter.",
    "Turn the compost pile every week so that air reaches the middle.",
    "Honey bees live in colonies with one queen and thousands of workers.",
]


def _settings(**sections: object) -> Settings:
    return Settings.model_validate({"ingest": {"journal": False}, **sections})


@pytest.fixture
def silo(hash_embedder) -> Silo:
    s = Silo(_settings(), store=InMemoryStore(), embedder=hash_embedder)
    s.ingest_texts(TEXTS)
    return s


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "fuzzy"}, "search mode 'fuzzy' is unknown; choose dense, bm25, hybrid"),
        ({"route": -1}, "route must be a whole number of clusters (0: all), not -1"),
        ({"route": True}, "route must be a whole number of clusters"),
        ({"consistency_level": "Always"}, "consistency level 'Always' is unknown"),
        ({"output_fields": ["secret"]}, "unknown output field 'secret'; choose from"),
        ({"output_fields": "file_sha256"}, "a list of field names, not one string"),
        ({"k": "5"}, "k must be a whole number"),
        ({"k": 2.5}, "k must be a whole number"),
        ({"rerank": ""}, "rerank must name a reranker"),
        ({"where": ["source", "a.md"]}, "where must map field names to values"),
        ({"filter": 3}, "filter must be a Milvus expression string"),
    ],
)
def test_a_bad_query_is_refused_when_it_is_made(options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Query("compost", **options)


def test_text_must_be_a_string() -> None:
    with pytest.raises(InputError, match="the query must be text, not bytes"):
        Query(b"compost")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        (Query("compost", k=0), InputError, r"k must be a whole number from 1 to 1024 \(search"),
        (Query("compost", k=1025), InputError, "from 1 to 1024"),
        (Query("   "), InputError, "the query is empty"),
        (Query("x" * 4001), InputError, "the query is 4001 characters; the limit is 4000"),
        (Query("compost", tenant="acme"), ConfigError, "collection.tenants is off"),
        (Query("compost", where={"nope": 1}), FilterError, "nope"),
    ],
)
def test_the_checks_that_need_the_settings(query: Query, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        query.options(_settings())


def test_a_multi_tenant_silo_needs_a_valid_tenant() -> None:
    settings = _settings(collection={"tenants": True})
    with pytest.raises(InputError, match="is multi-tenant: name the tenant"):
        Query("compost").options(settings)
    with pytest.raises(FilterError, match="tenant 'a b' is invalid"):
        Query("compost", tenant="a b").options(settings)
    opts = Query("compost", tenant="acme", where={"source": "a.md"}).options(settings)
    assert opts.filter.startswith('tenant == "acme" and (')


def test_options_fill_the_defaults_and_say_what_was_asked_for() -> None:
    settings = _settings(retrieval={"mode": "hybrid", "rerank": "mmr", "route_clusters": 2})
    opts = Query("compost", output_fields=["file_sha256"]).options(settings)
    assert (opts.k, opts.mode, opts.rerank, opts.route) == (5, "hybrid", "mmr", 2)
    assert not opts.rerank_given and not opts.route_given
    assert opts.output_fields[-1] == "file_sha256" and "text" in opts.output_fields
    given = Query("compost", k=3, mode="dense", rerank="none", route=0).options(settings)
    assert (given.k, given.mode, given.rerank, given.route) == (3, "dense", "none", 0)
    assert given.rerank_given and given.route_given


def test_a_vector_query_needs_no_text_but_bm25_does() -> None:
    vector = np.ones(16, dtype=np.float32)
    assert Query("", vector=vector, mode="dense").options(_settings()).mode == "dense"
    with pytest.raises(InputError, match="the query is empty"):
        Query("", vector=vector, mode="bm25").options(_settings())


def test_query_is_a_frozen_value() -> None:
    q = Query("compost", k=3, where={"source": "a.md"})
    assert q == Query("compost", k=3, where={"source": "a.md"})
    assert q.replace(k=4).k == 4 and q.k == 3
    with pytest.raises(AttributeError):
        q.k = 9  # type: ignore[misc]
    with pytest.raises(InputError, match="search mode 'x' is unknown"):
        q.replace(mode="x")  # a copy is checked again
    assert repr(q) == "Query(text='compost', k=3, where={'source': 'a.md'})"
    assert ragsilo.Query is Query


def test_query_of_takes_a_query_or_keywords_not_both() -> None:
    q = Query("compost", k=2)
    assert Query.of(q) is q
    assert Query.of("compost", k=2, mode=None) == q
    with pytest.raises(InputError, match=r"not both \(got k, mode\)"):
        Query.of(q, k=3, mode="dense")


def test_silo_search_takes_a_query_and_finds_the_same(silo: Silo) -> None:
    by_keywords = silo.search("compost heat", k=2)
    by_query = silo.search(Query("compost heat", k=2))
    assert [h.id for h in by_query] == [h.id for h in by_keywords] and len(by_query) == 2
    result = silo.retrieve(Query("compost heat", k=1, output_fields=["file_sha256"]))
    assert result.mode == "dense" and "file_sha256" in result.hits[0].fields
    with pytest.raises(InputError, match="not both"):
        silo.search(Query("compost heat"), k=2)


def test_silo_search_vector_takes_a_query_with_a_vector(silo: Silo) -> None:
    vector = silo.embed_query(TEXTS[2])
    hits = silo.search_vector(Query(vector=vector, k=1))
    assert hits[0].text == TEXTS[2]
    assert [h.id for h in silo.search_vector(vector, k=1)] == [hits[0].id]
    with pytest.raises(InputError, match="needs a Query with a vector"):
        silo.search_vector(Query("compost"))


def test_silo_checks_bm25_before_any_work(hash_embedder) -> None:
    store = InMemoryStore()
    silo = Silo(_settings(), store=store, embedder=hash_embedder)
    silo.ingest_texts(TEXTS)
    if store.info.bm25:
        pytest.skip("this in-memory store answers BM25")
    with pytest.raises(CapabilityError):
        silo.search(Query("compost", mode="bm25"))


def test_silo_ask_takes_a_query(silo: Silo) -> None:
    by_keywords = silo.ask("when does compost heat up?", k=2)
    by_query = silo.ask(Query("when does compost heat up?", k=2))
    assert by_query.text == by_keywords.text
    assert [h.id for h in by_query.citations] == [h.id for h in by_keywords.citations]
    hits, vector = silo.ask_context(Query("when does compost heat up?"))
    assert 1 <= len(hits) <= 5 and vector.shape == (16,)
    with pytest.raises(InputError, match="not both"):
        silo.ask(Query("when does compost heat up?"), k=3)
    stream = silo.ask_stream(Query("when does compost heat up?", k=2))
    assert "".join(stream) == by_keywords.text

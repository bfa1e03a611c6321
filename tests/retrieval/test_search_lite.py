"""dense, bm25 and hybrid search on Milvus Lite with the real embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, RRFRanker

from ragsilo.errors import InputError, RerankError, SchemaMismatchError
from ragsilo.settings import load_settings
from ragsilo.silo import Silo

pytestmark = [pytest.mark.lite, pytest.mark.embed]

TEXTS = [
    ("Honey bees tell each other where flowers are with a waggle dance.", {"name": "bees"}),
    ("Part number XQ-7781 is the replacement gasket for the pump housing.", {"name": "gasket"}),
    ("Volcanoes erupt when molten rock rises through the crust.", {"name": "volcano"}),
    ("Studies of insulin signalling in liver cells show less glucose output.", {"name": "liver"}),
    ("Glaciers are slow rivers of ice that carve valleys.", {"name": "glacier"}),
]


@pytest.fixture
def silo(lite_uri: str, embedder):
    s = Silo.open(load_settings(None, {"milvus": {"uri": lite_uri}}), embedder=embedder)
    s.ingest_texts(TEXTS)
    yield s
    s.close()


def names(hits) -> list[str]:
    return [Path(h.source).name for h in hits]


def test_bm25_finds_a_rare_exact_term_and_stems_english(silo: Silo) -> None:
    hits = silo.search("XQ-7781", mode="bm25", k=2)
    assert names(hits)[0] == "gasket" and hits[0].score > 0
    # "signals" and "cell" match "signalling" and "cells" only through the stemmer
    assert names(silo.search("insulin signals in a liver cell", mode="bm25", k=1)) == ["liver"]
    assert silo.search("the and of", mode="bm25") == []  # only stop words: nothing to match


def test_hybrid_fuses_both_lists_like_milvus_rrf(silo: Silo) -> None:
    query = "XQ-7781 pump seal"
    result = silo.retrieve(query, mode="hybrid", k=5)
    assert result.mode == "hybrid" and names(result.hits)[0] == "gasket"
    # the same fusion as Milvus's own hybrid_search with an RRF ranker (k = 60)
    vec = silo.embed_query(query)
    reqs = [
        AnnSearchRequest(
            data=[vec.tolist()], anns_field="vector", param={"metric_type": "COSINE"}, limit=50
        ),
        AnnSearchRequest(
            data=[silo.store.bm25_terms(query)],
            anns_field="sparse",
            param={"metric_type": "BM25"},
            limit=50,
        ),
    ]
    theirs = silo.store.client.hybrid_search(silo.collection, reqs, ranker=RRFRanker(60), limit=5)
    assert [h.id for h in result.hits] == [str(h["id"]) for h in theirs[0]]
    ratio = [h.score / float(t["distance"]) for h, t in zip(result.hits, theirs[0], strict=True)]
    assert np.allclose(ratio, 0.5)  # our default weights are 0.5 and 0.5


def test_weighted_fusion_scores_lie_between_zero_and_one(silo: Silo) -> None:
    silo.settings.retrieval.fusion = "weighted"
    hits = silo.search("molten rock", mode="hybrid", k=5)
    assert names(hits)[0] == "volcano" and all(0.0 <= h.score <= 1.0 for h in hits)
    assert hits[0].score == pytest.approx(1.0)


def test_k_larger_than_the_collection_returns_everything(silo: Silo) -> None:
    for mode in ("dense", "hybrid"):
        assert len(silo.search("ice", mode=mode, k=500)) == 5


def test_bad_modes_rerankers_and_routes_are_refused_and_data_kept(silo: Silo) -> None:
    with pytest.raises(InputError, match="search mode 'fuzzy' is unknown"):
        silo.search("bees", mode="fuzzy")
    with pytest.raises(InputError, match="reranker 'best' is unknown"):
        silo.search("bees", rerank="best")
    with pytest.raises(InputError, match="route"):
        silo.search("bees", route=-1)
    with pytest.raises(RerankError, match="boom"):
        silo.search("bees", rerank="custom:tests.rerank.plugins:explode")
    assert silo.stats().rows == 5


def test_mmr_and_custom_rerankers_through_the_facade(silo: Silo) -> None:
    plain = silo.search("rivers of ice and molten rock", k=3)
    mmr = silo.search("rivers of ice and molten rock", k=3, rerank="mmr")
    assert {h.id for h in mmr} <= {h.id for h in silo.search("rivers of ice", k=50)}
    assert mmr[0].id == plain[0].id
    rev = silo.search("bees", k=5, rerank="custom:tests.rerank.plugins:reverse")
    assert names(rev)[-1] == "bees"


def test_another_analyzer_is_a_schema_mismatch(silo: Silo, lite_uri: str, embedder) -> None:
    other = Silo.open(
        load_settings(None, {"milvus": {"uri": lite_uri}, "retrieval": {"analyzer": "standard"}}),
        embedder=embedder,
    )
    try:
        with pytest.raises(SchemaMismatchError, match="retrieval.analyzer"):
            other.search("bees")
    finally:
        other.close()


def test_chinese_text_with_the_chinese_analyzer(tmp_path: Path, embedder) -> None:
    pytest.importorskip("jieba")
    settings = load_settings(
        None, {"milvus": {"uri": str(tmp_path / "zh.db")}, "retrieval": {"analyzer": "chinese"}}
    )
    with Silo.open(settings, embedder=embedder) as silo:
        silo.ingest_texts(
            [
                ("北京是中华人民共和国的首都，也是政治和文化中心。", {"name": "beijing"}),
                ("今天天气很好，我们去公园散步吧。", {"name": "park"}),
                ("上海是中国最大的经济中心城市。", {"name": "shanghai"}),
            ]
        )
        assert names(silo.search("公园散步", mode="bm25", k=1)) == ["park"]
        assert names(silo.search("首都", mode="bm25", k=1)) == ["beijing"]
        assert names(silo.search("经济中心", mode="bm25", k=1)) == ["shanghai"]
        assert "shanghai" in names(silo.search("经济中心", mode="hybrid", k=2))

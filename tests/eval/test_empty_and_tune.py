"""Empty corpus documents in ``eval``, and the statistics and inputs of ``tune``."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from ragsilo.errors import InputError
from ragsilo.eval import load_beir, run_eval
from ragsilo.eval.tune import (
    CLUSTER_WEIGHTS,
    QueryPool,
    TuneSetting,
    bootstrap_ci,
    cross_validate,
    default_grid,
    doc_key,
    load_question_csv,
    rank_documents,
    source_key,
)
from ragsilo.settings import load_settings

from .conftest import TINY_DOCS, TINY_QRELS, TINY_QUERIES, write_beir

EMPTY_DOCS = {**TINY_DOCS, "e1": ("", ""), "e2": ("  ", "\n")}


def test_empty_documents_are_counted_and_left_out(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "e", EMPTY_DOCS, TINY_QUERIES, [*TINY_QRELS, ("q1", "e1", 1)])
    data = load_beir(root)
    assert data.empty_documents == ("e1", "e2")
    assert set(data.corpus) == set(TINY_DOCS) and data.qrels["q1"] == {"d1": 1}


def test_a_document_without_text_is_its_title_or_empty(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "e", TINY_DOCS, TINY_QUERIES, TINY_QRELS)
    with (root / "corpus.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"_id": "t1", "title": "A title alone", "text": null}\n')
        f.write('{"_id": "t2", "title": ""}\n')
        f.write('{"_id": "t3", "title": "Numbers", "text": 12}\n')
    with pytest.raises(InputError, match=r"corpus.jsonl:\d+: 'text' is not a string"):
        load_beir(root)
    lines = (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:-1]
    (root / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_beir(root)
    assert data.corpus["t1"] == ("A title alone", "")
    assert data.empty_documents == ("t2",)


def test_a_corpus_of_only_empty_documents_says_so(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "e", {"e1": ("", "")}, TINY_QUERIES, [("q1", "e1", 1)])
    with pytest.raises(InputError, match="no documents with text"):
        load_beir(root)


@pytest.mark.lite
def test_eval_warns_about_empty_documents_and_scores_the_rest(
    tmp_path: Path, hash_embedder, caplog
) -> None:
    from ragsilo.silo import Silo

    root = write_beir(tmp_path / "e", EMPTY_DOCS, TINY_QUERIES, TINY_QRELS)
    data = load_beir(root)
    settings = load_settings(None, {"milvus": {"uri": str(tmp_path / "e.db")}})
    with (
        Silo.open(settings, embedder=hash_embedder) as silo,
        caplog.at_level(logging.WARNING, logger="ragsilo.eval.runner"),
    ):
        report = run_eval(silo, data, modes=["bm25"], rerankers=["none"], depth=10)
    assert report.empty_documents == 2 and report.documents == 5 and report.queries == 3
    assert "2 documents of e are empty and left out (e1, e2)" in caplog.text
    assert report.to_dict()["empty_documents"] == 2
    assert report.search_k == 30  # three chunks per document of the depth scored
    assert report.rows[0].ndcg_at_10 > 0.5  # BM25 finds the tiny set's answers


def test_bootstrap_interval_brackets_the_mean_and_is_seeded() -> None:
    deltas = np.random.default_rng(1).normal(0.05, 0.1, size=200)
    lo, hi = bootstrap_ci(deltas)
    assert lo < deltas.mean() < hi and hi - lo < 0.05
    assert bootstrap_ci(deltas) == (lo, hi)
    assert bootstrap_ci([0.0] * 10) == (0.0, 0.0)


def test_cross_validation_scores_each_fold_on_held_out_queries() -> None:
    base, good, lucky = TuneSetting("dense"), TuneSetting("bm25"), TuneSetting("hybrid")
    n = 20
    per_query = {
        base: [0.5] * n,
        good: [0.7] * n,  # better everywhere
        lucky: [1.0] + [0.4] * (n - 1),  # one great query, worse elsewhere
    }
    gains, chosen = cross_validate(per_query, base, folds=5)
    assert chosen == [good] * 5 and len(gains) == n
    assert np.allclose(gains, 0.2)
    # a setting no better than the baseline is never chosen over it (ties go to the baseline)
    gains, chosen = cross_validate({base: [0.5] * n, good: [0.5] * n}, base, folds=4)
    assert chosen == [base] * 4 and not any(gains)


def test_question_csv(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text(
        "Question,Expected_Source\nHow hot is compost?,docs/compost.md\n"
        "How hot is compost?,docs/heat.md\n\nWhat do moles eat?,moles.txt\n",
        encoding="utf-8",
    )
    data = load_question_csv(f)
    assert data.by_source and list(data.queries.values()) == [
        "How hot is compost?",
        "What do moles eat?",
    ]
    assert data.qrels["q1"] == {"docs/compost.md": 1, "docs/heat.md": 1}
    f.write_text("query,answer\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="'question' and a 'source' column"):
        load_question_csv(f)
    f.write_text("question,source\nx,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"q\.csv:2: both a question and an expected source"):
        load_question_csv(f)
    with pytest.raises(InputError, match="does not exist"):
        load_question_csv(tmp_path / "none.csv")


def test_sources_match_exactly_or_as_a_path_suffix() -> None:
    key = source_key(["docs/compost.md", "moles.txt"])
    assert key("/home/me/kb/docs/compost.md") == "docs/compost.md"
    assert key("moles.txt") == "moles.txt"
    assert key("/kb/notmoles.txt") == "/kb/notmoles.txt"


def test_the_grid_and_what_a_setting_writes() -> None:
    grid = default_grid(bm25=True)
    assert len(grid) == len(set(grid)) == 8 * 5
    assert default_grid(bm25=False) == [TuneSetting("dense")] + [
        TuneSetting("dense", rerank="cluster_smooth", cluster_weight=w) for w in CLUSTER_WEIGHTS
    ]
    s = TuneSetting("hybrid", "weighted", 0.7, "cluster_smooth", 0.3)
    assert s.retrieval_section() == {
        "mode": "hybrid",
        "rerank": "cluster_smooth",
        "fusion": "weighted",
        "weights": {"dense": 0.7, "bm25": 0.3},
        "cluster_weight": 0.3,
    }
    assert s.label == "hybrid weighted dense=0.7 cluster_smooth w=0.3"
    load_settings(None, {"retrieval": s.retrieval_section()})  # what is written loads


def test_tune_ranks_cluster_smooth_from_the_candidates_vectors_like_the_reranker() -> None:
    from ragsilo.models import Hit
    from ragsilo.rerank import RerankContext, create_reranker

    # d0 and d2 are of one topic; d1, as good as d2, sits apart, among the weak hits
    vecs = np.asarray(
        [[1, 0, 0], [0, 1, 0], [0.99, 0.1, 0]] + [[0, 0.9, 0.4 + i / 10] for i in range(5)]
    )
    scores = [0.9, 0.8, 0.8, 0.3, 0.28, 0.26, 0.24, 0.22]
    rows = [
        {"id": f"c{i}", "distance": s, "source": f"beir://t/d{i}", "vector": v.tolist()}
        for i, (s, v) in enumerate(zip(scores, vecs, strict=True))
    ]
    pool = QueryPool(None, rows, [])
    base = load_settings(None).retrieval
    smooth = rank_documents(pool, TuneSetting("dense", rerank="cluster_smooth"), base, doc_key)
    plain = rank_documents(pool, TuneSetting("dense"), base, doc_key)
    assert plain[:3] == ["d0", "d1", "d2"] and smooth[:3] == ["d0", "d2", "d1"]
    hits = [Hit(r["id"], r["distance"], r["id"], r["source"], "", None, None, 0, "") for r in rows]
    ctx = RerankContext("q", None, vecs.astype(np.float32), np.full(8, -1), None)
    reranked = create_reranker("cluster_smooth").rerank(hits, ctx)
    assert smooth == [doc_key(h.source) for h in reranked]
    # without the vectors it cannot score cluster_smooth, and says what to do
    bare = QueryPool(None, [{k: v for k, v in r.items() if k != "vector"} for r in rows], [])
    with pytest.raises(InputError, match="collect_pools"):
        rank_documents(bare, TuneSetting("dense", rerank="cluster_smooth"), base, doc_key)

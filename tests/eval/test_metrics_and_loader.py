"""Metrics on rankings computed by hand, and the BEIR loader on good and bad folders."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ragsilo.errors import InputError
from ragsilo.eval import dedupe, load_beir, mrr_at_k, ndcg_at_k, recall_at_k

from .conftest import TINY_DOCS, TINY_QRELS, TINY_QUERIES, write_beir


def test_ndcg_by_hand() -> None:
    qrels = {"a": 1, "b": 1}
    # hits at ranks 2 and 3: (1/log2 3 + 1/log2 4) / (1 + 1/log2 3)
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "a", "b"], qrels, 10) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], qrels, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], qrels, 10) == 0.0
    assert ndcg_at_k(["x", "a"], qrels, 1) == 0.0  # the cut-off applies
    graded = {"a": 2, "b": 1}
    assert ndcg_at_k(["b", "a"], graded, 2) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )


def test_recall_and_mrr_by_hand() -> None:
    qrels = {"a": 1, "b": 1, "c": 1, "z": 0}
    assert recall_at_k(["a", "x", "c"], qrels, 100) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "x", "c"], qrels, 2) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "c"], qrels, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["z", "y"], qrels, 10) == 0.0
    assert mrr_at_k(["x", "y", "c"], qrels, 2) == 0.0


def test_dedupe_keeps_each_documents_best_place() -> None:
    assert dedupe(["d2", "d1", "d2", "d3", "d1"]) == ["d2", "d1", "d3"]


def test_loader_reads_a_beir_folder(tiny_beir: Path) -> None:
    data = load_beir(tiny_beir)
    assert data.name == "tiny" and len(data.corpus) == 5 and len(data.queries) == 3
    assert data.qrels["q2"] == {"d2": 1} and data.corpus["d1"][0] == "Honey bees"


def test_slices_keep_judged_documents_first(tiny_beir: Path) -> None:
    data = load_beir(tiny_beir, limit_docs=2, limit_queries=2)
    assert list(data.corpus) == ["d1", "d2"] and set(data.qrels) == {"q1", "q2"}
    data = load_beir(tiny_beir, limit_docs=4)
    assert set(data.corpus) == {"d1", "d2", "d5", "d3"} and len(data.qrels) == 3


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda r: (r / "corpus.jsonl").unlink(), "corpus.jsonl' is missing"),
        (lambda r: (r / "qrels" / "test.tsv").unlink(), "test.tsv' is missing"),
        (lambda r: (r / "corpus.jsonl").write_text("{not json\n"), "not valid JSON"),
        (lambda r: (r / "corpus.jsonl").write_text('{"_id": "x"}\n'), "holds no documents"),
        (lambda r: (r / "queries.jsonl").write_text('{"_id": "q1"}\n'), "'text' is missing"),
        (lambda r: (r / "qrels" / "test.tsv").write_text("h\th\th\nq1\td1\n"), "expected query-id"),
        (lambda r: (r / "qrels" / "test.tsv").write_text("q\td\ts\nq9\td1\t1\n"), "no query"),
        (lambda r: (r / "qrels" / "test.tsv").write_text("q\td\ts\nq1\td1\thigh\n"), "not a whole"),
        (lambda r: (r / "qrels" / "test.tsv").write_text("q\td\ts\nq1\td1\t0.5\n"), "not a whole"),
    ],
)
def test_a_broken_dataset_names_its_problem(tmp_path: Path, breakage, message: str) -> None:
    root = write_beir(tmp_path / "b", TINY_DOCS, TINY_QUERIES, TINY_QRELS)
    breakage(root)
    with pytest.raises(InputError, match=message):
        load_beir(root)


@pytest.mark.parametrize(
    "qrels",
    [
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq3\td3\t0\n",  # BEIR
        "q1\td1\t1\nq2\td2\t2\nq3\td3\t0\n",  # no header
        "q1 d1 1\nq2  d2 2\nq3 d3 0\n",  # spaces
        "q1 0 d1 1\nq2 0 d2 2\nq3 0 d3 0\n",  # TREC: query, iteration, document, score
        "q1\td1\t1.0\r\nq2\td2\t2\r\n\r\nq3\td3\t0\r\n",  # Windows lines, a float score
    ],
)
def test_qrels_in_the_usual_layouts(tmp_path: Path, qrels: str) -> None:
    root = write_beir(tmp_path / "q", TINY_DOCS, TINY_QUERIES, TINY_QRELS)
    (root / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8", newline="")
    data = load_beir(root)
    assert data.qrels == {"q1": {"d1": 1}, "q2": {"d2": 2}}  # a score of 0 is not relevant


def test_missing_folder_and_bad_limits(tmp_path: Path, tiny_beir: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_beir(tmp_path / "nowhere")
    with pytest.raises(InputError, match="at least 1"):
        load_beir(tiny_beir, limit_docs=0)

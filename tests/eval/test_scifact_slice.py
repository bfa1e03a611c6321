"""``run_eval`` end to end on a slice of the real SciFact data (60 documents, 10 queries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragsilo.eval import ingest_dataset, load_beir, run_eval
from ragsilo.settings import load_settings
from ragsilo.silo import Silo

from .conftest import SCIFACT

pytestmark = [pytest.mark.lite, pytest.mark.embed]


def test_scifact_slice_scores_every_mode_and_reranker(tmp_path: Path, embedder) -> None:
    if not (SCIFACT / "corpus.jsonl").is_file():
        pytest.skip(f"SciFact is not at {SCIFACT}")
    data = load_beir(SCIFACT, limit_docs=60, limit_queries=10)
    assert len(data.corpus) == 60 and len(data.qrels) == 10
    settings = load_settings(
        None,
        {
            "milvus": {"uri": str(tmp_path / "e.db")},
            "collection": {"name": "eval_slice"},
        },
    )
    with Silo.open(settings, embedder=embedder) as silo:
        report = run_eval(
            silo,
            data,
            modes=["dense", "bm25", "hybrid"],
            rerankers=["none", "cluster_size"],
            depth=20,
        )
        assert report.documents == 60 and report.queries == 10 and report.clusters > 1
        assert report.chunks_written == report.chunks >= 60
        rows = {(r.mode, r.rerank): r for r in report.rows}
        assert len(rows) == 6
        for r in report.rows:
            assert 0 <= r.ndcg_at_10 <= 1 and 0 <= r.mrr_at_10 <= 1 and r.p50_ms > 0
        # a 60-document corpus holding every judged document is easy for all three modes
        for mode in ("dense", "bm25", "hybrid"):
            assert rows[(mode, "none")].ndcg_at_10 > 0.6, rows[(mode, "none")]
        assert ingest_dataset(silo, data)[0] == 0  # a second run writes nothing

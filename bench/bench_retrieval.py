"""Retrieval quality on a BEIR dataset (SciFact): every mode × reranker, plus sweeps of the
settings that shape them, printed as markdown tables for BENCHMARKS.md.

Uses the same code as ``ragsilo eval`` (the corpus is ingested once into the eval
collection and reused; run ``ragsilo eval`` first to pay for the embedding
separately).

    python bench/bench_retrieval.py --uri /tmp/ragsilo-bench/scifact.db \\
        --dataset ../shared/datasets/scifact
    python bench/bench_retrieval.py --uri ... --sweep-candidates 10 20 50 \\
        --sweep-mmr 0.5 0.7 0.9 --sweep-fusion rrf weighted
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import machine  # noqa: E402

from ragsilo.eval import load_beir, run_eval  # noqa: E402
from ragsilo.eval.runner import EvalRow  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402

RERANKERS = ["none", "cluster_smooth", "cluster_distance", "cluster_size", "centroid_query", "mmr"]


def table(title: str, rows: list[tuple[str, EvalRow]]) -> None:
    print(f"\n{title}\n")
    print("| setting | mode | rerank | nDCG@10 | Recall@100 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(
            f"| {label} | {r.mode} | {r.rerank} | {r.ndcg_at_10:.4f} | {r.recall_at_100:.4f} "
            f"| {r.mrr_at_10:.4f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--collection", default=None, help="default: eval_<dataset>")
    ap.add_argument("--modes", nargs="+", default=["dense", "bm25", "hybrid"])
    ap.add_argument("--rerankers", nargs="+", default=RERANKERS)
    ap.add_argument("--sweep-candidates", type=int, nargs="*", default=[])
    ap.add_argument("--sweep-mmr", type=float, nargs="*", default=[])
    ap.add_argument("--sweep-fusion", nargs="*", default=[])
    ap.add_argument("--sweep-rrf-k", type=int, nargs="*", default=[])
    ap.add_argument("--limit-queries", type=int, default=None)
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)

    data = load_beir(args.dataset, limit_queries=args.limit_queries)
    name = args.collection or f"eval_{data.name}"
    settings = load_settings(None, {"milvus": {"uri": args.uri}, "collection": {"name": name}})
    with Silo.open(settings) as silo:
        print(
            f"# {data.name}: {len(data.corpus)} docs, {len(data.qrels)} queries; "
            f"{silo.info.kind} {silo.info.version}; {machine()}; load {os.getloadavg()}"
        )
        report = run_eval(silo, data, modes=args.modes, rerankers=args.rerankers)
        print(
            f"# {report.chunks} chunks, {report.clusters} clusters, query embedding p50 "
            f"{report.embed_p50_ms:.1f} ms"
        )
        r = silo.settings.retrieval
        table(
            f"Every mode × reranker (candidates {r.candidates}, mmr_lambda {r.mmr_lambda}, "
            f"fusion {r.fusion}, rrf_k {r.rrf_k})",
            [("defaults", x) for x in report.rows],
        )
        sweeps = [
            ("candidates", args.sweep_candidates, ["dense", "hybrid"], RERANKERS[1:]),
            ("mmr_lambda", args.sweep_mmr, ["dense", "hybrid"], ["mmr"]),
            ("fusion", args.sweep_fusion, ["hybrid"], ["none"]),
            ("rrf_k", args.sweep_rrf_k, ["hybrid"], ["none"]),
        ]
        for field, values, modes, rerankers in sweeps:
            if not values:
                continue
            rows: list[tuple[str, EvalRow]] = []
            original = getattr(silo.settings.retrieval, field)
            for v in values:
                setattr(silo.settings.retrieval, field, v)
                out = run_eval(silo, data, modes=modes, rerankers=rerankers)
                rows.extend((f"{field}={v}", x) for x in out.rows)
            setattr(silo.settings.retrieval, field, original)
            table(f"Sweep of retrieval.{field}", rows)
        print(f"\n# load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

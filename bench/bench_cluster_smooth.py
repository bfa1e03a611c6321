"""Cluster-aware ranking on the public BEIR sets: ``none`` against ``cluster_smooth`` (a sweep
of ``retrieval.cluster_weight``) and the four cluster strategies, for dense and hybrid search,
plus the distinct relevant documents an ``ask`` context holds.

Each corpus (or a fixed subset: every document judged for a query, plus a seeded random
sample of the others, ``--docs``) is ingested once into a Milvus Lite file of its own and
reused by every run, so the embedding is paid once.

    python bench/bench_cluster_smooth.py prepare --dir /tmp/ranking-bench \\
        --dataset ../shared/datasets/scifact --docs 2500
    python bench/bench_cluster_smooth.py run --dir /tmp/ranking-bench \\
        --dataset ../shared/datasets/scifact --docs 2500 --weights 0 0.1 0.2 0.3 0.5
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ragsilo.eval import load_beir  # noqa: E402
from ragsilo.eval.beir import BeirDataset  # noqa: E402
from ragsilo.eval.runner import ingest_dataset  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402


def subset(data: BeirDataset, docs: int | None, seed: int = 0) -> BeirDataset:
    """Every judged document plus a seeded random sample of the rest, ``docs`` in all."""
    if docs is None or docs >= len(data.corpus):
        return data
    judged = {d for q in data.qrels.values() for d in q}
    rest = sorted(d for d in data.corpus if d not in judged)
    random.Random(seed).shuffle(rest)
    keep = judged | set(rest[: max(0, docs - len(judged))])
    corpus = {d: v for d, v in data.corpus.items() if d in keep}
    return BeirDataset(data.name, data.path, corpus, data.queries, data.qrels)


def open_silo(directory: Path, data: BeirDataset, extra: dict | None = None) -> Silo:
    overrides = {
        "milvus": {"uri": str(directory / f"{data.name}-{len(data.corpus)}.db")},
        "collection": {"name": f"eval_{data.name}"},
    }
    for key, value in (extra or {}).items():
        overrides.setdefault(key, {}).update(value)
    return Silo.open(load_settings(None, overrides))


def prepare(args: argparse.Namespace) -> None:
    data = subset(load_beir(args.dataset), args.docs)
    started = time.perf_counter()
    with open_silo(args.dir, data) as silo:
        written, seconds = ingest_dataset(
            silo, data, progress=lambda s, d, t: print(f"{s} {d}/{t}", flush=True)
        )
        silo.recluster()
        print(
            f"# {data.name}: {len(data.corpus)} docs, {written} chunks written in {seconds:.0f} s, "
            f"{silo.stats().rows} rows; total {time.perf_counter() - started:.0f} s; "
            f"load {os.getloadavg()}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("prepare", "run"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, required=True)
        p.add_argument("--dataset", type=Path, required=True)
        p.add_argument("--docs", type=int, default=None)
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.command == "prepare":
        prepare(args)


if __name__ == "__main__":
    main()

"""The reranker's extra latency as a collection grows, on Milvus Lite.

A reranking search returns ``retrieval.candidates`` (50) hits where a plain dense search at
k = 5 returns 5, and Milvus Lite spends a fixed time on each returned hit
(``bench_lite_hits.py``), while the rest of its search walks every stored row. So the
reranker's share of a search falls as the collection grows. This builds collections of the
real SciFact chunk vectors and derived variants of them (the way ``bench_routing.py`` does:
each real chunk plus ``copies`` mixes of it with another chunk), one per ``--copies`` value,
clusters each (one partition), and times ``Silo.search`` with ``none`` and
``cluster_smooth`` on the real SciFact queries, every configuration taking its turn on each
query.

    python bench/bench_cluster_smooth.py prepare --dir /tmp/pk --dataset ../shared/datasets/scifact
    python bench/bench_rerank_volume.py --source-uri /tmp/pk/scifact-5183.db \\
        --dir /tmp/rerank-volume --copies 0 3 7
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import DEFAULT_QUERIES, _NoEmbedder, build, derive, read_source  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-uri", required=True, help="Lite file with the eval collection")
    ap.add_argument("--source-collection", default="eval_scifact")
    ap.add_argument("--dir", type=Path, required=True, help="where to build the collections")
    ap.add_argument("--copies", type=int, nargs="+", default=[0, 3, 7])
    ap.add_argument("--ks", type=int, nargs="+", default=[5, 50])
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="keep collections of an earlier run")
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)

    from ragsilo.embedding import create_embedder
    from ragsilo.settings import EmbeddingSettings

    rows, real = read_source(args.source_uri, args.source_collection)
    queries = [json.loads(x)["text"] for x in DEFAULT_QUERIES.read_text().splitlines() if x]
    queries = queries[: args.queries]
    qvecs = create_embedder(EmbeddingSettings()).embed(queries)
    args.dir.mkdir(parents=True, exist_ok=True)
    print("| rows | k | p50 ms none | p50 ms cluster_smooth | extra | load |")
    print("|---:|---:|---:|---:|---:|---|")
    for copies in args.copies:
        chunks, vectors = derive(rows, real, copies, seed=0)
        over = {
            "milvus": {"uri": str(args.dir / f"volume-{copies}.db")},
            "collection": {"name": "volume"},
            "clustering": {"partitions": False},
        }
        silo = build(over, chunks, vectors, _NoEmbedder(vectors.shape[1]), reuse=args.reuse)
        try:
            configs = [(k, r) for k in args.ks for r in ("none", "cluster_smooth")]
            times: dict = {c: [] for c in configs}
            load = [os.getloadavg()[0]]
            for round_ in range(args.rounds + 1):  # the first round warms up
                for q, v in zip(queries, qvecs, strict=True):
                    for k, rerank in configs:
                        t = time.perf_counter()
                        silo.search(q, k=k, mode="dense", rerank=rerank, query_vector=v)
                        if round_:
                            times[(k, rerank)].append(time.perf_counter() - t)
                load.append(os.getloadavg()[0])
            for k in args.ks:
                none, smooth = (np.median(times[(k, r)]) * 1000 for r in ("none", "cluster_smooth"))
                print(
                    f"| {len(chunks):,} | {k} | {none:.2f} | {smooth:.2f} | "
                    f"+{(smooth / none - 1) * 100:.0f} % | {min(load):.1f}-{max(load):.1f} |",
                    flush=True,
                )
        finally:
            silo.close()


if __name__ == "__main__":
    main()

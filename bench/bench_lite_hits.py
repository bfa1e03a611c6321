"""What each returned hit costs inside Milvus Lite, apart from the client.

A reranker reorders more candidates than the hits it returns (``retrieval.candidates``, 50),
so its search returns 50 hits where a plain search at k = 5 returns 5. This times Milvus Lite's
own search (``Collection.search`` called in this process, no gRPC, no pymilvus) and its
building of the reply for 5 and for 50 hits, with the output fields ``Silo.search`` asks a
reranking search for, on a copy of a prepared collection; then the same search through
pymilvus's ``MilvusClient`` (gRPC to Milvus Lite's server thread), every hit decoded. The
difference inside, over 45 hits, is the part of a reranker's extra latency that no
client-side work can take away.

    python bench/bench_cluster_smooth.py prepare --dir /tmp/rb --dataset ../shared/datasets/cacm
    python bench/bench_lite_hits.py --db /tmp/rb/cacm-3204.db --collection eval_cacm

It reads Milvus Lite's internals (``milvus_lite.db.MilvusLite``), so it is tied to the
pinned milvus-lite version.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ragsilo.models import HIT_ROW_FIELDS  # noqa: E402
from ragsilo.store.schema import CODE_FIELD, VECTOR_FIELD  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a Milvus Lite folder (*.db)")
    ap.add_argument("--collection", required=True)
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ks", type=int, nargs="+", default=[5, 50])
    ap.add_argument("--profile", action="store_true", help="also print where 50 hits go")
    args = ap.parse_args()

    from milvus_lite.adapter.grpc.translators.result import build_search_result_data
    from milvus_lite.db import MilvusLite
    from pymilvus import MilvusClient

    fields = list(dict.fromkeys([*HIT_ROW_FIELDS, "cluster_id", CODE_FIELD]))
    with tempfile.TemporaryDirectory() as tmp:
        # copies: the original may be open elsewhere, and a Milvus Lite folder is locked to
        # whoever opened it first (the client's server keeps it until the process ends)
        inside, outside = (Path(tmp) / n / args.db.name for n in ("inside", "client"))
        for copy in (inside, outside):
            shutil.copytree(args.db, copy, ignore=shutil.ignore_patterns("LOCK"))
        db = MilvusLite(str(inside))
        client = MilvusClient(str(outside))
        try:
            col = db.get_collection(args.collection)
            col.load()
            client.load_collection(args.collection)
            dim = next(f.dim for f in col.schema.fields if f.name == VECTOR_FIELD)
            queries = np.random.default_rng(0).standard_normal((args.queries, dim))
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)

            def once(k: int, q: np.ndarray) -> tuple[float, float, float]:
                t0 = time.perf_counter()
                hits = col.search(
                    [q.tolist()], top_k=k, output_fields=fields, anns_field=VECTOR_FIELD
                )
                t1 = time.perf_counter()
                build_search_result_data(
                    results=hits, schema=col.schema, top_k=k, pk_name="id", output_fields=fields
                ).SerializeToString()
                t2 = time.perf_counter()
                res = client.search(
                    args.collection,
                    [q.tolist()],
                    limit=k,
                    output_fields=fields,
                    anns_field=VECTOR_FIELD,
                )
                [dict(h) for h in res[0]]  # every hit decoded, as a caller would
                return t1 - t0, t2 - t1, time.perf_counter() - t2

            times: dict[int, list[tuple[float, float, float]]] = {k: [] for k in args.ks}
            load = [os.getloadavg()[0]]
            for round_ in range(args.rounds + 1):
                for q in queries:
                    for k in args.ks:  # every k takes its turn on each query
                        t = once(k, q)
                        if round_:
                            times[k].append(t)
                load.append(os.getloadavg()[0])
            print(
                f"{args.collection}: {args.queries} queries x {args.rounds} rounds; "
                f"load {min(load):.1f}-{max(load):.1f}\n"
            )
            print("| hits | search ms | reply ms | together | through pymilvus ms |")
            print("|---:|---:|---:|---:|---:|")
            inner, outer = {}, {}
            for k in args.ks:
                s, r, c = (statistics.median(t[i] for t in times[k]) * 1000 for i in range(3))
                inner[k], outer[k] = s + r, c
                print(f"| {k} | {s:.2f} | {r:.2f} | {s + r:.2f} | {c:.2f} |")
            lo, hi = min(args.ks), max(args.ks)
            per_hit = (inner[hi] - inner[lo]) / (hi - lo) * 1000
            print(
                f"\n{per_hit:.0f} us per returned hit inside Milvus Lite ({lo} -> {hi} hits); "
                f"through pymilvus {hi} hits take {(outer[hi] / outer[lo] - 1) * 100:+.0f} % "
                f"over {lo}"
            )
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                for q in queries:
                    col.search(
                        [q.tolist()], top_k=hi, output_fields=fields, anns_field=VECTOR_FIELD
                    )
                prof.disable()
                pstats.Stats(prof).sort_stats("tottime").print_stats(12)
        finally:
            client.close()
            db.close()


if __name__ == "__main__":
    main()

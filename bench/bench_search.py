"""Query latency: ``Silo.search`` against raw pymilvus + the same query embedding, and
Milvus Lite's own search latency by collection size and index type.

Overhead (--overhead): ingests --docs real documents into a fresh Lite file, then times each
query both ways, interleaved, in the same process:
  * ragsilo: ``silo.search(query, k)`` (embed, filter build, search, hits);
  * raw: ``embedder.embed([query])`` + ``MilvusClient.search`` with the same parameters and
    output fields.
Target: ragsilo's p50 at most 10 % above raw.

Lite latency (--lite-sizes 10000 100000): fills collections with random unit vectors
(dimension 384, the default model's; latency does not depend on where vectors come from),
flushes, builds each index type and times --queries searches (k=10, vectors only).

    python bench/bench_search.py --overhead --docs 300 --queries 200
    python bench/bench_search.py --lite-sizes 10000 100000 --index-types FLAT HNSW IVF_FLAT
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import DEFAULT_QUERIES, corpus_path, machine, percentile, write_documents  # noqa: E402

from ragsilo.models import Chunk  # noqa: E402
from ragsilo.settings import IndexSettings, MilvusSettings, load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402
from ragsilo.store import MilvusStore, plan_index  # noqa: E402
from ragsilo.store.milvus import DEFAULT_OUTPUT_FIELDS  # noqa: E402
from ragsilo.store.schema import VECTOR_FIELD  # noqa: E402


def overhead(docs: int, n_queries: int, corpus: Path) -> None:
    from _corpus import read_queries

    queries = read_queries(DEFAULT_QUERIES, n_queries)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        write_documents(corpus, Path(tmp) / "docs", docs)
        settings = load_settings(None, {"milvus": {"uri": str(Path(tmp) / "q.db")}})
        with Silo.open(settings) as silo:
            report = silo.ingest([Path(tmp) / "docs"])
            client = silo.store.client
            plan = silo.index_plan
            k = 10
            for q in queries[:5]:  # warm up both paths
                silo.search(q, k=k)
            ours, raw = [], []
            for q in queries:
                t = time.perf_counter()
                silo.search(q, k=k)
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                v = silo.embedder.embed([q])[0]
                client.search(
                    silo.collection,
                    data=[v.tolist()],
                    limit=k,
                    anns_field=VECTOR_FIELD,
                    search_params=plan.search_params(k),
                    output_fields=list(DEFAULT_OUTPUT_FIELDS),
                )
                raw.append(time.perf_counter() - t)
    print(f"# {report.chunks_written} chunks, index {plan.type}, {len(queries)} queries, k={k}")
    print("| path | p50 (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    for name, xs in (("raw pymilvus + embed", raw), ("ragsilo search", ours)):
        print(f"| {name} | {percentile(xs, 50) * 1000:.2f} | {percentile(xs, 95) * 1000:.2f} |")
    print(
        f"overhead p50: {percentile(ours, 50) / percentile(raw, 50) - 1:+.1%}, "
        f"p95: {percentile(ours, 95) / percentile(raw, 95) - 1:+.1%}"
    )


def lite_latency(sizes: list[int], index_types: list[str], n_queries: int, dim: int) -> None:
    rng = np.random.default_rng(0)
    print("| chunks | index | write+flush (s) | background index build (s) | p50 (ms) | p95 (ms) |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        vectors = rng.normal(size=(size, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        queries = vectors[rng.choice(size, n_queries, replace=False)] + rng.normal(
            scale=0.05, size=(n_queries, dim)
        ).astype(np.float32)
        for index_type in index_types:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
                store = MilvusStore.connect(MilvusSettings(uri=str(Path(tmp) / "lat.db")))
                plan = plan_index(IndexSettings(type=index_type), store.info, dim)
                store.ensure_collection("lat", dimension=dim, plan=plan, consistency_level="Strong")
                chunks = [
                    Chunk(
                        f"c{i}",
                        f"d{i // 10}",
                        "s",
                        "-",
                        "text/plain",
                        "",
                        None,
                        None,
                        i % 10,
                        "x",
                        {},
                        10,
                    )
                    for i in range(size)
                ]
                t = time.perf_counter()
                for i in range(0, size, 5000):
                    store.upsert_chunks(
                        "lat", chunks[i : i + 5000], vectors[i : i + 5000], batch_bytes=16 << 20
                    )
                store.flush("lat")
                store.ensure_loaded("lat")
                build_s = time.perf_counter() - t
                settle_s = _wait_for_index(str(Path(tmp) / "lat.db"), "lat")
                times = []
                for q in queries:
                    t = time.perf_counter()
                    store.search("lat", q[None, :], k=10, output_fields=[])
                    times.append(time.perf_counter() - t)
                store.close()
            print(
                f"| {size} | {index_type} | {build_s:.1f} | {settle_s:.1f} | "
                f"{percentile(times, 50) * 1000:.2f} | {percentile(times, 95) * 1000:.2f} |",
                flush=True,
            )


def _wait_for_index(db_path: str, collection: str, limit_s: float = 1800.0) -> float:
    """Milvus Lite compacts and builds indexes on a background thread after a flush, and
    searches scan unindexed segments until it is done. pymilvus has no call that says when
    that is, so this benchmark waits on Milvus Lite's own background queue (a private hook
    of the embedded engine, used here only to time the steady state honestly)."""
    from milvus_lite.server_manager import server_manager_instance

    start = time.perf_counter()
    _, db, _ = server_manager_instance._servers[os.path.abspath(db_path)]
    db.get_collection(collection)._wait_for_bg(timeout=limit_s)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--overhead", action="store_true")
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--corpus")
    ap.add_argument("--lite-sizes", type=int, nargs="*", default=[])
    ap.add_argument("--index-types", nargs="*", default=["FLAT", "HNSW", "IVF_FLAT"])
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    print(f"# machine: {machine()}")
    if args.overhead:
        overhead(args.docs, args.queries, corpus_path(args.corpus))
    if args.lite_sizes:
        lite_latency(args.lite_sizes, args.index_types, args.queries, args.dim)


if __name__ == "__main__":
    main()

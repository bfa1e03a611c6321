"""Ingest throughput end to end against the embed-only ceiling, and peak memory over corpus size.

Throughput (one process, same chunks):
  1. parse + chunk the documents (untimed) and embed all chunks alone: the ceiling;
  2. ingest the same documents into a fresh Milvus Lite file through ``Silo.ingest``
     (parse workers, batched embedding, writer thread, flush): end to end.
The ratio end-to-end / ceiling is the pipeline's efficiency (target >= 85 %).

Memory (--rss): runs ingests of N and 4N documents, each in its own process, and reports
each one's peak RSS (target: 4x documents -> < 1.3x peak RSS).

    python bench/bench_ingest.py --docs 400
    python bench/bench_ingest.py --rss --docs 300
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import corpus_path, machine, peak_rss_mb, write_documents  # noqa: E402

from ragsilo.chunking import make_doc_id  # noqa: E402
from ragsilo.parsers import parse_bytes  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402


def throughput(docs: int, corpus: Path, threads: int | None, workers: int) -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        files = write_documents(corpus, Path(tmp) / "docs", docs)
        settings = load_settings(
            None,
            {
                "milvus": {"uri": str(Path(tmp) / "bench.db")},
                "embedding": {"threads": threads},
                "ingest": {"workers": workers},
            },
        )
        with Silo.open(settings) as silo:
            t = time.perf_counter()
            silo.embedder.embed(["warm up"])
            load_s = time.perf_counter() - t
            chunks = []
            for f in files:
                doc = parse_bytes(f.read_bytes(), f.name)
                chunks += silo.chunker.chunk(
                    doc, doc_id=make_doc_id(str(f)), source=str(f), file_sha256="-"
                )
            texts = [c.text for c in chunks]
            bs = settings.embedding.batch_size
            t = time.perf_counter()
            for i in range(0, len(texts), bs):
                silo.embedder.embed(texts[i : i + bs])
            embed_s = time.perf_counter() - t

            silo._ensure_collection(create=True)  # collection creation is not ingest work
            t = time.perf_counter()
            report = silo.ingest([Path(tmp) / "docs"])
            ingest_s = time.perf_counter() - t
        assert report.failed == 0 and report.chunks_written == len(chunks), report.to_dict()
        return {
            "docs": docs,
            "chunks": len(chunks),
            "model_load_s": round(load_s, 2),
            "embed_only_chunks_per_s": round(len(chunks) / embed_s, 1),
            "ingest_chunks_per_s": round(len(chunks) / ingest_s, 1),
            "efficiency": round(embed_s / ingest_s, 3),
            "embed_s": round(embed_s, 2),
            "ingest_s": round(ingest_s, 2),
            "threads": threads or "all cores",
            "workers": workers,
        }


def _worker_pids(silo: Silo) -> list[int]:
    keeper = silo._parse_pools
    pool = keeper._pool if keeper is not None else None
    return [w.pid for w in pool._pool] if pool is not None else []


def _worker_peak_mb(pid: int) -> float:
    """A parse worker's own peak RSS (VmHWM; ru_maxrss of children would count the pages of
    the parent they were forked from)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_child(docs: int, corpus: Path) -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        write_documents(corpus, Path(tmp) / "docs", docs)
        settings = load_settings(None, {"milvus": {"uri": str(Path(tmp) / "rss.db")}})
        with Silo.open(settings) as silo:
            silo.embedder.embed(["warm up"])
            base = peak_rss_mb()
            report = silo.ingest([Path(tmp) / "docs"])
            workers = max([_worker_peak_mb(pid) for pid in _worker_pids(silo)] or [0.0])
        return {
            "docs": docs,
            "chunks": report.chunks_written,
            "rss_after_load_mb": round(base, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "worker_peak_rss_mb": round(workers, 1),
        }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--corpus")
    ap.add_argument("--threads", type=int, default=None, help="ONNX intra-op threads")
    ap.add_argument("--workers", type=int, default=2, help="parse workers")
    ap.add_argument("--rss", action="store_true", help="peak RSS for N and 4N documents")
    ap.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    corpus = corpus_path(args.corpus)
    if args.rss_child:
        print(json.dumps(rss_child(args.rss_child, corpus)))
        return
    print(f"# machine: {machine()}")
    if args.rss:
        rows = []
        for n in (args.docs, 4 * args.docs):
            cmd = [sys.executable, __file__, "--rss-child", str(n)]
            if args.corpus:
                cmd += ["--corpus", args.corpus]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
        print(
            "| docs | chunks | RSS after model load (MiB) | peak RSS (MiB) "
            "| largest parse worker's peak RSS (MiB) |"
        )
        print("|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['docs']} | {r['chunks']} | {r['rss_after_load_mb']} | {r['peak_rss_mb']} "
                f"| {r['worker_peak_rss_mb']} |"
            )
        print(f"ratio 4x/1x peak RSS: {rows[1]['peak_rss_mb'] / rows[0]['peak_rss_mb']:.3f}")
        return
    r = throughput(args.docs, corpus, args.threads, args.workers)
    print("| docs | chunks | embed-only (chunks/s) | ingest end to end (chunks/s) | efficiency |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {r['docs']} | {r['chunks']} | {r['embed_only_chunks_per_s']} | "
        f"{r['ingest_chunks_per_s']} | {r['efficiency']:.1%} |"
    )
    print(json.dumps(r))


if __name__ == "__main__":
    main()

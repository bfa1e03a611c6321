"""The parallel ingest pipeline: workers, stage times, OCR speed, and writes to a real server.

--workers 1 2 4   ingest the same documents with each number of parse workers into a
                  fresh Milvus Lite file; report chunks/s against the embed-only ceiling
                  and the share of time per stage (parse, score, embed, write; parse and
                  score are summed over the workers, so they can overlap the others)
--ocr N           OCR speed: N generated pages (1240x1754, A4 at 150 dpi, 30 lines)
--upsert URI      rows/s of ragsilo's grouped upserts (384-dim vectors, ~1 KB of text
                  per row) into a real Milvus server, against the embedding rate: is a
                  bulk import worth it?
--texts N --uri URI
                  ingest N short texts (SciFact claims) into a fresh collection on a
                  server with the real model; wall time against the embedding alone,
                  and the seconds per stage (score includes the duplicate search)

  python bench/bench_pipeline.py --docs 300 --workers 1 2 4
  python bench/bench_pipeline.py --ocr 20
  python bench/bench_pipeline.py --upsert http://127.0.0.1:19530 --token root:Milvus
  python bench/bench_pipeline.py --texts 300 --uri http://127.0.0.1:19530 --token root:Milvus
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import (  # noqa: E402
    DEFAULT_QUERIES,
    corpus_path,
    machine,
    read_queries,
    write_documents,
)

from ragsilo.chunking import make_doc_id  # noqa: E402
from ragsilo.parsers import parse_bytes  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402


def workers_sweep(
    docs: int, corpus: Path, workers: list[int], threads: int | None
) -> Iterator[dict]:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        files = write_documents(corpus, Path(tmp) / "docs", docs)
        base = {"embedding": {"threads": threads}}
        with Silo.open(
            load_settings(None, {**base, "milvus": {"uri": str(Path(tmp) / "c.db")}})
        ) as silo:
            silo.embedder.embed(["warm up"])
            texts = []
            for f in files:
                doc = parse_bytes(f.read_bytes(), f.name)
                texts += [
                    c.text
                    for c in silo.chunker.chunk(
                        doc, doc_id=make_doc_id(str(f)), source=str(f), file_sha256="-"
                    )
                ]
            t = time.perf_counter()
            for i in range(0, len(texts), 32):
                silo.embedder.embed(texts[i : i + 32])
            ceiling = len(texts) / (time.perf_counter() - t)
            embedder = silo.embedder
        for w in workers:
            settings = load_settings(
                None,
                {**base, "milvus": {"uri": str(Path(tmp) / f"w{w}.db")}, "ingest": {"workers": w}},
            )
            with Silo.open(settings, embedder=embedder) as silo:
                silo._ensure_collection(create=True)
                t = time.perf_counter()
                report = silo.ingest([Path(tmp) / "docs"])
                wall = time.perf_counter() - t
            assert report.failed == 0, report.failures[:3]
            chunks = report.chunks_written + report.chunks_quarantined
            yield (
                {
                    "workers": w,
                    "docs": docs,
                    "chunks": chunks,
                    "quarantined": report.chunks_quarantined,
                    "chunks_per_s": round(chunks / wall, 1),
                    "embed_only_chunks_per_s": round(ceiling, 1),
                    "efficiency": round(chunks / wall / ceiling, 3),
                    "wall_s": round(wall, 2),
                    "stage_share": {k: round(v / wall, 3) for k, v in report.stages.items()},
                    "load_average": os.getloadavg()[0],
                }
            )


class _HashEmbedder:
    """Unit vectors seeded by each text's hash: no model, so only the pipeline is timed."""

    name = "hash"
    dimension = 384

    def embed(self, texts):
        import hashlib

        import numpy as np

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).normal(size=self.dimension)
            out[i] = v / np.linalg.norm(v)
        return out

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def many_files(n: int, workers: int) -> dict:
    import random

    from _corpus import peak_rss_mb

    rng = random.Random(0)
    words = [w for w in __doc__.split() if w.isalpha() and len(w) > 3]
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        docs = Path(tmp) / "docs"
        for i in range(n):
            sub = docs / f"d{i // 1000:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            text = " ".join(rng.choice(words) for _ in range(60))
            (sub / f"f{i:05d}.txt").write_text(f"File {i}. {text}.", encoding="utf-8")
        settings = load_settings(
            None, {"milvus": {"uri": str(Path(tmp) / "many.db")}, "ingest": {"workers": workers}}
        )
        with Silo.open(settings, embedder=_HashEmbedder()) as silo:
            silo._ensure_collection(create=True)
            rss0 = peak_rss_mb()
            t = time.perf_counter()
            report = silo.ingest([docs])
            wall = time.perf_counter() - t
            again_t = time.perf_counter()
            again = silo.ingest([docs])
            again_s = time.perf_counter() - again_t
            rows = silo.store.count(silo.collection)
    return {
        "files": n,
        "ingested": report.ingested,
        "failed": report.failed,
        "chunks_written": report.chunks_written,
        "quarantined": report.chunks_quarantined,
        "rows": rows,
        "wall_s": round(wall, 1),
        "files_per_s": round(n / wall, 1),
        "stages_s": {k: round(v, 1) for k, v in report.stages.items()},
        "rerun_skipped": again.skipped,
        "rerun_s": round(again_s, 1),
        "rss_before_mb": round(rss0, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_average": os.getloadavg()[0],
    }


def ocr_speed(pages: int) -> dict:
    from PIL import Image, ImageDraw, ImageFont

    from ragsilo.parsers.image import ImageParser

    font = ImageFont.load_default(size=28)
    words = [
        "the",
        "harbour",
        "master",
        "logs",
        "every",
        "vessel",
        "that",
        "enters",
        "or",
        "leaves",
        "the",
        "port",
        "at",
        "dawn",
    ]
    images = []
    for p in range(pages):
        img = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(img)
        for line in range(30):
            text = " ".join(words[(line + p + i) % len(words)] for i in range(9))
            draw.text((80, 80 + line * 52), text, fill=0, font=font)
        buf = io.BytesIO()
        img.save(buf, "PNG")
        images.append(buf.getvalue())
    parser = ImageParser()
    t = time.perf_counter()
    chars = sum(len(parser.parse(data, f"page{n}.png").text) for n, data in enumerate(images))
    seconds = time.perf_counter() - t
    return {
        "pages": pages,
        "seconds": round(seconds, 2),
        "pages_per_s": round(pages / seconds, 2),
        "chars": chars,
    }


def upsert_rate(uri: str, token: str | None, rows: int, group: int) -> dict:
    import numpy as np

    from ragsilo.models import Chunk

    settings = load_settings(
        None, {"milvus": {"uri": uri, "token": token}, "collection": {"name": "bench_upsert"}}
    )
    rng = np.random.default_rng(0)
    text = ("Milvus upsert throughput measurement text. " * 24)[:1000]
    with Silo.open(settings) as silo:
        silo.drop_collection()
        silo._ensure_collection(create=True)
        store = silo.store
        dim = silo.embedder.dimension
        written = 0
        t = time.perf_counter()
        for start in range(0, rows, group):
            n = min(group, rows - start)
            chunks = [
                Chunk(
                    f"r{start + i}",
                    f"d{(start + i) // 10}",
                    "bench",
                    "-",
                    "text/plain",
                    "t",
                    None,
                    None,
                    i,
                    text,
                    {},
                    10,
                )
                for i in range(n)
            ]
            vectors = rng.normal(size=(n, dim)).astype(np.float32)
            written += store.upsert_chunks(silo.collection, chunks, vectors, batch_bytes=16 << 20)
        upsert_s = time.perf_counter() - t
        t = time.perf_counter()
        store.flush(silo.collection)
        flush_s = time.perf_counter() - t
        count = store.count(silo.collection)
        silo.drop_collection()
    return {
        "rows": written,
        "count_after_flush": count,
        "rows_per_upsert": group,
        "upsert_rows_per_s": round(written / upsert_s, 1),
        "upsert_s": round(upsert_s, 2),
        "flush_s": round(flush_s, 2),
        "server": silo.info.version,
    }


def texts_rate(uri: str, token: str | None, n: int) -> dict:
    texts = read_queries(DEFAULT_QUERIES, n)
    settings = load_settings(
        None, {"milvus": {"uri": uri, "token": token}, "collection": {"name": "bench_texts"}}
    )
    with Silo.open(settings) as silo:
        silo.drop_collection()
        silo._ensure_collection(create=True)
        t = time.perf_counter()
        for i in range(0, len(texts), 32):
            silo.embedder.embed(texts[i : i + 32])
        embed_s = time.perf_counter() - t
        t = time.perf_counter()
        report = silo.ingest_texts(texts)
        wall = time.perf_counter() - t
        assert report.failed == 0, report.failures[:3]
        silo.drop_collection()
    return {
        "texts": len(texts),
        "ingested": report.ingested,
        "wall_s": round(wall, 2),
        "embed_only_s": round(embed_s, 2),
        "stages_s": {k: round(v, 2) for k, v in report.stages.items()},
        "consistency": settings.collection.consistency_level,
        "server": silo.info.version,
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--corpus")
    ap.add_argument("--threads", type=int, default=None, help="ONNX intra-op threads")
    ap.add_argument("--workers", type=int, nargs="*")
    ap.add_argument("--ocr", type=int)
    ap.add_argument("--many", type=int)
    ap.add_argument("--upsert")
    ap.add_argument("--texts", type=int)
    ap.add_argument("--uri")
    ap.add_argument("--token")
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--group", type=int, default=640, help="rows per upsert (64 files x 10)")
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    print(f"# machine: {machine()}")
    if args.workers:
        for r in workers_sweep(args.docs, corpus_path(args.corpus), args.workers, args.threads):
            print(json.dumps(r), flush=True)
    if args.ocr:
        print(json.dumps(ocr_speed(args.ocr)))
    if args.many:
        print(json.dumps(many_files(args.many, (args.workers or [2])[0])), flush=True)
    if args.upsert:
        print(json.dumps(upsert_rate(args.upsert, args.token, args.rows, args.group)))
    if args.texts:
        if not args.uri:
            raise SystemExit("--texts needs --uri of a Milvus server")
        print(json.dumps(texts_rate(args.uri, args.token, args.texts)))


if __name__ == "__main__":
    main()

"""The ingest pipeline's own ceiling, measured where the model costs nothing, in ONE run.

1. ceiling   ``Silo.ingest_texts`` of N SciFact abstracts with a zero-cost embedder (the
             real MiniLM tokenizer for chunk sizes, hashed vectors) into a fresh Milvus Lite
             file, against a raw ``MilvusClient.insert`` + ``flush`` of the very same rows
             into a fresh collection of the same schema: the ratio is the share of what the
             store can take that the pipeline delivers. Also microseconds per chunk per
             stage (stage seconds are summed over threads and worker processes). Run
             --repeat times, each with fresh files; every run's ratio is reported.
2. workers   ``Silo.ingest`` of a parse-heavy corpus (PDF and DOCX files made from SciFact
             abstracts) with ``ingest.workers`` 1, 2, 4 and the zero-cost embedder, each
             into a fresh, empty collection with its workers started before the clock
             (start-up reported apart); CPU seconds of the ingest process and of the
             workers, and the cores they kept busy.
3. onnx      (--onnx N) the default ONNX model: embed-only of the chunk texts and
             ``Silo.ingest_texts`` of the same N abstracts, taking turns --repeat times;
             the ratio is the pipeline's share of the embed-only ceiling. Then embed-only
             again with one ONNX session per --onnx-threads count (intra-op threads).

    python bench/bench_ceiling.py --texts 600 --files 200 --workers 1 2 4 --repeat 3 \
        --onnx 100 --onnx-threads 1 2
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import corpus_path, machine, peak_rss_mb  # noqa: E402

from ragsilo.embedding._common import load_tokenizer_counter  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402

DIM = 384
CORPUS: list[Path] = []  # the BEIR corpus.jsonl, set by main


class ZeroCostEmbedder:
    """Real token counts (the shipped MiniLM tokenizer), hashed unit vectors: what the
    pipeline costs when the model costs (almost) nothing."""

    name = "zero-cost"
    dimension = DIM

    def __init__(self) -> None:
        self.token_counter = load_tokenizer_counter()
        self.tokens_additive = self.token_counter.tokens_additive

    def count_tokens(self, text: str) -> int:
        return self.token_counter(text)

    def embed(self, texts: list[str]) -> np.ndarray:
        # 768 hash bytes per text as 384 int16 values: a vector per text for about a
        # microsecond (a seeded numpy generator per text cost ~300 us, more than a row's write)
        raw = b"".join(
            hashlib.shake_128(t.encode("utf-8", "surrogatepass")).digest(2 * DIM) for t in texts
        )
        out = np.frombuffer(raw, dtype=np.int16).reshape(len(texts), DIM).astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _records(n: int, skip: int = 0) -> list[dict[str, Any]]:
    rows = []
    with CORPUS[0].open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) >= n + skip:
                break
    return rows[skip:]


def _texts(n: int, skip: int = 0) -> list[tuple[str, dict[str, Any]]]:
    return [
        (r["text"], {"name": f"scifact-{r['_id']}", "title": r.get("title", "")})
        for r in _records(n, skip)
    ]


def _settings(uri: str, **ingest: Any) -> Any:
    return load_settings(
        None, {"milvus": {"uri": uri}, "ingest": ingest} if ingest else {"milvus": {"uri": uri}}
    )


def _stages_us(stages: dict[str, float], chunks: int) -> dict[str, float]:
    return {k: round(v / max(chunks, 1) * 1e6, 1) for k, v in sorted(stages.items())}


# ------------------------------------------------------------------------- 1. ceiling
def ceiling(n: int, tmp: Path, workers: int) -> dict[str, Any]:
    """Cold: a fresh, empty collection (created before the clock, as the raw insert's is;
    the parse workers started before it too, both timed apart). Warm: N more abstracts
    into the same, now filled, collection."""
    texts = _texts(n)
    embedder = ZeroCostEmbedder()
    uri = str(tmp / "ceiling.db")
    with Silo.open(_settings(uri, workers=workers), embedder=embedder) as silo:
        # set-up, timed apart: the collection (Milvus Lite waits 0.5 s per index it
        # creates) and the parse workers; the raw insert below gets its collection untimed
        t0 = time.perf_counter()
        silo._ensure_collection(create=True)
        create_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        silo._ingestor(silo.settings.ingest)._worker_pool()._start()  # type: ignore[union-attr]
        workers_s = time.perf_counter() - t0
        c0, t0 = time.process_time(), time.perf_counter()
        report = silo.ingest_texts(texts)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        c0, t0 = time.process_time(), time.perf_counter()
        warm = silo.ingest_texts(_texts(n, skip=n))
        warm_wall, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
        chunks = report.chunks_written + report.chunks_quarantined
        warm_chunks = warm.chunks_written + warm.chunks_quarantined
        # the rows the cold run stored, written again raw
        names = [t[1]["name"] for t in texts]
        rows = []
        for i in range(0, len(names), 200):
            expr = "source in [" + ", ".join(f'"text://{x}"' for x in names[i : i + 200]) + "]"
            rows += list(silo.store.iter_rows(silo.collection, expr, ["*"]))
        schema_uri = str(tmp / "raw.db")
        with Silo.open(_settings(schema_uri), embedder=embedder) as raw_silo:
            raw_silo._ensure_collection(create=True)  # the same schema, empty
    from pymilvus import MilvusClient

    fields = [k for k in rows[0] if not k.endswith("sparse")] if rows else []
    clean = [{k: r[k] for k in fields} for r in rows]
    client = MilvusClient(schema_uri)
    name = _collection_name(client)
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, len(clean), 1000):
        client.insert(name, clean[i : i + 1000])
    client.flush(name)
    raw_wall, raw_cpu = time.perf_counter() - t0, time.process_time() - c0
    client.close()
    raw_rate = len(clean) / raw_wall
    return {
        "texts": n,
        "chunks": chunks,
        "rows_in_main": len(clean),
        "workers": workers,
        "setup_collection_s": round(create_s, 2),
        "setup_workers_s": round(workers_s, 2),
        "cold_s": round(wall, 2),
        "cold_chunks_per_s": round(chunks / wall, 1),
        "warm_s": round(warm_wall, 2),
        "warm_chunks_per_s": round(warm_chunks / warm_wall, 1),
        "raw_insert_flush_s": round(raw_wall, 2),
        "raw_rows_per_s": round(raw_rate, 1),
        "ratio_cold": round(chunks / wall / raw_rate, 3),
        # CPU seconds of this process (every thread: the pipeline's and Milvus Lite's; not
        # the parse workers'), less moved by other load on the machine than wall time
        "cpu_us_per_chunk_cold": round(cpu / max(chunks, 1) * 1e6, 1),
        "cpu_us_per_chunk_warm": round(warm_cpu / max(warm_chunks, 1) * 1e6, 1),
        "cpu_us_per_row_raw": round(raw_cpu / max(len(clean), 1) * 1e6, 1),
        "ratio_warm": round(warm_chunks / warm_wall / raw_rate, 3),
        "us_per_chunk_cold": _stages_us(report.stages, chunks),
        "us_per_chunk_warm": _stages_us(warm.stages, warm_chunks),
    }


def _collection_name(client: Any) -> str:
    names = [c for c in client.list_collections() if not c.endswith(("_quarantine", "_images"))]
    return names[0]


# ------------------------------------------------------------------------- 2. workers
def _write_heavy_corpus(folder: Path, n: int, skip: int = 0) -> list[Path]:
    """``n`` files, half PDF (a page per abstract, 4 abstracts) and half DOCX (4 abstracts)."""
    import docx
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    recs = _records(n * 4, skip)
    out = []
    for i in range(n):
        group = recs[i * 4 : i * 4 + 4]
        if i % 2 == 0:
            buf = io.BytesIO()
            pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
            for r in group:
                text = pdf.beginText(60, 800)
                text.setFont("Helvetica", 9)
                words, line = r["text"].split(), ""
                for w in words:
                    if len(line) + len(w) > 100:
                        text.textLine(line)
                        line = ""
                    line += w + " "
                text.textLine(line)
                pdf.drawText(text)
                pdf.showPage()
            pdf.save()
            p = folder / f"doc-{skip + i:05d}.pdf"
            p.write_bytes(buf.getvalue())
        else:
            d = docx.Document()
            for r in group:
                d.add_heading(r.get("title", "")[:80] or "Abstract", level=1)
                for sentence_block in r["text"].split(". "):
                    d.add_paragraph(sentence_block)
            p = folder / f"doc-{skip + i:05d}.docx"
            d.save(str(p))
        out.append(p)
    return out


def workers_sweep(
    n: int,
    tmp: Path,
    counts: list[int],
    repeat: int,
    *,
    uri: str | None = None,
    server_pid: int | None = None,
) -> list[dict[str, Any]]:
    """Each worker count ``repeat`` times, interleaved (1 2 4 1 2 4), each into a fresh, empty
    collection with its workers started before the clock (as the ceiling's cold run); the
    fastest run of each count is kept (on a shared machine the slow runs measure the
    neighbours). CPU seconds are counted apart for the ingest process (its threads and
    Milvus Lite's) and for the parse workers (reaped when the silo closes), so a row shows
    how much of the machine's cores the run kept busy. With ``uri`` (a Milvus server) each
    run writes a collection of its own there, dropped afterwards; with ``server_pid`` the
    server process's CPU seconds are counted too."""
    files = tmp / "heavy"
    _write_heavy_corpus(files, n)
    best: dict[int, dict[str, Any]] = {}
    cores = len(os.sched_getaffinity(0))
    for rep in range(repeat):
        for w in counts:
            settings = _settings(uri or str(tmp / f"workers-{w}-{rep}.db"), workers=w)
            if uri:
                settings.collection.name = f"bench_workers_{w}_{rep}_{os.getpid()}"
            with Silo.open(settings, embedder=ZeroCostEmbedder()) as silo:
                silo.store.drop_collection(silo.collection)
                silo._ensure_collection(create=True)
                s0 = _processes_cpu([server_pid]) if server_pid else 0.0
                t0 = time.perf_counter()
                pool = silo._ingestor(silo.settings.ingest)._worker_pool()
                assert pool is not None
                pool._start()
                startup = time.perf_counter() - t0
                pids = [p.process.pid for p in pool._pool]
                k0 = _processes_cpu(pids)
                c0, t0 = time.process_time(), time.perf_counter()
                report = silo.ingest([files])
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                # the workers' CPU during the ingest (a worker replaced meanwhile is not counted)
                workers_cpu = _processes_cpu(pids) - k0
                server_cpu = _processes_cpu([server_pid]) - s0 if server_pid else 0.0
                if uri:
                    silo.store.drop_collection(silo.collection)
                    silo.store.drop_collection(silo.quarantine_collection)
            chunks = report.chunks_written + report.chunks_quarantined
            row = {
                "workers": w,
                "files": len(report.files),
                "failed": report.failed,
                "chunks": chunks,
                "seconds": round(wall, 2),
                "all_runs_s": [*best.get(w, {}).get("all_runs_s", []), round(wall, 2)],
                "files_per_s": round(len(report.files) / wall, 2),
                "workers_start_s": round(startup, 2),
                "cpu_s_ingest_process": round(cpu, 2),
                "cpu_s_workers": round(workers_cpu, 2),
                **({"cpu_s_server": round(server_cpu, 2)} if server_pid else {}),
                "cores_busy": round((cpu + workers_cpu + server_cpu) / wall, 2),
                "cores": cores,
                "us_per_chunk": _stages_us(report.stages, chunks),
            }
            if w not in best or wall < best[w]["seconds"]:
                best[w] = row
            else:
                best[w]["all_runs_s"] = row["all_runs_s"]
    out = [best[w] for w in counts]
    base = out[0]["seconds"]
    for row in out:
        row["speedup"] = round(base / row["seconds"], 2)
    return out


def _processes_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the live processes ``pids`` have used, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def parse_only(tmp: Path, counts: list[int], repeat: int) -> list[dict[str, Any]]:
    """The parse stage alone (parse, chunk, score in the worker pool; no embedding, no
    Milvus) over the same files: what the workers scale to when nothing else runs."""
    from ragsilo.chunking import create_chunker
    from ragsilo.ingest.workers import ParseTask, WorkerKit, WorkerPool, prepare
    from ragsilo.quality import QualityScorer
    from ragsilo.settings import ChunkingSettings, QualitySettings

    files = sorted((tmp / "heavy").iterdir())
    counter = ZeroCostEmbedder()
    kit = WorkerKit(
        create_chunker(ChunkingSettings(), counter.count_tokens).for_workers(),
        QualityScorer(QualitySettings()),
        None,
    )
    tasks = [
        ParseTask(n, str(p), "", f"d{n}", path=str(p), max_bytes=1 << 26)
        for n, p in enumerate(files)
    ]
    best: dict[int, float] = {}
    for _ in range(repeat):
        for w in counts:
            pool = WorkerPool(kit, w)
            try:
                pool._start()  # started before the clock: start-up is not parsing
                t0 = time.perf_counter()
                out = list(pool.run(iter(tasks), window=2 * w, local=lambda t: prepare(kit, t)))
                wall = time.perf_counter() - t0
            finally:
                pool.close()
            assert len(out) == len(tasks)
            best[w] = min(best.get(w, wall), wall)
    return [
        {
            "workers": w,
            "files": len(tasks),
            "seconds": round(best[w], 2),
            "speedup": round(best[counts[0]] / best[w], 2),
        }
        for w in counts
    ]


# ---------------------------------------------------------------------------- 3. onnx
def onnx(n: int, tmp: Path, workers: int, threads: list[int], repeat: int = 2) -> dict[str, Any]:
    """Embed-only and the ingest, taking turns ``repeat`` times (embed-only, ingest into a
    fresh collection, embed-only, ...) with the same model, called alike. Two ratios: the
    best ingest against the best embed-only, and the median over the pairs (each ingest
    against the embed-only run just before it)."""
    texts = _texts(n)
    from ragsilo.embedding import OnnxEmbedder
    from ragsilo.settings import EmbeddingSettings

    model = OnnxEmbedder(load_settings(None, {}).embedding)
    model.embed(["warm up"])
    with Silo.open(_settings(str(tmp / "onnx-warm.db"), workers=workers), embedder=model) as silo:
        # warm-up (a CPU model fills the cores itself: the texts are chunked in this process)
        silo.ingest_texts(_texts(40, skip=n))
        # the chunk texts the ingest will embed: chunked here, untimed
        from ragsilo.ingest.texts import text_sources

        chunk_texts = []
        for d in text_sources(texts):
            chunk_texts += [
                c.text
                for c in silo.chunker.chunk(d.parse(), doc_id="x", source=d.source, file_sha256="")
            ]
    # the calls an ingest makes (an ONNX model gets several batches a call, sorted by
    # length inside): the ceiling pads no more than the ingest does
    batch = int(model.ingest_batch)

    def embed_only_s(embedder: Any) -> float:
        t0 = time.perf_counter()
        for i in range(0, len(chunk_texts), batch):
            embedder.embed(chunk_texts[i : i + batch])
        return time.perf_counter() - t0

    embed_runs, ingest_runs = [], []
    report = None
    for r in range(repeat):
        embed_runs.append(embed_only_s(model))
        uri = str(tmp / f"onnx-{r}.db")
        with Silo.open(_settings(uri, workers=workers), embedder=model) as silo:
            silo._ensure_collection(create=True)
            t0 = time.perf_counter()
            report = silo.ingest_texts(texts)
            ingest_runs.append(time.perf_counter() - t0)
    assert report is not None
    # embed-only over ONNX intra-op thread counts (one session each, warmed up first)
    by_threads = {}
    for t in threads:
        e = OnnxEmbedder(EmbeddingSettings(threads=t))
        e.embed(["warm up"])
        by_threads[str(t)] = round(len(chunk_texts) / embed_only_s(e), 1)
    chunks = report.chunks_written + report.chunks_quarantined
    embed_only, wall = min(embed_runs), min(ingest_runs)
    # each ingest against the embed-only run just before it: a neighbour's load that comes
    # and goes falls on both of a pair more often than on the best of each
    pairs = [
        (chunks / i) / (len(chunk_texts) / e) for e, i in zip(embed_runs, ingest_runs, strict=True)
    ]
    return {
        "embed_only_per_s_by_threads": by_threads,
        "texts": n,
        "chunks": chunks,
        "embed_only_s": round(embed_only, 2),
        "embed_only_runs_s": [round(x, 2) for x in embed_runs],
        "embed_only_per_s": round(len(chunk_texts) / embed_only, 1),
        "embed_only_texts_per_call": batch,
        "ingest_s": round(wall, 2),
        "ingest_runs_s": [round(x, 2) for x in ingest_runs],
        "ingest_chunks_per_s": round(chunks / wall, 1),
        "ratio": round((chunks / wall) / (len(chunk_texts) / embed_only), 3),
        "ratio_pairs": [round(r, 3) for r in pairs],
        "ratio_pairs_median": round(float(np.median(pairs)), 3),
        "stages_s": {k: round(v, 2) for k, v in sorted(report.stages.items())},
    }


class LoadSampler:
    """The 1-minute load average, read every ``every_s`` seconds on a thread of its own."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(self._every):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        s = self.samples
        return {"start": s[0], "end": s[-1], "min": min(s), "max": max(s), "samples": len(s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--texts", type=int, default=600, help="abstracts for the ceiling")
    ap.add_argument("--files", type=int, default=60, help="PDF+DOCX files for the workers sweep")
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    ap.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="ceiling runs, runs per worker count (best kept), embed-only/ingest pairs",
    )
    ap.add_argument("--onnx", type=int, default=0, help="abstracts for the ONNX run (0: skip)")
    ap.add_argument(
        "--onnx-threads", type=int, nargs="*", default=[1, 2], help="embed-only thread counts"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--corpus", help="a BEIR corpus.jsonl (default: the SciFact one)")
    ap.add_argument("--uri", help="the workers sweep into this Milvus server, not Milvus Lite")
    ap.add_argument("--server-pid", type=int, help="count this server process's CPU seconds")
    args = ap.parse_args()
    CORPUS.append(corpus_path(args.corpus))
    logging.basicConfig(level=logging.WARNING)
    cores = len(os.sched_getaffinity(0))
    result: dict[str, Any] = {"machine": machine(), "cores_usable": cores}
    with (
        LoadSampler() as load,
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as t,
    ):
        tmp = Path(t)
        if args.texts:
            # each run into fresh Milvus Lite files; the ratio of every run is reported
            runs = []
            for r in range(args.repeat):
                (tmp / f"ceiling-{r}").mkdir()
                runs.append(ceiling(args.texts, tmp / f"ceiling-{r}", cores))
                print("ceiling:", json.dumps(runs[-1]), flush=True)
            result["ceiling"] = runs
            ratios = sorted(x["ratio_cold"] for x in runs)
            print("ceiling cold ratios:", ratios, "median", ratios[len(ratios) // 2], flush=True)
        if args.files and args.workers:
            result["workers"] = workers_sweep(
                args.files,
                tmp,
                args.workers,
                args.repeat,
                uri=args.uri,
                server_pid=args.server_pid,
            )
            for row in result["workers"]:
                print("workers:", json.dumps(row), flush=True)
            result["parse_only"] = parse_only(tmp, args.workers, args.repeat)
            for row in result["parse_only"]:
                print("parse only:", json.dumps(row), flush=True)
        if args.onnx:
            result["onnx"] = onnx(args.onnx, tmp, cores, args.onnx_threads, args.repeat)
            print("onnx:", json.dumps(result["onnx"]), flush=True)
    result["load_average_1min"] = load.summary()
    print("load average (1 min, every 10 s):", json.dumps(result["load_average_1min"]), flush=True)
    result["peak_rss_mb_main"] = round(peak_rss_mb(), 1)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

"""``ragsilo eval``: retrieval quality and latency on a BEIR dataset, per mode and reranker.

The corpus goes into a collection of its own (``eval_<dataset>`` unless named),
through the ordinary ingest: each document is its title, a blank line and its
text, stored as ``beir://<dataset>/<doc id>``. Ingest is idempotent, so a second
run re-embeds nothing. The collection is then clustered (``clustering.k``) if it
has no clusters or has changed since, so every run scores the same layout
(Milvus Lite keeps BM25 statistics per segment, and a recluster rewrites the
rows).

Each query is embedded once; then for every (mode, reranker) the silo is
searched for ``depth`` × 3 chunks, which are turned into a document ranking by
keeping each document's best chunk. nDCG@10, Recall@100 and MRR@10 are
averaged over the judged queries; latency is the time of the search call (route,
search, fusion, rerank; without the query's embedding, which is reported on its
own).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragsilo.errors import InputError
from ragsilo.eval.beir import BeirDataset
from ragsilo.eval.metrics import dedupe, mean, mrr_at_k, ndcg_at_k, recall_at_k
from ragsilo.rerank import create_reranker
from ragsilo.retrieval.modes import check_mode

log = logging.getLogger(__name__)

SOURCE_PREFIX = "beir://"
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EvalRow:
    """The scores of one (mode, reranker) configuration."""

    mode: str
    rerank: str
    route: int
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    p50_ms: float
    p95_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "rerank": self.rerank,
            "route": self.route,
            "ndcg@10": round(self.ndcg_at_10, 4),
            "recall@100": round(self.recall_at_100, 4),
            "mrr@10": round(self.mrr_at_10, 4),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
        }


@dataclass(frozen=True)
class EvalReport:
    """All configurations' scores, with what was measured and where."""

    dataset: str
    collection: str
    documents: int
    queries: int
    chunks: int
    ingest_seconds: float
    chunks_written: int
    clusters: int
    embed_p50_ms: float
    rows: tuple[EvalRow, ...]
    environment: dict[str, Any] = field(default_factory=dict)
    empty_documents: int = 0
    #: chunks each search asks for (three per document of the depth scored), which the
    #: latencies are for
    search_k: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "collection": self.collection,
            "documents": self.documents,
            "queries": self.queries,
            "chunks": self.chunks,
            "empty_documents": self.empty_documents,
            "ingest_seconds": round(self.ingest_seconds, 2),
            "chunks_written": self.chunks_written,
            "clusters": self.clusters,
            "query_embed_p50_ms": round(self.embed_p50_ms, 2),
            "search_k": self.search_k,
            "environment": self.environment,
            "results": [r.to_dict() for r in self.rows],
        }


def ingest_dataset(
    silo: Any, data: BeirDataset, *, batch: int = 10_000, progress: ProgressFn | None = None
) -> tuple[int, float]:
    """Ingest the corpus in batches of ``batch`` documents; returns (chunks written, seconds).

    Documents the collection already holds whole and unchanged are found in one pass
    over it and not sent again (the ingest itself would skip them too, one query each).
    """
    started = time.perf_counter()
    items = [
        (f"{title}\n\n{text}".strip(), {"name": f"{data.name}/{doc_id}", "title": title})
        for doc_id, (title, text) in data.corpus.items()
    ]
    held = _complete_documents(silo)
    todo = [
        it
        for it in items
        if held.get(SOURCE_PREFIX + it[1]["name"])
        != hashlib.sha256(it[0].encode("utf-8", "surrogatepass")).hexdigest()
    ]
    written = 0
    for start in range(0, len(todo), batch):
        report = silo.ingest_texts(todo[start : start + batch], source_prefix=SOURCE_PREFIX)
        if report.failed:
            first = report.failures[0]
            raise InputError(
                f"{report.failed} documents of {data.name} failed to ingest, "
                f"e.g. {first.path}: {first.message}"
            )
        written += report.chunks_written
        if progress is not None:
            progress("ingest", min(start + batch, len(todo)), len(todo))
    return written, time.perf_counter() - started


def _complete_documents(silo: Any) -> dict[str, str]:
    """source → sha256 of every document the collection holds whole (as many rows as
    ``doc_chunks``, all of one version)."""
    if not silo.store.has_collection(silo.collection):
        return {}
    silo.store.ensure_loaded(silo.collection)
    rows: dict[str, list[tuple[str, int]]] = {}
    for r in silo.store.iter_rows(
        silo.collection, "", ["source", "file_sha256", "doc_chunks"], batch_size=5000
    ):
        rows.setdefault(str(r["source"]), []).append((str(r["file_sha256"]), int(r["doc_chunks"])))
    out = {}
    for source, versions in rows.items():
        shas = {v[0] for v in versions}
        if len(shas) == 1 and all(v[1] == len(versions) for v in versions):
            out[source] = shas.pop()
    return out


def run_eval(
    silo: Any,
    data: BeirDataset,
    *,
    modes: Sequence[str],
    rerankers: Sequence[str],
    route: int = 0,
    depth: int = 100,
    progress: ProgressFn | None = None,
) -> EvalReport:
    """Ingest ``data`` into ``silo`` (an open :class:`ragsilo.Silo` on the eval collection),
    then score every mode × reranker."""
    if not modes or not rerankers:
        raise InputError("give at least one mode and one reranker")
    for m in modes:
        check_mode(m)
    for r in rerankers:
        create_reranker(r)  # an unknown name fails before anything is ingested
    if depth < 10:
        raise InputError(f"depth must be at least 10 documents, not {depth}")
    step = progress or (lambda stage, done, total: None)
    written, ingest_seconds, chunks, model = prepare_collection(silo, data, step)

    query_ids = list(data.qrels)
    vectors: dict[str, np.ndarray] = {}
    embed_times = []
    for i, q in enumerate(query_ids):
        t = time.perf_counter()
        vectors[q] = silo.embed_query(data.queries[q])
        embed_times.append(time.perf_counter() - t)
        if (i + 1) % 100 == 0:
            step("embed queries", i + 1, len(query_ids))
    k_chunks = min(depth * 3, silo.settings.search.max_k)
    rows: list[EvalRow] = []
    configs = [(m, r) for m in modes for r in rerankers]
    for ci, (mode, rerank) in enumerate(configs):
        ndcg, recall, mrr, times = [], [], [], []
        for q in query_ids:
            t = time.perf_counter()
            hits = silo.search(
                data.queries[q],
                k=k_chunks,
                mode=mode,
                rerank=rerank,
                route=route,
                query_vector=vectors[q],
            )
            times.append(time.perf_counter() - t)
            ranked = dedupe([_doc_id(h.source) for h in hits])[:depth]
            judged = data.qrels[q]
            ndcg.append(ndcg_at_k(ranked, judged, 10))
            recall.append(recall_at_k(ranked, judged, min(100, depth)))
            mrr.append(mrr_at_k(ranked, judged, 10))
        rows.append(
            EvalRow(
                mode=mode,
                rerank=rerank,
                route=route,
                ndcg_at_10=mean(ndcg),
                recall_at_100=mean(recall),
                mrr_at_10=mean(mrr),
                p50_ms=_pct(times, 50) * 1000,
                p95_ms=_pct(times, 95) * 1000,
            )
        )
        step("search", ci + 1, len(configs))
    return EvalReport(
        dataset=data.name,
        collection=silo.collection,
        documents=len(data.corpus),
        queries=len(query_ids),
        chunks=chunks,
        ingest_seconds=ingest_seconds,
        chunks_written=written,
        clusters=model.k if model is not None else 0,
        embed_p50_ms=_pct(embed_times, 50) * 1000,
        rows=tuple(rows),
        environment=environment(silo),
        empty_documents=len(data.empty_documents),
        search_k=k_chunks,
    )


def prepare_collection(
    silo: Any, data: BeirDataset, progress: ProgressFn | None = None
) -> tuple[int, float, int, Any]:
    """Ingest ``data``'s corpus and cluster it when it changed: (chunks written, ingest
    seconds, chunks held, cluster model). Warns about the documents left out as empty."""
    step = progress or (lambda stage, done, total: None)
    if data.empty_documents:
        shown = ", ".join(data.empty_documents[:5])
        more = ", ..." if len(data.empty_documents) > 5 else ""
        log.warning(
            "%d documents of %s are empty and left out (%s%s); evaluating the other %d",
            len(data.empty_documents),
            data.name,
            shown,
            more,
            len(data.corpus),
        )
    written, ingest_seconds = ingest_dataset(silo, data, progress=step)
    chunks = silo.stats().rows
    model = silo.cluster_model(refresh=True)
    if model is None or model.info.get("rows") != chunks or written:
        step("recluster", 0, 1)
        silo.recluster()
        model = silo.cluster_model()
        step("recluster", 1, 1)
    return written, ingest_seconds, chunks, model


def environment(silo: Any) -> dict[str, Any]:
    """Where the numbers were taken: Milvus, index, machine and its load."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    r = silo.settings.retrieval
    return {
        "milvus": f"{silo.info.kind} {silo.info.version}",
        "index": silo.index_plan.type,
        "metric": silo.index_plan.metric,
        "embedding": silo.settings.embedding.model,
        "chunk_size": silo.settings.chunking.size,
        "fusion": r.fusion,
        "rrf_k": r.rrf_k,
        "weights": dict(r.weights),
        "candidates": r.candidates,
        "mmr_lambda": r.mmr_lambda,
        "analyzer": r.analyzer,
        "cpu_cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in load],
    }


def _doc_id(source: str) -> str:
    """``beir://scifact/4983`` → ``4983``."""
    return source.rsplit("/", 1)[-1]


def _pct(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    return float(np.percentile(np.asarray(values), p))

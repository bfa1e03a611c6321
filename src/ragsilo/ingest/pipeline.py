"""The ingest pipeline: sources → parse + chunk + score (parallel workers) → embed → write.

Three stages run at once, joined by bounded queues so memory stays flat:

* each file is hashed here and skipped when the store already holds exactly
  this version; otherwise parse worker processes (:mod:`ragsilo.ingest.workers`,
  ``ingest.workers``) read, parse and chunk it, score each chunk's text
  (:mod:`ragsilo.quality`) and make what its row needs besides the vector (BM25
  terms, content hash). Texts given in memory are chunked in this process when
  the embedder fills the cores itself (a model on the CPU), and so is a tiny ingest;
* the calling thread embeds chunks in batches that span files;
* one writer thread finishes the scores (duplicates by content hash and
  near-duplicates by embedding similarity, against what is stored), upserts
  each finished file's good chunks into the collection and its poor ones into
  the quarantine collection, and then removes that file's stale chunks, so a
  changed file is replaced without a window in which it is missing.

A file counts as stored when the collection and the quarantine together (with
the chunks purged from the quarantine on purpose) hold all its chunks of this
version; an interrupted ingest leaves fewer, so running it again writes exactly
what is missing. The journal (:mod:`ragsilo.ingest.journal`) records each
file's outcome.

A file is written whole or not at all: a failure while writing one file rolls
back the rows it added, and never touches other files. When Milvus itself stays
unreachable after the store's retries, the ingest stops (:mod:`ragsilo.ingest.halt`):
what was written stays, the rest is reported ``store_unavailable``.

:meth:`Ingestor.run_documents` feeds documents that are already parsed (texts
sent to the service, for example) through the same chunk, embed and write
stages.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from ragsilo.chunking import Chunker, make_doc_id
from ragsilo.cluster.model import ClusterModel
from ragsilo.embedding import Embedder
from ragsilo.errors import RagsiloError
from ragsilo.ingest.halt import Halt, stops_the_ingest
from ragsilo.ingest.journal import Journal
from ragsilo.ingest.workers import (
    ParseOutcome,
    ParseTask,
    PoolKeeper,
    WorkerKit,
    WorkerPool,
    WorkerStartError,
    prepare,
    too_costly,
)
from ragsilo.models import Chunk, FileResult, IngestReport, ParsedDocument
from ragsilo.parsers import Parser, parse_bytes
from ragsilo.quality import QUALITY_KEY, QualityScore, QualityScorer, text_hash
from ragsilo.settings import IngestSettings
from ragsilo.sources import SourceEntry, escaped_names, iter_source_files, read_limited
from ragsilo.store import VectorStore, quote
from ragsilo.store.filters import with_tenant
from ragsilo.store.milvus import truncate_utf8

log = logging.getLogger(__name__)

ProgressCallback = Callable[[FileResult], None]


MAIN = "main"
QUARANTINE = "quarantine"


@dataclass
class _FileJob:
    """One file on its way through the pipeline."""

    path: str
    chunks: list[Chunk]
    old_ids: set[str]
    vectors: list[np.ndarray | None] = field(default_factory=list)
    embedded: int = 0
    result: FileResult | None = None  # set when the job ends early (skip or failure)
    # where each stored id of the old version is (main or quarantine)
    old_where: dict[str, str] = field(default_factory=dict)
    scores: list[QualityScore] = field(default_factory=list)
    # chunks purged from the quarantine on purpose: counted as stored, never written
    purged: set[str] = field(default_factory=set)
    # set by the writer: each chunk's collection
    targets: list[str] = field(default_factory=list)
    # the image vector of an image document (with an image model)
    image_vector: np.ndarray | None = None
    # made with the chunks (in a parse worker), one per chunk or none: the BM25 terms of
    # each chunk's row (a collection that keeps them) and its content hash (with scoring)
    terms: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.vectors = [None] * len(self.chunks)

    @property
    def done_embedding(self) -> bool:
        return self.embedded == len(self.chunks)


@dataclass(frozen=True)
class _Pending:
    """A document to parse: what the store holds of it, waiting for its chunks."""

    source: str
    doc_id: str
    sha256: str
    old_ids: set[str]
    old_where: dict[str, str]
    # ids of this version purged from the quarantine on purpose
    purged: set[str]


@dataclass(frozen=True)
class DocumentSource:
    """A document that needs no file reading: its source name, content hash and parser.

    ``parse`` is called only when the store does not already hold exactly
    this version (``sha256``) of ``source``; a :class:`RagsiloError` it raises
    fails this document alone.
    """

    source: str
    sha256: str
    parse: Callable[[], ParsedDocument]


_STOP = object()
# a write group waits at most this long for more files, up to this many chunks
_GROUP_WAIT_S = 0.25
_GROUP_CHUNKS = 2048
# a run into an empty collection remembers this many document ids, then asks the store
_LOOKED_UP_CAP = 1_000_000
# up to this many documents (texts) are chunked and scored in this process
_TINY_DOCUMENTS = 32
# files parsed in this process when an ingest is this small and all are plain text
_TINY_FILES = 8
_TINY_BYTES = 1024 * 1024
_PLAIN_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".markdown", ".rst", ".csv", ".tsv", ".json", ".jsonl", ".log"}
)


def _tiny(entries: Sequence[SourceEntry]) -> bool:
    """Whether parsing ``entries`` in this process costs less than starting workers: a few
    small plain-text files (never PDF, Word, HTML or images, whose parsers may be made to
    work hard; those always get the workers' time and memory limits)."""
    if len(entries) > _TINY_FILES:
        return False
    if any(e.path.suffix.lower() not in _PLAIN_SUFFIXES for e in entries):
        return False
    return sum(e.size for e in entries) <= _TINY_BYTES


# documents whose stored state is looked up in one query
_STATE_BLOCK = 256


class _StageClock:
    """Seconds spent per stage, summed over threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


class Ingestor:
    """Runs ingests of files into one collection.

    The collection must already exist (the facade creates it). ``embedder``
    and ``chunker`` are shared, read-only; one ``Ingestor`` may run many ingests
    one after the other.
    """

    def __init__(
        self,
        store: VectorStore,
        collection: str,
        embedder: Embedder,
        chunker: Chunker,
        settings: IngestSettings,
        *,
        embed_batch: int = 32,
        cluster_assigner: ClusterModel | None = None,
        quality: QualityScorer | None = None,
        quarantine: str | None = None,
        create_quarantine: Callable[[], None] | None = None,
        journal: Journal | None = None,
        parsers: Mapping[str, Parser] | None = None,
        metric: str = "COSINE",
        image_embedder: Any = None,
        images: str | None = None,
        create_images: Callable[[], None] | None = None,
        tenant: str | None = None,
        pools: PoolKeeper | None = None,
    ) -> None:
        self._store = store
        # parse workers: a warm pool kept by the owner (a silo), else one per run
        self._pools = pools
        self._own_pools = pools is None
        # the tenant that owns what is written: part of each document's id, stored per row
        self._tenant = tenant
        # image vectors (CLIP) of image documents, kept in the ``images`` collection
        self._image_embedder = image_embedder
        self._images = images if image_embedder is not None else None
        self._create_images = create_images
        self._collection = collection
        self._embedder = embedder
        self._chunker = chunker
        self._settings = settings
        self._embed_batch = embed_batch
        # the silo's clusters: each new chunk gets its nearest centroid's id
        self._assigner = cluster_assigner
        # chunk quality: scored with this, poor chunks written to ``quarantine``
        self._quality = quality
        self._quarantine = quarantine if quality is not None else None
        # the quarantine collection is made when the first chunk goes there
        self._quarantine_exists = self._quarantine is not None and store.has_collection(
            self._quarantine
        )
        self._create_quarantine = create_quarantine
        self._journal = journal
        self._parsers = parsers
        self._metric = metric
        # what the store holds per document id, prefetched a block at a time
        self._states: dict[str, list[dict[str, Any]]] = {}
        self._purged: dict[str, list[dict[str, Any]]] = {}
        # per run: the rows the collection and its quarantine held when it began (counted
        # once, when first needed, for the lookups here and the writer's duplicate check),
        # whether every block is looked up anyway, and the documents looked up so far
        self._rows_at_start: dict[str, int] | None = None
        self._count_lock = threading.Lock()
        self._ask_every_block = False
        self._looked_up: set[str] = set()
        self._clock = _StageClock()
        # set when Milvus stays unreachable: the rest of the run is not attempted
        self._halt = Halt()
        # BM25 terms of chunks made in this process (see ``_analyzer``)
        self._english: Callable[[str], str] | None = None

    # ------------------------------------------------------------------ public
    def run(
        self,
        paths: Sequence[str | Path],
        *,
        prune: bool = False,
        progress: ProgressCallback | None = None,
        on_total: Callable[[int], None] | None = None,
        source_names: Mapping[Path, str] | None = None,
    ) -> IngestReport:
        """Ingest ``paths`` (files and folders); returns the per-file report.

        ``source_names`` maps files (resolved paths) to the source name to store
        and report them under instead of their path, e.g. ``upload://notes.md``
        for a file uploaded into a temporary folder; the name also decides the
        document id, so the same name re-ingested is recognised.
        """
        started = time.perf_counter()
        entries = list(iter_source_files(paths, follow_symlinks=self._settings.follow_symlinks))
        if on_total is not None:
            on_total(len(entries))
        # a file name that is not UTF-8 is stored and reported escaped
        names = {**escaped_names(entries), **(source_names or {})}
        results: list[FileResult] = []
        finish = self._finisher(results, progress)
        self._begin_run()
        try:
            writer = self._write_jobs(self._parsed_jobs(entries, names), finish)
            deleted = writer.rows_deleted
            if self._halt:
                unwritten = [names.get(e.path, str(e.path)) for e in entries]
                self._report_unwritten(unwritten, results, finish)
                return self._report(results, writer, deleted, started)
            if prune:
                seen = {e.path for e in entries} | {Path(n) for n in names.values()}
                removed, pruned_rows = self._prune(paths, seen)
                for res in removed:
                    finish(res)
                deleted += pruned_rows
            self._flush(writer.rows_written + writer.rows_quarantined, deleted)
        finally:
            self._end_journal(results)
            self._close_own_pool()
        return self._report(results, writer, deleted, started)

    def _finisher(
        self, results: list[FileResult], progress: ProgressCallback | None
    ) -> Callable[[FileResult], None]:
        if self._journal is not None:
            self._journal.start_run()

        def finish(res: FileResult) -> None:
            results.append(res)
            if self._journal is not None:
                self._journal.record(res, quarantined=res.quarantined)
            if progress is not None:
                progress(res)

        return finish

    def _end_journal(self, results: list[FileResult]) -> None:
        if self._journal is not None:
            self._journal.commit()
            self._journal.finish_run(len(results), sum(r.status == "failed" for r in results))

    def _flush(self, written: int, deleted: int) -> None:
        if written or deleted:
            self._store.commit(self._collection)
            if self._quarantine is not None and self._quarantine_exists:
                self._store.commit(self._quarantine)

    def _report(
        self, results: list[FileResult], writer: _Writer, deleted: int, started: float
    ) -> IngestReport:
        results.sort(key=lambda r: r.path)
        return IngestReport(
            tuple(results),
            writer.rows_written,
            deleted,
            time.perf_counter() - started,
            chunks_quarantined=writer.rows_quarantined,
            stages=dict(self._clock.seconds),
        )

    def run_documents(
        self,
        documents: Sequence[DocumentSource],
        *,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Ingest already-parsed documents; unchanged ones are skipped, changed ones replaced."""
        started = time.perf_counter()
        results: list[FileResult] = []
        finish = self._finisher(results, progress)
        self._begin_run()
        try:
            writer = self._write_jobs(self._document_jobs(documents), finish)
            if self._halt:
                self._report_unwritten([d.source for d in documents], results, finish)
            else:
                self._flush(writer.rows_written + writer.rows_quarantined, writer.rows_deleted)
        finally:
            self._end_journal(results)
            self._close_own_pool()
        return self._report(results, writer, writer.rows_deleted, started)

    def _document_jobs(self, documents: Sequence[DocumentSource]) -> Iterator[_FileJob]:
        """The jobs of already-parsed documents: chunked and scored by the parse workers,
        or here when there are few, or when the embedder keeps every core busy itself (a
        model on the CPU: chunking a text costs well under a thousandth of embedding it,
        and workers would only take cores from the model)."""
        pool = (
            self._worker_pool()
            if len(documents) > _TINY_DOCUMENTS and not _fills_cores(self._embedder)
            else None
        )
        if pool is not None:
            try:
                yield from self._pooled(pool, self._document_tasks(documents))
                return
            except WorkerStartError as e:
                log.warning("parse workers could not start (%s); parsing in this process", e)
        self._prefetch_states([d.source for d in documents[:_STATE_BLOCK]])
        for n, d in enumerate(documents):
            if n and n % _STATE_BLOCK == 0:
                self._prefetch_states([x.source for x in documents[n : n + _STATE_BLOCK]])
            yield self._job_or_failure(d.source, lambda d=d: self._job(d.source, d.sha256, d.parse))

    def _document_tasks(self, documents: Sequence[DocumentSource]) -> Iterator[object]:
        for n, d in enumerate(documents):
            if n % _STATE_BLOCK == 0:
                self._prefetch_states([x.source for x in documents[n : n + _STATE_BLOCK]])
            if self._halt:
                yield _FileJob(d.source, [], set(), result=self._halt.result(d.source))
                continue
            try:
                state = self._stored(d.source, d.sha256)
            except Exception as e:  # noqa: BLE001 - one bad document never stops the others
                yield self._failure(d.source, e)
                continue
            if isinstance(state, _FileJob):
                yield state
                continue
            yield state, ParseTask(n, d.source, d.sha256, state.doc_id, parse=d.parse)

    def _report_unwritten(
        self, sources: list[str], results: list[FileResult], finish: Callable[[FileResult], None]
    ) -> None:
        """After a stop: every source without an outcome is reported not written.

        Nothing is flushed (Milvus is unreachable); rows written before the stop
        are in Milvus's log already, and the next ingest writes the rest.
        """
        done = {r.path for r in results}
        for source in sources:
            if source not in done:
                done.add(source)
                finish(self._halt.result(source))

    def _write_jobs(
        self, jobs: Iterable[_FileJob], finish: Callable[[FileResult], None]
    ) -> _Writer:
        """Embed and write ``jobs``; returns the writer with its counts."""
        writer = _Writer(
            self._store,
            self._collection,
            self._settings,
            finish,
            self._assigner,
            quality=self._quality,
            quarantine=self._quarantine,
            metric=self._metric,
            clock=self._clock,
            ensure_quarantine=self._ensure_quarantine,
            images=self._images,
            ensure_images=self._create_images,
            tenant=self._tenant,
            halt=self._halt,
            had_rows=self._main_had_rows,
        )
        # a batch sized for the device (an embedder may know better, e.g. a GPU: hundreds)
        batch = int(getattr(self._embedder, "ingest_batch", 0) or self._embed_batch)
        # a model that fills the cores itself takes turns with the writer instead of running
        # beside it: its intra-op threads wait for each other at every layer, so a writer
        # (and Milvus Lite's threads) taking one core from them slows it by more than the
        # writes cost (measured with the peers' benchmark, see BENCHMARKS.md)
        turns = writer.turns if _fills_cores(self._embedder) else None
        embedder = _EmbedStage(self._embedder, batch, writer.put, self._clock, turns=turns)
        writer.start()
        # parsed jobs wait in a queue in front of the embedder (up to two batches of chunks),
        # so the next batch is ready when the model finishes one, and parsing goes on meanwhile
        it = _Prefetch(iter(jobs), max_chunks=2 * batch)
        try:
            for job in it:
                if job.result is not None:
                    finish(job.result)
                elif self._halt:
                    break  # Milvus is gone: embedding the rest would be for nothing
                elif not job.chunks:
                    finish(
                        FileResult(job.path, "failed", 0, "parse_error", "no text found in file")
                    )
                else:
                    embedder.add(job)
            if not self._halt:
                embedder.drain()
        finally:
            it.close()  # stops the parse workers of a generator left early
            writer.close()
        return writer

    # -------------------------------------------------------------- parse stage
    def _parsed_jobs(
        self, entries: list[SourceEntry], names: Mapping[Path, str]
    ) -> Iterator[_FileJob]:
        """Parse, chunk and score in the worker processes, yielding in completion order; a
        tiny ingest of plain-text files is done here (starting workers would cost more)."""
        pool = None if _tiny(entries) else self._worker_pool()
        if pool is not None:
            try:
                yield from self._pooled(pool, self._file_tasks(entries, names))
                return
            except WorkerStartError as e:
                log.warning("parse workers could not start (%s); parsing in this process", e)
        yield from self._threaded_jobs(entries, names)

    def _worker_pool(self) -> WorkerPool | None:
        """The warm pool of parse workers, or None when what parses cannot travel to one."""
        chunker = self._chunker
        for_workers = getattr(chunker, "for_workers", None)
        kit = WorkerKit(
            for_workers() if callable(for_workers) else chunker,
            self._quality,
            self._parsers,
            self._english_terms(),
        )
        if self._pools is None:
            self._pools = PoolKeeper()
        s = self._settings
        try:
            return self._pools.pool(kit, s.workers, s.file_timeout_s, s.file_memory_mb)
        except Exception as e:  # noqa: BLE001 - pickling raises many kinds
            log.info("parsing in this process: the parser setup cannot be sent to workers (%r)", e)
            return None

    def _close_own_pool(self) -> None:
        if self._own_pools and self._pools is not None:
            self._pools.close()
            self._pools = None

    def _file_tasks(
        self, entries: list[SourceEntry], names: Mapping[Path, str]
    ) -> Iterator[object]:
        """Per file: a skip or failure decided here, or its parse task for a worker."""
        max_bytes = int(self._settings.max_file_mb * 1024 * 1024)
        for n, entry in enumerate(entries):
            if n % _STATE_BLOCK == 0:
                block = entries[n : n + _STATE_BLOCK]
                self._prefetch_states([names.get(e.path, str(e.path)) for e in block])
            source = names.get(entry.path, str(entry.path))
            if self._halt:
                yield _FileJob(source, [], set(), result=self._halt.result(source))
                continue
            try:
                if entry.error is not None:
                    raise entry.error
                sha = hashlib.sha256(read_limited(entry.path, max_bytes)).hexdigest()
                state = self._stored(source, sha)
            except Exception as e:  # noqa: BLE001 - one bad file never stops the others
                yield self._failure(source, e)
                continue
            if isinstance(state, _FileJob):
                yield state
                continue
            task = ParseTask(
                n, source, sha, state.doc_id, path=str(entry.path), max_bytes=max_bytes
            )
            yield state, task

    def _pooled(self, pool: WorkerPool, items: Iterator[object]) -> Iterator[_FileJob]:
        """Run ``items`` (ready jobs, and (state, task) pairs) through the workers."""
        pending: dict[int, tuple[_Pending, ParseTask]] = {}

        def tasks() -> Iterator[object]:
            for item in items:
                if isinstance(item, tuple):
                    state, task = item
                    pending[task.key] = (state, task)
                    yield task
                else:
                    yield item

        def local(task: ParseTask) -> ParseOutcome:
            try:
                return prepare(self._kit(), task, self._analyzer())
            except MemoryError:
                code, message = too_costly("memory", task.source, self._settings.file_memory_mb)
                return ParseOutcome(task.key, error_code=code, error=message)

        window = max(2, self._settings.workers * 2)
        for item in pool.run(tasks(), window=window, local=local):
            if not isinstance(item, ParseOutcome):
                assert isinstance(item, _FileJob)
                yield item
                continue
            state, task = pending.pop(item.key)
            job = self._from_outcome(state, item)
            if (
                task.path is not None
                and self._image_embedder is not None
                and job.chunks
                and job.chunks[0].mime_type.startswith("image/")
            ):
                path = Path(task.path)
                job = self._job_or_failure(
                    state.source, lambda job=job, path=path: self._with_image_vector(job, path)
                )
            yield job

    def _with_image_vector(self, job: _FileJob, path: Path) -> _FileJob:
        """``job`` with the image vector of its file (an image, with an image model)."""
        data = read_limited(path, int(self._settings.max_file_mb * 1024 * 1024))
        t0 = time.perf_counter()
        job.image_vector = self._image_embedder.embed_images([data])[0]
        self._clock.add("image_embed", time.perf_counter() - t0)
        return job

    def _threaded_jobs(
        self, entries: list[SourceEntry], names: Mapping[Path, str]
    ) -> Iterator[_FileJob]:
        """Parse and chunk with a bounded window of threads, yielding in completion order."""
        window = max(2, self._settings.workers * 2)
        with ThreadPoolExecutor(self._settings.workers, thread_name_prefix="ragsilo-parse") as pool:
            pending: deque[Future[_FileJob]] = deque()
            it = iter(entries)
            submitted = 0

            def submit(entry: SourceEntry) -> None:
                nonlocal submitted
                if submitted % _STATE_BLOCK == 0:
                    block = entries[submitted : submitted + _STATE_BLOCK]
                    self._prefetch_states([names.get(e.path, str(e.path)) for e in block])
                pending.append(pool.submit(self._prepare, entry, names))
                submitted += 1

            try:
                for entry in it:
                    submit(entry)
                    if len(pending) >= window:
                        break
                while pending:
                    job = pending.popleft().result()
                    nxt = None if self._halt else next(it, None)
                    if nxt is not None:
                        submit(nxt)
                    yield job
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _begin_run(self) -> None:
        self._halt = Halt()
        self._states.clear()
        self._purged.clear()
        self._rows_at_start = None
        self._ask_every_block = False
        self._looked_up = set()

    def _prefetch_states(self, sources: list[str]) -> None:
        """Look up what the store holds for a block of documents in one query.

        One ``doc_id in [...]`` query per block, made before this block's writes
        begin, replaces a query per file (each of which, on Milvus Lite, also has
        to scan the rows written earlier in the same run). A run that began with
        the collection and its quarantine empty asks only about documents it has
        looked up before (given twice): no other document can have rows.
        """
        doc_ids = [self._doc_id(s) for s in sources]
        if not doc_ids or self._halt:
            return
        found: dict[str, list[dict[str, Any]]] = {d: [] for d in doc_ids}
        ask = doc_ids
        if self._began_empty():
            ask = [d for d in doc_ids if d in self._looked_up]
            self._looked_up.update(doc_ids)
            if len(self._looked_up) > _LOOKED_UP_CAP:
                self._ask_every_block = True  # past this, every block is asked about again
                self._looked_up = set()
        fields = ["doc_id", "id", "file_sha256", "doc_chunks"]
        try:
            if ask:
                expr = f"doc_id in [{', '.join(quote(d) for d in ask)}]"
                for where, name in self._collections():
                    for r in self._store.query(name, expr, fields):
                        found.setdefault(r["doc_id"], []).append({**r, "_where": where})
        except RagsiloError as e:
            if not stops_the_ingest(e):
                raise
            self._halt.trip(e)
            return
        self._states.update(found)
        if self._journal is not None:
            purged = self._journal.purged_ids(doc_ids)
            self._purged.update({d: purged.get(d, []) for d in doc_ids})

    def _began_empty(self) -> bool:
        """Whether the collection and its quarantine held no rows when this run began."""
        return not self._ask_every_block and not any(self._counted_at_start().values())

    def _main_had_rows(self) -> bool:
        """Whether the collection held rows when this run began (the writer's question)."""
        return self._counted_at_start().get(MAIN, 0) != 0

    def _counted_at_start(self) -> dict[str, int]:
        """The rows of the collection (and its quarantine) when this run began, counted on
        the first call; a count that fails counts as rows (-1), so nothing is skipped."""
        with self._count_lock:  # the prefetch and writer threads both ask
            if self._rows_at_start is None:
                try:
                    self._rows_at_start = {
                        where: self._store.count(name) for where, name in self._collections()
                    }
                except RagsiloError:
                    self._rows_at_start = {MAIN: -1}
            return self._rows_at_start

    def _collections(self) -> list[tuple[str, str]]:
        out = [(MAIN, self._collection)]
        if self._quarantine is not None and self._quarantine_exists:
            out.append((QUARANTINE, self._quarantine))
        return out

    def _ensure_quarantine(self) -> None:
        if self._quarantine_exists:
            return
        if self._create_quarantine is not None:
            self._create_quarantine()
        self._quarantine_exists = True

    def _doc_id(self, source: str) -> str:
        """A document's id: from its source, and its tenant when there is one (so two
        tenants' copies of one file are two documents)."""
        if self._tenant is None:
            return make_doc_id(source)
        return make_doc_id(f"{self._tenant}\x1f{source}")

    def _prepare(self, entry: SourceEntry, names: Mapping[Path, str]) -> _FileJob:
        source = names.get(entry.path, str(entry.path))
        if self._halt:
            return _FileJob(source, [], set(), result=self._halt.result(source))

        def read_and_parse() -> _FileJob:
            if entry.error is not None:
                raise entry.error
            max_bytes = int(self._settings.max_file_mb * 1024 * 1024)
            data = read_limited(entry.path, max_bytes)
            sha = hashlib.sha256(data).hexdigest()
            job = self._job(
                source, sha, lambda: parse_bytes(data, entry.path.name, parsers=self._parsers)
            )
            if (
                self._image_embedder is not None
                and job.chunks
                and job.chunks[0].mime_type.startswith("image/")
            ):
                t0 = time.perf_counter()
                job.image_vector = self._image_embedder.embed_images([data])[0]
                self._clock.add("image_embed", time.perf_counter() - t0)
            return job

        return self._job_or_failure(source, read_and_parse)

    def _job(self, source: str, sha: str, parse: Callable[[], ParsedDocument]) -> _FileJob:
        """The chunks of one document version, or a skip when the store already holds it."""
        pending = self._stored(source, sha)
        if isinstance(pending, _FileJob):
            return pending
        task = ParseTask(0, source, sha, pending.doc_id, parse=parse)
        try:
            outcome = prepare(self._kit(), task, self._analyzer())
        except MemoryError:
            code, message = too_costly("memory", source, self._settings.file_memory_mb)
            outcome = ParseOutcome(0, error_code=code, error=message)
        return self._from_outcome(pending, outcome)

    def _stored(self, source: str, sha: str) -> _FileJob | _Pending:
        """A skip when the store already holds exactly this version of ``source``, else what
        it holds of the document (to replace once the new chunks are written)."""
        doc_id = self._doc_id(source)
        stored = self._states.pop(doc_id, None)
        purged = self._purged.pop(doc_id, None)
        if stored is None:
            stored = []
            for where, name in self._collections():
                rows = self._store.query(
                    name, f"doc_id == {quote(doc_id)}", ["id", "file_sha256", "doc_chunks"]
                )
                stored.extend({**r, "_where": where} for r in rows)
            if self._journal is not None:
                purged = self._journal.purged_ids([doc_id]).get(doc_id)
        old_where = {r["id"]: r.get("_where", MAIN) for r in stored}
        old_ids = set(old_where)
        gone = [p for p in purged or () if p["file_sha256"] == sha and p["id"] not in old_ids]
        if _is_complete(stored + gone, sha):
            quarantined = sum(1 for w in old_where.values() if w == QUARANTINE)
            return _FileJob(
                source,
                [],
                old_ids,
                result=FileResult(source, "skipped", len(stored), quarantined=quarantined),
            )
        return _Pending(source, doc_id, sha, old_ids, old_where, {str(p["id"]) for p in gone})

    def _from_outcome(self, pending: _Pending, outcome: ParseOutcome) -> _FileJob:
        """The job of a parsed document (or its failure)."""
        self._clock.add("parse", outcome.parse_s)
        if outcome.score_s:
            self._clock.add("score", outcome.score_s)
        source = pending.source
        if outcome.error_code is not None:
            failed = FileResult(source, "failed", 0, outcome.error_code, outcome.error or "")
            return _FileJob(source, [], set(), result=failed)
        chunks = outcome.chunks
        job = _FileJob(
            source,
            chunks,
            pending.old_ids,
            old_where=pending.old_where,
            scores=outcome.scores,
            terms=outcome.terms,
            hashes=outcome.hashes,
        )
        # chunks of another version (the file changed after it was hashed) are never purged
        job.purged = pending.purged & {c.id for c in chunks}
        return job

    def _kit(self) -> WorkerKit:
        """What parses, chunks and scores a document, here or in a worker."""
        return WorkerKit(self._chunker, self._quality, self._parsers, self._english_terms())

    def _english_terms(self) -> bool:
        """Whether chunks come with their rows' BM25 terms: the collection keeps
        ragsilo-made ones (English on Milvus Lite)."""
        has_terms = getattr(self._store, "has_terms", None)
        return bool(has_terms(self._collection)) if callable(has_terms) else False

    def _analyzer(self) -> Callable[[str], str] | None:
        """The English BM25 analyzer for chunks made in this process (its stems cached
        for the life of this ingestor), or None when the rows keep no terms."""
        if not self._english_terms():
            return None
        if self._english is None:
            from ragsilo.store.analysis import EnglishTerms

            self._english = EnglishTerms()
        return self._english

    def _job_or_failure(self, source: str, make: Callable[..., _FileJob]) -> _FileJob:
        try:
            return make()
        except Exception as e:  # noqa: BLE001 - one bad file never stops the others
            return self._failure(source, e)

    def _failure(self, source: str, e: Exception) -> _FileJob:
        """The job of a document that failed with ``e`` (or a stop, when Milvus is gone)."""
        if isinstance(e, RagsiloError):
            if stops_the_ingest(e):
                self._halt.trip(e)
                return _FileJob(source, [], set(), result=self._halt.result(source))
            failed = FileResult(source, "failed", 0, e.code, str(e))
            return _FileJob(source, [], set(), result=failed)
        log.error("unexpected error while reading %s", source, exc_info=e)
        return _FileJob(
            source, [], set(), result=FileResult(source, "failed", 0, "internal_error", repr(e))
        )

    # --------------------------------------------------------------------- prune
    def _prune(self, paths: Sequence[str | Path], seen: set[Path]) -> tuple[list[FileResult], int]:
        roots = [Path(p).expanduser().resolve() for p in paths]
        dirs = [r for r in roots if r.is_dir()]
        if not dirs:
            return [], 0
        by_doc: dict[str, str] = {}
        scope = "" if self._tenant is None else with_tenant("", self._tenant)
        for row in self._store.iter_rows(self._collection, scope, ["doc_id", "source"]):
            by_doc.setdefault(row["doc_id"], row["source"])
        removed: list[FileResult] = []
        total = 0
        for doc_id, source in sorted(by_doc.items(), key=lambda kv: kv[1]):
            src = Path(source)
            if src in seen or src.exists():
                continue
            if not any(_is_within(src, d) for d in dirs):
                continue
            ids = [
                r["id"]
                for r in self._store.query(self._collection, f"doc_id == {quote(doc_id)}", ["id"])
            ]
            total += self._store.delete_ids(self._collection, ids)
            removed.append(FileResult(source, "removed", len(ids)))
        return removed, total


def _is_complete(stored: list[dict[str, Any]], sha: str) -> bool:
    """True when the store holds every chunk of exactly this version of the file.

    ``stored`` are the rows of the collection and of its quarantine, and the
    chunks of this version purged from the quarantine on purpose. A write
    interrupted by a crash leaves fewer rows than ``doc_chunks``, or rows of
    two versions; both mean "ingest again".
    """
    if not stored:
        return False
    return all(r["file_sha256"] == sha and r["doc_chunks"] == len(stored) for r in stored)


class _EmbedStage:
    """Embeds chunks in batches that span files; hands each fully embedded file on."""

    def __init__(
        self,
        embedder: Embedder,
        batch_size: int,
        emit: Callable[[_FileJob], None],
        clock: _StageClock | None = None,
        *,
        turns: threading.Lock | None = None,
    ):
        self._embedder = embedder
        self._batch_size = batch_size
        self._emit = emit
        self._clock = clock or _StageClock()
        # held while the model runs, when it takes turns with the writer
        self._turns = turns
        self._pending: list[tuple[_FileJob, int]] = []

    def add(self, job: _FileJob) -> None:
        self._pending.extend((job, i) for i in range(len(job.chunks)))
        while len(self._pending) >= self._batch_size:
            self._run_batch()

    def drain(self) -> None:
        while self._pending:
            self._run_batch()

    def _embed(self, texts: list[str]) -> np.ndarray:
        """The model's vectors of ``texts``; in its turn, when it takes turns with the writer
        (the turn is released before the jobs go on: the writer needs it to write them, and
        waiting for it is not embedding time)."""
        with self._turns if self._turns is not None else contextlib.nullcontext():
            t0 = time.perf_counter()
            try:
                return self._embedder.embed(texts)
            finally:
                self._clock.add("embed", time.perf_counter() - t0)

    def _run_batch(self) -> None:
        batch = self._pending[: self._batch_size]
        del self._pending[: self._batch_size]
        texts = [job.chunks[i].text for job, i in batch]
        try:
            vectors = self._embed(texts)
        except Exception as e:  # noqa: BLE001 - fail only the files in this batch
            code = e.code if isinstance(e, RagsiloError) else "embedding_error"
            for job in {id(j): j for j, _ in batch}.values():
                job.result = FileResult(job.path, "failed", 0, code, str(e))
                self._pending = [(j, i) for j, i in self._pending if j is not job]
                self._emit(job)
            return
        for n, (job, i) in enumerate(batch):
            job.vectors[i] = vectors[n]
            job.embedded += 1
            if job.done_embedding:
                self._emit(job)


class _Prefetch:
    """Pulls jobs from ``source`` on a thread of its own into a queue bounded by chunks
    (a job larger than the bound still passes, alone), and hands them out in order.

    ``close`` stops the thread, which then closes ``source`` (a generator may be closed
    only while no thread runs it).
    """

    _END = object()

    def __init__(self, source: Iterator[_FileJob], *, max_chunks: int) -> None:
        self._source = source
        self._max = max(1, max_chunks)
        self._items: deque[_FileJob] = deque()
        self._chunks = 0
        self._cond = threading.Condition()
        self._stop = False
        self._done = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._fill, name="ragsilo-prefetch", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        try:
            for job in self._source:
                n = len(job.chunks)
                with self._cond:
                    while self._items and self._chunks + n > self._max and not self._stop:
                        self._cond.wait()
                    if self._stop:
                        return
                    self._items.append(job)
                    self._chunks += n
                    self._cond.notify_all()
        except BaseException as e:  # noqa: BLE001 - raised again in the consumer
            self._error = e
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()
            if self._stop:
                self._close_source()

    def _close_source(self) -> None:
        close = getattr(self._source, "close", None)
        if close is not None:
            close()  # stops the parse workers of a generator left early

    def __iter__(self) -> _Prefetch:
        return self

    def __next__(self) -> _FileJob:
        with self._cond:
            while not self._items and not self._done:
                self._cond.wait()
            if self._items:
                job = self._items.popleft()
                self._chunks -= len(job.chunks)
                self._cond.notify_all()
                return job
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        raise StopIteration

    def close(self, wait_s: float = 5.0) -> None:
        """Stop pulling; the source is closed by the thread that runs it, at once when it
        waits on the queue, else as soon as the job it is waiting for arrives (this waits
        up to ``wait_s`` for that)."""
        with self._cond:
            self._stop = True
            self._items.clear()
            self._cond.notify_all()
        self._thread.join(wait_s)


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


class _Writer:
    """The write stage: one thread, a bounded queue, per-file all-or-nothing writes."""

    def __init__(
        self,
        store: VectorStore,
        collection: str,
        settings: IngestSettings,
        finish: Callable[[FileResult], None],
        assigner: ClusterModel | None = None,
        *,
        quality: QualityScorer | None = None,
        quarantine: str | None = None,
        metric: str = "COSINE",
        clock: _StageClock | None = None,
        ensure_quarantine: Callable[[], None] | None = None,
        images: str | None = None,
        ensure_images: Callable[[], None] | None = None,
        tenant: str | None = None,
        halt: Halt | None = None,
        had_rows: Callable[[], bool] | None = None,
    ) -> None:
        self._tenant = tenant
        self._halt = halt if halt is not None else Halt()
        self._ensure_quarantine = ensure_quarantine
        self._images = images
        self._ensure_images = ensure_images
        self._images_ready = False
        self._store = store
        self._collection = collection
        self._batch_bytes = int(settings.batch_mb * 1024 * 1024)
        self._group_files = settings.queue_files
        self._finish = finish
        self._assigner = assigner
        self._quality = quality
        self._quarantine = quarantine
        self._metric = metric
        self._clock = clock or _StageClock()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=self._group_files)
        self._thread = threading.Thread(target=self._loop, name="ragsilo-writer", daemon=True)
        # held while a group is written; a model that fills the cores holds it while it runs
        self.turns = threading.Lock()
        self._error: BaseException | None = None
        self.rows_written = 0
        self.rows_quarantined = 0
        self.rows_deleted = 0
        # whether the collection held rows when this run began (asked once, when first needed)
        self._had_rows: bool | None = None
        self._ask_had_rows = had_rows or (lambda: self._store.count(self._collection) > 0)
        # the chunks this run wrote to the collection, for the duplicate checks
        self._seen = _RunVectors()

    def start(self) -> None:
        self._thread.start()

    def put(self, job: _FileJob) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(job)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        stop = False
        while not stop:
            group: list[_FileJob] = []
            item = self._queue.get()
            # a group waits a moment for more files: one duplicate search and one upsert
            # for many files, not one per file as they trickle in
            deadline = time.monotonic() + _GROUP_WAIT_S
            chunks = 0
            while True:
                if item is _STOP:
                    stop = True
                    break
                assert isinstance(item, _FileJob)
                group.append(item)
                chunks += len(item.chunks)
                if len(group) >= self._group_files or chunks >= _GROUP_CHUNKS:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if group and self._error is None:
                try:
                    with self.turns:  # waiting for the model's turn is not write time
                        t0 = time.perf_counter()
                        try:
                            results = self._write_group(group)
                        finally:
                            self._clock.add("write", time.perf_counter() - t0)
                except RagsiloError as e:
                    if not stops_the_ingest(e):
                        self._error = e
                        continue
                    self._halt.trip(e)
                    results = [self._unwritten(j) for j in group]
                except BaseException as e:  # noqa: BLE001 - handed to the producer
                    self._error = e
                    continue
                for result in results:
                    try:
                        self._finish(result)
                    except BaseException as e:  # noqa: BLE001 - handed to the producer
                        # the loop keeps draining the queue, so the producer never blocks
                        self._error = e
                        break

    # ------------------------------------------------------------- quality
    def _assess(self, jobs: list[_FileJob]) -> None:
        """Decide each chunk's collection: the text score, then the duplicate checks."""
        for job in jobs:
            job.targets = [MAIN] * len(job.chunks)
        if self._quality is None:
            return
        t0 = time.perf_counter()
        scorer = self._quality
        hashes = {
            id(job): (
                job.hashes
                if len(job.hashes) == len(job.chunks)
                else [text_hash(c.text) for c in job.chunks]
            )
            for job in jobs
        }
        cands: list[tuple[_FileJob, int, str]] = []
        first: set[str] = set()
        for job in jobs:
            for i in range(len(job.chunks)):
                h = hashes[id(job)][i]
                if i >= len(job.scores) or not scorer.passes(job.scores[i]):
                    continue
                if job.chunks[i].metadata.get("caption"):
                    continue  # an image's caption: similar to every other, never a duplicate
                if scorer.settings.exact_duplicates and h in first:
                    job.scores[i] = scorer.duplicate(job.scores[i])
                    continue
                first.add(h)
                cands.append((job, i, h))
        if cands and (
            scorer.settings.exact_duplicates or scorer.settings.near_duplicate_similarity
        ):
            self._duplicates(cands)
        for job in jobs:
            for i, c in enumerate(job.chunks):
                score = job.scores[i] if i < len(job.scores) else QualityScore(1.0)
                meta = {**c.metadata, QUALITY_KEY: {**score.to_dict(), "hash": hashes[id(job)][i]}}
                job.chunks[i] = replace(c, metadata=meta)
                if not scorer.passes(score) and self._quarantine is not None:
                    job.targets[i] = QUARANTINE
        self._clock.add("dedup", time.perf_counter() - t0)

    def _duplicates(self, cands: list[tuple[_FileJob, int, str]]) -> None:
        """Mark chunks that repeat a chunk of another document, stored already or earlier
        in this group: the same text (``duplicate``) or a cosine similarity of at least
        ``near_duplicate_similarity`` (``near_duplicate``).

        One search of the collection per group finds both: the same text has the
        same vector, and the stored content hash tells the two apart.
        """
        assert self._quality is not None
        scorer = self._quality
        exact = scorer.settings.exact_duplicates
        threshold = scorer.settings.near_duplicate_similarity or 2.0  # 0: never near
        vecs = np.vstack([cast(np.ndarray, j.vectors[i]) for j, i, _ in cands]).astype(np.float32)
        unit = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        docs = [j.chunks[i].doc_id for j, i, _ in cands]
        verdict: list[str | None] = [None] * len(cands)
        if self._had_rows is None:
            # counted once per run: what this run writes is compared in memory (``_seen``)
            self._had_rows = self._ask_had_rows()
        if not self._had_rows and not self._seen.overflowed:
            self._seen.check(unit, docs, [h for _, _, h in cands], exact, threshold, verdict)
        else:
            hits = self._store.search(
                self._collection,
                vecs,
                k=4,
                # a tenant's chunks are compared with that tenant's only
                filter="" if self._tenant is None else with_tenant("", self._tenant),
                output_fields=["doc_id", "metadata"],
            )
            for n, row_hits in enumerate(hits):
                for h in row_hits:
                    if h.get("doc_id") == docs[n]:
                        continue  # the file's own older version
                    stored = ((h.get("metadata") or {}).get(QUALITY_KEY) or {}).get("hash")
                    if exact and stored == cands[n][2]:
                        verdict[n] = "duplicate"
                        break
                    if self._similarity(h) >= threshold:
                        verdict[n] = "near_duplicate"
        kept: list[int] = []
        for n in range(len(cands)):
            if verdict[n] is None and kept and threshold <= 1.0:
                sims = unit[kept] @ unit[n]
                if any(
                    s >= threshold and docs[m] != docs[n]
                    for s, m in zip(sims.tolist(), kept, strict=True)
                ):
                    verdict[n] = "near_duplicate"
            if verdict[n] is None:
                kept.append(n)
        for n, (job, i, _) in enumerate(cands):
            if verdict[n] == "duplicate":
                job.scores[i] = scorer.duplicate(job.scores[i])
            elif verdict[n] == "near_duplicate":
                job.scores[i] = scorer.near_duplicate(job.scores[i])

    def _similarity(self, hit: dict[str, Any]) -> float:
        d = float(hit["distance"])
        if self._metric == "L2":
            return 1.0 - d / 2.0  # squared distance of unit vectors
        return d

    # --------------------------------------------------------------- writes
    def _write_group(self, jobs: list[_FileJob]) -> list[FileResult]:
        """Write the files that are ready in one upsert per collection; one RPC instead of
        one per file.

        If the shared write fails, every file is written again on its own, so each
        gets its own result and its own rollback; unless Milvus is unreachable, which
        stops the ingest (the error goes to the loop, which reports the group unwritten).
        """
        if self._halt:
            return [self._unwritten(j) for j in jobs]
        ready = [j for j in jobs if j.result is None]
        self._assess(ready)
        if len(ready) < 2:
            return [self._write(j) for j in jobs]
        try:
            self._upsert(ready)
        except RagsiloError as e:
            if stops_the_ingest(e):
                raise  # Milvus is gone: one write per file would only repeat the retries
            log.warning(
                "a grouped write of %d files failed (%s); writing them one by one", len(ready), e
            )
            # some of their rows may be written already: upserted again, never inserted twice
            return [self._write(j, again=True) for j in jobs]
        return [j.result if j.result is not None else self._replace_stale(j) for j in jobs]

    def _unwritten(self, job: _FileJob) -> FileResult:
        """A job's outcome once the ingest has stopped: its own, or 'not written'."""
        return job.result if job.result is not None else self._halt.result(job.path)

    def _upsert(self, jobs: list[_FileJob], *, again: bool = False) -> None:
        """Upsert the chunks of ``jobs``: good ones to the collection, poor ones to the
        quarantine (purged ones to neither).

        A chunk whose id the store did not hold when its file was looked up is new: the
        store may insert it rather than upsert it (cheaper on Milvus Lite), unless this
        is a write ``again`` after a failed one, which may have left some rows behind.
        """
        for target in (MAIN, QUARANTINE):
            # (chunks, vectors, terms) of the new chunks, then of those that may be stored
            parts: tuple[_Rows, _Rows] = (_Rows(), _Rows())
            for j in jobs:
                with_terms = len(j.terms) == len(j.chunks)
                for i, c in enumerate(j.chunks):
                    if j.targets[i] == target and c.id not in j.purged:
                        part = parts[1 if again or c.id in j.old_ids else 0]
                        part.add(c, j.vectors[i], j.terms[i] if with_terms else None)
            for new, part in zip((True, False), parts, strict=True):
                if part.chunks:
                    self._upsert_part(target, part, new=new)
        self._write_images(jobs)

    def _upsert_part(self, target: str, part: _Rows, *, new: bool) -> None:
        vectors = np.vstack(part.vectors).astype(np.float32, copy=False)
        terms = part.all_terms()
        extra: dict[str, Any] = {"terms": terms} if terms is not None else {}
        if new:
            extra["new"] = True
        if target == MAIN:
            self.rows_written += self._store.upsert_chunks(
                self._collection,
                part.chunks,
                vectors,
                batch_bytes=self._batch_bytes,
                **self._clusters_of(vectors),
                **extra,
            )
            if self._quality is not None:
                self._seen.add(vectors, part.chunks)
        else:
            assert self._quarantine is not None
            if self._ensure_quarantine is not None:
                self._ensure_quarantine()
            self.rows_quarantined += self._store.upsert_chunks(
                self._quarantine,
                part.chunks,
                vectors,
                batch_bytes=self._batch_bytes,
                tenant=self._tenant,
                **extra,
            )

    def _write_images(self, jobs: list[_FileJob]) -> None:
        image_rows = [
            {
                "id": c.id,
                "doc_id": c.doc_id,
                "source": truncate_utf8(c.source, 2048),
                "vector": j.image_vector.astype(np.float32).tolist(),
            }
            for j in jobs
            if j.image_vector is not None
            for c in j.chunks
        ]
        if image_rows and self._images is not None:
            if not self._images_ready and self._ensure_images is not None:
                self._ensure_images()
            self._images_ready = True
            self._store.write_rows(self._images, image_rows, batch_bytes=self._batch_bytes)

    def _write(self, job: _FileJob, *, again: bool = False) -> FileResult:
        if job.result is not None or self._halt:
            return self._unwritten(job)
        try:
            self._upsert([job], again=again)
        except RagsiloError as e:
            if stops_the_ingest(e):
                # no rollback: Milvus is unreachable; the next ingest rewrites this file
                self._halt.trip(e)
                return self._unwritten(job)
            self._rollback(job)
            return FileResult(job.path, "failed", 0, e.code, str(e))
        return self._replace_stale(job)

    def _clusters_of(self, vectors: np.ndarray) -> dict[str, Any]:
        """The cluster ids (and storage layout) of new chunks, and their tenant."""
        out: dict[str, Any] = {} if self._tenant is None else {"tenant": self._tenant}
        if self._assigner is None:
            return out
        return {
            **out,
            "cluster_ids": self._assigner.assign(vectors),
            "partitioned": self._assigner.partitioned,
        }

    def _new_ids(self, job: _FileJob, target: str) -> set[str]:
        return {
            c.id
            for i, c in enumerate(job.chunks)
            if (job.targets[i] if job.targets else MAIN) == target
        }

    def _replace_stale(self, job: _FileJob) -> FileResult:
        """After the new chunks are written, remove the ones the old version had alone
        (in either collection)."""
        quarantined = len(self._new_ids(job, QUARANTINE) - job.purged)
        for target, name in ((MAIN, self._collection), (QUARANTINE, self._quarantine)):
            old = {i for i, w in job.old_where.items() if w == target}
            if target == MAIN:
                old |= job.old_ids - set(job.old_where)  # ids of unknown place: the main one
            stale = sorted(old - self._new_ids(job, target))
            if not stale or name is None:
                continue
            try:
                self.rows_deleted += self._store.delete_ids(name, stale)
            except RagsiloError as e:
                return FileResult(
                    job.path,
                    "failed",
                    len(job.chunks),
                    e.code,
                    f"new chunks written but {len(stale)} stale chunks remain: {e}; "
                    "ingest again to remove them",
                )
        stale_images = sorted(job.old_ids - {c.id for c in job.chunks})
        if stale_images and self._images is not None and self._store.has_collection(self._images):
            try:
                self._store.delete_ids(self._images, stale_images)
            except RagsiloError as e:
                log.warning("stale image vectors of %s remain: %s", job.path, e)
        return FileResult(job.path, "ingested", len(job.chunks), quarantined=quarantined)

    def _rollback(self, job: _FileJob) -> None:
        """Remove the rows this failed write added (rows the file already had stay)."""
        for target, name in ((MAIN, self._collection), (QUARANTINE, self._quarantine)):
            added = sorted(self._new_ids(job, target) - job.old_ids)
            if not added or name is None:
                continue
            try:
                self._store.delete_ids(name, added)
            except RagsiloError as e:
                log.error("could not roll back %d rows of %s: %s", len(added), job.path, e)


class _RunVectors:
    """The unit vectors, documents and content hashes of the chunks one run wrote to the
    collection, so that a run into a collection that was empty when it began finds
    duplicates among its own chunks in memory instead of one store search per write group
    (on Milvus Lite a search walks every row in Python). Past ``cap`` rows it gives up,
    and the writer searches the store again (it holds the same rows)."""

    def __init__(self, cap: int = 20_000) -> None:
        self._cap = cap
        self._blocks: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self._docs: list[str] = []
        self._hashes: dict[str, set[str]] = {}
        self.overflowed = False

    def add(self, vectors: np.ndarray, chunks: Sequence[Chunk]) -> None:
        if self.overflowed:
            return
        if len(self._docs) + len(chunks) > self._cap:
            self.overflowed = True
            self._blocks, self._matrix, self._docs, self._hashes = [], None, [], {}
            return
        v = vectors.astype(np.float32, copy=True)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        self._blocks.append(v)
        self._matrix = None
        for c in chunks:
            self._docs.append(c.doc_id)
            h = (c.metadata.get(QUALITY_KEY) or {}).get("hash")
            if h:
                self._hashes.setdefault(h, set()).add(c.doc_id)

    def check(
        self,
        unit: np.ndarray,
        docs: list[str],
        hashes: list[str],
        exact: bool,
        threshold: float,
        verdict: list[str | None],
    ) -> None:
        """Set ``verdict[n]`` for candidates that repeat a chunk of another document written
        earlier in this run: ``duplicate`` (the same text) before ``near_duplicate``."""
        if not self._docs:
            return
        if self._matrix is None:
            self._matrix = np.vstack(self._blocks)
            self._blocks = [self._matrix]
        sims = unit @ self._matrix.T
        seen_docs = np.asarray(self._docs)
        for n in range(len(docs)):
            if exact and (self._hashes.get(hashes[n], set()) - {docs[n]}):
                verdict[n] = "duplicate"
                continue
            if threshold <= 1.0:
                near = sims[n] >= threshold
                if near.any() and (seen_docs[near] != docs[n]).any():
                    verdict[n] = "near_duplicate"


class _Rows:
    """Chunks on their way to one upsert, with their vectors and (where made) BM25 terms."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.vectors: list[np.ndarray] = []
        self.terms: list[str | None] = []

    def add(self, chunk: Chunk, vector: np.ndarray | None, terms: str | None) -> None:
        assert vector is not None
        self.chunks.append(chunk)
        self.vectors.append(vector)
        self.terms.append(terms)

    def all_terms(self) -> list[str] | None:
        """The terms of every chunk, or None when some were not made ahead."""
        if any(t is None for t in self.terms):
            return None
        return cast(list[str], self.terms)


def _fills_cores(embedder: Embedder) -> bool:
    """Whether ``embedder`` says it keeps every core busy by itself (a model on the CPU)."""
    try:
        return bool(getattr(embedder, "fills_cores", False))
    except RagsiloError:
        return False  # the model does not load: the embed stage reports it per batch


def _vectors(job: _FileJob) -> np.ndarray:
    return np.vstack([v for v in job.vectors if v is not None]).astype(np.float32, copy=False)

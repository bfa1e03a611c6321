"""The ingest pipeline: sources → parse + chunk (parallel workers) → embed (batched) → write.

Three stages run at once, joined by bounded queues so memory stays flat:

* parse workers (a thread pool, ``ingest.workers``) hash each file, skip it when
  the store already holds exactly this version, and otherwise read, parse and
  chunk it;
* the calling thread embeds chunks in batches that span files;
* one writer thread upserts each finished file and then removes that file's
  stale chunks, so a changed file is replaced without a window in which it is
  missing.

A file is written whole or not at all: a failure while writing one file rolls
back the rows it added, and never touches other files.

:meth:`Ingestor.run_documents` feeds documents that are already parsed (texts
sent to the service, for example) through the same chunk, embed and write
stages.
"""

from __future__ import annotations

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
from typing import Any

import numpy as np

from ragsilo.chunking import Chunker, make_doc_id
from ragsilo.cluster.model import ClusterModel
from ragsilo.embedding import Embedder
from ragsilo.errors import RagsiloError
from ragsilo.models import Chunk, FileResult, IngestReport, ParsedDocument
from ragsilo.parsers import parse_bytes
from ragsilo.settings import IngestSettings
from ragsilo.sources import SourceEntry, iter_source_files, read_limited
from ragsilo.store import MilvusStore, quote
from ragsilo.store.filters import with_tenant

log = logging.getLogger(__name__)

ProgressCallback = Callable[[FileResult], None]


@dataclass
class _FileJob:
    """One file on its way through the pipeline."""

    path: str
    chunks: list[Chunk]
    old_ids: set[str]
    vectors: list[np.ndarray | None] = field(default_factory=list)
    embedded: int = 0
    result: FileResult | None = None  # set when the job ends early (skip or failure)

    def __post_init__(self) -> None:
        self.vectors = [None] * len(self.chunks)

    @property
    def done_embedding(self) -> bool:
        return self.embedded == len(self.chunks)


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
# documents whose stored state is looked up in one query
_STATE_BLOCK = 256
# finished files the writer may send in one upsert
_GROUP_FILES = 64


class Ingestor:
    """Runs ingests of files into one collection.

    The collection must already exist (the facade creates it). ``embedder``
    and ``chunker`` are shared, read-only; one ``Ingestor`` may run many ingests
    one after the other.
    """

    def __init__(
        self,
        store: MilvusStore,
        collection: str,
        embedder: Embedder,
        chunker: Chunker,
        settings: IngestSettings,
        *,
        embed_batch: int = 32,
        cluster_assigner: ClusterModel | None = None,
        tenant: str | None = None,
    ) -> None:
        self._store = store
        # the tenant that owns what is written: part of each document's id, stored per row
        self._tenant = tenant
        self._collection = collection
        self._embedder = embedder
        self._chunker = chunker
        self._settings = settings
        self._embed_batch = embed_batch
        # the silo's clusters: each new chunk gets its nearest centroid's id
        self._assigner = cluster_assigner
        # what the store holds per document id, prefetched a block at a time
        self._states: dict[str, list[dict[str, Any]]] = {}

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
        names = dict(source_names or {})
        results: list[FileResult] = []

        def finish(res: FileResult) -> None:
            results.append(res)
            if progress is not None:
                progress(res)

        written, deleted = self._write_jobs(self._parsed_jobs(entries, names), finish)
        if prune:
            removed, pruned_rows = self._prune(paths, {e.path for e in entries})
            for res in removed:
                finish(res)
            deleted += pruned_rows
        if written or deleted:
            self._store.flush(self._collection)
        results.sort(key=lambda r: r.path)
        return IngestReport(tuple(results), written, deleted, time.perf_counter() - started)

    def run_documents(
        self,
        documents: Sequence[DocumentSource],
        *,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Ingest already-parsed documents; unchanged ones are skipped, changed ones replaced."""
        started = time.perf_counter()
        results: list[FileResult] = []

        def finish(res: FileResult) -> None:
            results.append(res)
            if progress is not None:
                progress(res)

        jobs = (
            self._job_or_failure(d.source, lambda d=d: self._job(d.source, d.sha256, d.parse))
            for d in documents
        )
        written, deleted = self._write_jobs(jobs, finish)
        if written or deleted:
            self._store.flush(self._collection)
        results.sort(key=lambda r: r.path)
        return IngestReport(tuple(results), written, deleted, time.perf_counter() - started)

    def _write_jobs(
        self, jobs: Iterable[_FileJob], finish: Callable[[FileResult], None]
    ) -> tuple[int, int]:
        """Embed and write ``jobs``; returns (rows written, stale rows deleted)."""
        writer = _Writer(
            self._store, self._collection, self._settings, finish, self._assigner, self._tenant
        )
        embedder = _EmbedStage(self._embedder, self._embed_batch, writer.put)
        writer.start()
        try:
            for job in jobs:
                if job.result is not None:
                    finish(job.result)
                elif not job.chunks:
                    finish(
                        FileResult(job.path, "failed", 0, "parse_error", "no text found in file")
                    )
                else:
                    embedder.add(job)
            embedder.drain()
        finally:
            writer.close()
        return writer.rows_written, writer.rows_deleted

    # -------------------------------------------------------------- parse stage
    def _parsed_jobs(
        self, entries: list[SourceEntry], names: Mapping[Path, str]
    ) -> Iterator[_FileJob]:
        """Parse and chunk with a bounded window of workers, yielding in completion order."""
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

            for entry in it:
                submit(entry)
                if len(pending) >= window:
                    break
            while pending:
                job = pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    submit(nxt)
                yield job

    def _prefetch_states(self, sources: list[str]) -> None:
        """Look up what the store holds for a block of documents in one query.

        One ``doc_id in [...]`` query per block, made before this block's writes
        begin, replaces a query per file (each of which, on Milvus Lite, also has
        to scan the rows written earlier in the same run).
        """
        doc_ids = [self._doc_id(s) for s in sources]
        rows = self._store.query(
            self._collection,
            f"doc_id in [{', '.join(quote(d) for d in doc_ids)}]",
            ["doc_id", "id", "file_sha256", "doc_chunks"],
        )
        found: dict[str, list[dict[str, Any]]] = {d: [] for d in doc_ids}
        for r in rows:
            found.setdefault(r["doc_id"], []).append(r)
        self._states.update(found)

    def _doc_id(self, source: str) -> str:
        """A document's id: from its source, and its tenant when there is one (so two
        tenants' copies of one file are two documents)."""
        if self._tenant is None:
            return make_doc_id(source)
        return make_doc_id(f"{self._tenant}\x1f{source}")

    def _prepare(self, entry: SourceEntry, names: Mapping[Path, str]) -> _FileJob:
        source = names.get(entry.path, str(entry.path))

        def read_and_parse() -> _FileJob:
            if entry.error is not None:
                raise entry.error
            max_bytes = int(self._settings.max_file_mb * 1024 * 1024)
            data = read_limited(entry.path, max_bytes)
            sha = hashlib.sha256(data).hexdigest()
            return self._job(source, sha, lambda: parse_bytes(data, entry.path.name))

        return self._job_or_failure(source, read_and_parse)

    def _job(self, source: str, sha: str, parse: Callable[[], ParsedDocument]) -> _FileJob:
        """The chunks of one document version, or a skip when the store already holds it."""
        doc_id = self._doc_id(source)
        stored = self._states.pop(doc_id, None)
        if stored is None:
            stored = self._store.query(
                self._collection, f"doc_id == {quote(doc_id)}", ["id", "file_sha256", "doc_chunks"]
            )
        old_ids = {r["id"] for r in stored}
        if _is_complete(stored, sha):
            return _FileJob(source, [], old_ids, result=FileResult(source, "skipped", len(stored)))
        doc = parse()
        chunks = self._chunker.chunk(doc, doc_id=doc_id, source=source, file_sha256=sha)
        chunks = [replace(c, doc_chunks=len(chunks)) for c in chunks]
        return _FileJob(source, chunks, old_ids)

    @staticmethod
    def _job_or_failure(source: str, make: Callable[[], _FileJob]) -> _FileJob:
        try:
            return make()
        except RagsiloError as e:
            failed = FileResult(source, "failed", 0, e.code, str(e))
            return _FileJob(source, [], set(), result=failed)
        except Exception as e:  # noqa: BLE001 - one bad file never stops the others
            log.exception("unexpected error while reading %s", source)
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


def _is_complete(stored: list[dict[str, object]], sha: str) -> bool:
    """True when the store holds every chunk of exactly this version of the file.

    A write interrupted by a crash leaves fewer rows than ``doc_chunks``, or rows
    of two versions; both mean "ingest again".
    """
    if not stored:
        return False
    return all(r["file_sha256"] == sha and r["doc_chunks"] == len(stored) for r in stored)


class _EmbedStage:
    """Embeds chunks in batches that span files; hands each fully embedded file on."""

    def __init__(self, embedder: Embedder, batch_size: int, emit: Callable[[_FileJob], None]):
        self._embedder = embedder
        self._batch_size = batch_size
        self._emit = emit
        self._pending: list[tuple[_FileJob, int]] = []

    def add(self, job: _FileJob) -> None:
        self._pending.extend((job, i) for i in range(len(job.chunks)))
        while len(self._pending) >= self._batch_size:
            self._run_batch()

    def drain(self) -> None:
        while self._pending:
            self._run_batch()

    def _run_batch(self) -> None:
        batch = self._pending[: self._batch_size]
        del self._pending[: self._batch_size]
        try:
            vectors = self._embedder.embed([job.chunks[i].text for job, i in batch])
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
        store: MilvusStore,
        collection: str,
        settings: IngestSettings,
        finish: Callable[[FileResult], None],
        assigner: ClusterModel | None = None,
        tenant: str | None = None,
    ) -> None:
        self._store = store
        self._collection = collection
        self._tenant = tenant
        self._batch_bytes = int(settings.batch_mb * 1024 * 1024)
        self._finish = finish
        self._assigner = assigner
        self._queue: queue.Queue[object] = queue.Queue(maxsize=_GROUP_FILES)
        self._thread = threading.Thread(target=self._loop, name="ragsilo-writer", daemon=True)
        self._lock = threading.Lock()
        self.rows_written = 0
        self.rows_deleted = 0

    def start(self) -> None:
        self._thread.start()

    def put(self, job: _FileJob) -> None:
        self._queue.put(job)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        stop = False
        while not stop:
            group: list[_FileJob] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stop = True
                    break
                assert isinstance(item, _FileJob)
                group.append(item)
                if len(group) >= _GROUP_FILES:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if group:
                with self._lock:
                    for result in self._write_group(group):
                        self._finish(result)

    def _write_group(self, jobs: list[_FileJob]) -> list[FileResult]:
        """Write the files that are ready in one upsert; one RPC instead of one per file.

        If the shared write fails, every file is written again on its own, so each
        gets its own result and its own rollback.
        """
        ready = [j for j in jobs if j.result is None]
        if len(ready) < 2:
            return [self._write(j) for j in jobs]
        try:
            vectors = np.vstack([_vectors(j) for j in ready])
            self.rows_written += self._store.upsert_chunks(
                self._collection,
                [c for j in ready for c in j.chunks],
                vectors,
                batch_bytes=self._batch_bytes,
                **self._clusters_of(vectors),
            )
        except RagsiloError as e:
            log.warning(
                "a grouped write of %d files failed (%s); writing them one by one", len(ready), e
            )
            return [self._write(j) for j in jobs]
        return [j.result if j.result is not None else self._replace_stale(j) for j in jobs]

    def _write(self, job: _FileJob) -> FileResult:
        if job.result is not None:
            return job.result
        new_ids = {c.id for c in job.chunks}
        try:
            vectors = _vectors(job)
            self.rows_written += self._store.upsert_chunks(
                self._collection,
                job.chunks,
                vectors,
                batch_bytes=self._batch_bytes,
                **self._clusters_of(vectors),
            )
        except RagsiloError as e:
            self._rollback(job, new_ids)
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

    def _replace_stale(self, job: _FileJob) -> FileResult:
        """After the new chunks are written, remove the ones the old version had alone."""
        stale = sorted(job.old_ids - {c.id for c in job.chunks})
        if stale:
            try:
                self.rows_deleted += self._store.delete_ids(self._collection, stale)
            except RagsiloError as e:
                return FileResult(
                    job.path,
                    "failed",
                    len(job.chunks),
                    e.code,
                    f"new chunks written but {len(stale)} stale chunks remain: {e}; "
                    "ingest again to remove them",
                )
        return FileResult(job.path, "ingested", len(job.chunks))

    def _rollback(self, job: _FileJob, new_ids: set[str]) -> None:
        """Remove the rows this failed write added (rows the file already had stay)."""
        added = sorted(new_ids - job.old_ids)
        if not added:
            return
        try:
            self._store.delete_ids(self._collection, added)
        except RagsiloError as e:
            log.error("could not roll back %d rows of %s: %s", len(added), job.path, e)


def _vectors(job: _FileJob) -> np.ndarray:
    return np.vstack([v for v in job.vectors if v is not None]).astype(np.float32, copy=False)

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
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ragsilo.chunking import Chunker, make_doc_id
from ragsilo.embedding import Embedder
from ragsilo.errors import RagsiloError
from ragsilo.models import Chunk, FileResult, IngestReport
from ragsilo.parsers import parse_bytes
from ragsilo.settings import IngestSettings
from ragsilo.sources import SourceEntry, iter_source_files, read_limited
from ragsilo.store import MilvusStore, quote

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


_STOP = object()


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
    ) -> None:
        self._store = store
        self._collection = collection
        self._embedder = embedder
        self._chunker = chunker
        self._settings = settings
        self._embed_batch = embed_batch

    # ------------------------------------------------------------------ public
    def run(
        self,
        paths: Sequence[str | Path],
        *,
        prune: bool = False,
        progress: ProgressCallback | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Ingest ``paths`` (files and folders); returns the per-file report."""
        started = time.perf_counter()
        entries = list(iter_source_files(paths, follow_symlinks=self._settings.follow_symlinks))
        if on_total is not None:
            on_total(len(entries))
        results: list[FileResult] = []
        written = deleted = 0

        def finish(res: FileResult) -> None:
            results.append(res)
            if progress is not None:
                progress(res)

        writer = _Writer(self._store, self._collection, self._settings, finish)
        embedder = _EmbedStage(self._embedder, self._embed_batch, writer.put)
        writer.start()
        try:
            for job in self._parsed_jobs(entries):
                if job.result is not None:
                    finish(job.result)
                elif not job.chunks:
                    finish(FileResult(job.path, "failed", 0, "parse_error", "no text found in file"))
                else:
                    embedder.add(job)
            embedder.drain()
        finally:
            writer.close()
        written, deleted = writer.rows_written, writer.rows_deleted
        if prune:
            removed, pruned_rows = self._prune(paths, {e.path for e in entries})
            for res in removed:
                finish(res)
            deleted += pruned_rows
        if written or deleted:
            self._store.flush(self._collection)
        results.sort(key=lambda r: r.path)
        return IngestReport(tuple(results), written, deleted, time.perf_counter() - started)

    # -------------------------------------------------------------- parse stage
    def _parsed_jobs(self, entries: list[SourceEntry]) -> Iterator[_FileJob]:
        """Parse and chunk with a bounded window of workers, yielding in completion order."""
        window = max(2, self._settings.workers * 2)
        with ThreadPoolExecutor(self._settings.workers, thread_name_prefix="ragsilo-parse") as pool:
            pending: deque[Future[_FileJob]] = deque()
            it = iter(entries)
            for entry in it:
                pending.append(pool.submit(self._prepare, entry))
                if len(pending) >= window:
                    break
            while pending:
                job = pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(self._prepare, nxt))
                yield job

    def _prepare(self, entry: SourceEntry) -> _FileJob:
        path = str(entry.path)
        try:
            if entry.error is not None:
                raise entry.error
            max_bytes = int(self._settings.max_file_mb * 1024 * 1024)
            data = read_limited(entry.path, max_bytes)
            sha = hashlib.sha256(data).hexdigest()
            doc_id = make_doc_id(path)
            stored = self._store.query(
                self._collection, f"doc_id == {quote(doc_id)}", ["id", "file_sha256", "doc_chunks"]
            )
            old_ids = {r["id"] for r in stored}
            if _is_complete(stored, sha):
                return _FileJob(path, [], old_ids, result=FileResult(path, "skipped", len(stored)))
            doc = parse_bytes(data, entry.path.name)
            chunks = self._chunker.chunk(doc, doc_id=doc_id, source=path, file_sha256=sha)
            chunks = [replace(c, doc_chunks=len(chunks)) for c in chunks]
            return _FileJob(path, chunks, old_ids)
        except RagsiloError as e:
            return _FileJob(path, [], set(), result=FileResult(path, "failed", 0, e.code, str(e)))
        except Exception as e:  # noqa: BLE001 - one bad file never stops the others
            log.exception("unexpected error while reading %s", path)
            return _FileJob(
                path, [], set(), result=FileResult(path, "failed", 0, "internal_error", repr(e))
            )

    # --------------------------------------------------------------------- prune
    def _prune(
        self, paths: Sequence[str | Path], seen: set[Path]
    ) -> tuple[list[FileResult], int]:
        roots = [Path(p).expanduser().resolve() for p in paths]
        dirs = [r for r in roots if r.is_dir()]
        if not dirs:
            return [], 0
        by_doc: dict[str, str] = {}
        for row in self._store.iter_rows(self._collection, "", ["doc_id", "source"]):
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
    ) -> None:
        self._store = store
        self._collection = collection
        self._batch_bytes = int(settings.batch_mb * 1024 * 1024)
        self._finish = finish
        self._queue: queue.Queue[object] = queue.Queue(maxsize=4)
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
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, _FileJob)
            with self._lock:
                self._finish(self._write(item))

    def _write(self, job: _FileJob) -> FileResult:
        if job.result is not None:
            return job.result
        vectors = np.vstack([v for v in job.vectors if v is not None]).astype(np.float32)
        new_ids = {c.id for c in job.chunks}
        try:
            self.rows_written += self._store.upsert_chunks(
                self._collection, job.chunks, vectors, batch_bytes=self._batch_bytes
            )
        except RagsiloError as e:
            self._rollback(job, new_ids)
            return FileResult(job.path, "failed", 0, e.code, str(e))
        stale = sorted(job.old_ids - new_ids)
        if stale:
            try:
                self.rows_deleted += self._store.delete_ids(self._collection, stale)
            except RagsiloError as e:
                return FileResult(
                    job.path, "failed", len(job.chunks), e.code,
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

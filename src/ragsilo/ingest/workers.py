"""Parse, chunk and score in worker processes, each file under a hard time and memory limit.

Parsing, chunking and scoring are Python-heavy: in threads they fight over the
GIL and adding workers does not help. Here they run in ``ingest.workers``
processes, each a fresh interpreter that imports only ragsilo (safe beside
threads, and never running the caller's script again as ``multiprocessing``'s
``spawn`` does), each given one file at a time:

* a worker that works on one file for longer than ``ingest.file_timeout_s`` is
  killed and replaced; the file fails alone with the code ``file_too_costly``;
* a worker's address space may grow by at most ``ingest.file_memory_mb`` over
  what it holds once started (``RLIMIT_AS``); a file that needs more fails the
  same way, and the worker is replaced so that nothing it half-built lingers.

Everything a worker needs (the chunker, the quality scorer, the parser
registry) travels to it pickled once, when it starts (a :class:`WorkerKit`);
the pool stays warm between ingests of one silo. What comes back per file is
its chunks and their text scores (:class:`ParseOutcome`).

:func:`prepare` is the one function that parses, chunks and scores a document;
the in-process path (tiny inputs, or a kit that cannot travel) calls the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CODE = "file_too_costly"
# how long a fresh worker may take to start (import ragsilo, load the tokenizer)
_START_TIMEOUT_S = 120.0


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class WorkerKit:
    """What a worker needs to turn one document into scored chunks; pickled once per worker."""

    chunker: Any
    quality: Any = None  # a QualityScorer, or None when scoring is off
    parsers: Mapping[str, Any] | None = None
    # make each chunk's English BM25 terms (a collection on Milvus Lite keeps them per row)
    english_terms: bool = False


@dataclass(frozen=True)
class ParseTask:
    """One document for a worker: a file to read (``path``) or a picklable ``parse``."""

    key: int
    source: str
    sha256: str
    doc_id: str
    path: str | None = None
    max_bytes: int = 0
    parse: Callable[[], Any] | None = None


@dataclass
class ParseOutcome:
    """A worker's answer: the chunks and their scores, or the error that failed the file."""

    key: int
    chunks: list[Any] = field(default_factory=list)
    scores: list[Any] = field(default_factory=list)
    sha256: str = ""
    error_code: str | None = None
    error: str | None = None
    # per chunk, made here so that the writing process need not: the BM25 terms of its
    # row (with ``english_terms``) and its content hash (with quality scoring)
    terms: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    parse_s: float = 0.0
    score_s: float = 0.0
    # the worker should be replaced (it hit its memory limit)
    recycle: bool = False


def score_chunks(quality: Any, chunks: list[Any]) -> list[Any]:
    """The text score of each chunk, one batched scorer call per kind of text: OCR text is
    checked for garbling; an image's caption is ours, never scored down."""
    from ragsilo.quality import QualityScore

    scores: list[Any] = [QualityScore(1.0)] * len(chunks)
    for ocr in (False, True):
        picked = [
            i
            for i, c in enumerate(chunks)
            if not c.metadata.get("caption") and bool(c.metadata.get("ocr")) == ocr
        ]
        if picked:
            batch = quality.score_texts([chunks[i].text for i in picked], ocr=ocr)
            for i, score in zip(picked, batch, strict=True):
                scores[i] = score
    return scores


def prepare(
    kit: WorkerKit, task: ParseTask, analyzer: Callable[[str], str] | None = None
) -> ParseOutcome:
    """Parse, chunk and score one document; errors become the outcome, never escape.

    With ``kit.english_terms``, ``analyzer`` (an :class:`~ragsilo.store.analysis.EnglishTerms`,
    made here when not given) makes each chunk's BM25 terms. A :class:`MemoryError` is
    left to the caller (a worker answers it and is replaced; in-process it is a plain
    failure).
    """
    from ragsilo.errors import RagsiloError

    t0 = time.perf_counter()
    sha = task.sha256
    try:
        if task.path is not None:
            from ragsilo.parsers import parse_bytes
            from ragsilo.sources import read_limited

            path = Path(task.path)
            data = read_limited(path, task.max_bytes)
            # the file may have changed since it was hashed: what is parsed is what is stored
            sha = hashlib.sha256(data).hexdigest()
            doc = parse_bytes(data, path.name, parsers=kit.parsers)
            del data
        else:
            assert task.parse is not None
            doc = task.parse()
        chunks = kit.chunker.chunk(doc, doc_id=task.doc_id, source=task.source, file_sha256=sha)
        chunks = [replace(c, doc_chunks=len(chunks)) for c in chunks]
        t1 = time.perf_counter()
        scores, hashes, terms = [], [], []
        if kit.quality is not None:
            from ragsilo.quality import text_hash

            scores = score_chunks(kit.quality, chunks)
            hashes = [text_hash(c.text) for c in chunks]
        if kit.english_terms:
            from ragsilo.store.rows import row_terms

            if analyzer is None:
                from ragsilo.store.analysis import EnglishTerms

                analyzer = EnglishTerms()
            terms = [row_terms(c.text, analyzer) for c in chunks]
        t2 = time.perf_counter()
    except RagsiloError as e:
        if _out_of_memory(e):
            raise MemoryError(str(e)) from e  # a parser reported it as unreadable: it is not
        return ParseOutcome(task.key, sha256=sha, error_code=e.code, error=str(e))
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - one bad file never stops the others
        log.exception("unexpected error while reading %s", task.source)
        return ParseOutcome(task.key, sha256=sha, error_code="internal_error", error=repr(e))
    return ParseOutcome(
        task.key, chunks, scores, sha, terms=terms, hashes=hashes, parse_s=t1 - t0, score_s=t2 - t1
    )


def _out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` was caused, at any depth, by running out of memory."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, MemoryError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def too_costly(limit: str, source: str, value: float) -> tuple[str, str]:
    """The code and message of a file over its ``limit`` ('time' or 'memory')."""
    if limit == "time":
        what = f"parsing it took longer than {value:g} s"
        setting = "ingest.file_timeout_s"
    else:
        what = f"parsing it needed more than {value:g} MB of memory"
        setting = "ingest.file_memory_mb"
    return CODE, (
        f"{source}: {what}, so it was stopped; the other files go on. If the file is "
        f"trusted, raise {setting} (RAGSILO_INGEST__{setting.split('.')[1].upper()}) "
        "and ingest it again"
    )


# ------------------------------------------------------------------ the worker side
def _set_memory_limit(extra_mb: float) -> None:
    """Cap this process's address space at what it holds now plus ``extra_mb``."""
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still holds
        return
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            held = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        held = 0
    limit = held + int(extra_mb * 1024 * 1024)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _die_with_parent() -> None:
    """End this worker soon after the ingest process dies (``kill -9`` included), even while
    it is deep in a long file: a thread watches for the parent to change.

    Not ``PR_SET_PDEATHSIG``: it fires when the *thread* that started the worker ends,
    and ingests run on short-lived threads (a service's request threads)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="ragsilo-parent-watch", daemon=True).start()


def _worker_entry() -> None:
    """A worker process's entry (``python -c``): its end of the socket is the fd in argv."""
    _die_with_parent()
    conn = Connection(int(sys.argv[1]))
    try:
        kit_bytes = conn.recv_bytes()
        memory_mb = float(conn.recv())
    except (EOFError, OSError):
        return
    _worker_main(conn, kit_bytes, memory_mb)


def _worker_main(conn: Connection, kit_bytes: bytes, memory_mb: float) -> None:
    """A worker: load the kit, answer 'ready', then parse one task at a time until told to stop
    (``None``) or the socket closes (the ingest went away)."""
    try:
        kit: WorkerKit = pickle.loads(kit_bytes)
        # warm up: parsing a tiny text loads the tokenizer and the scorer now, not per file
        from ragsilo.models import ParsedDocument, Section

        kit.chunker.chunk(
            ParsedDocument("w", "text/plain", (Section("warm up text for the worker"),)),
            doc_id="w",
            source="w",
            file_sha256="w",
        )
    except BaseException as e:  # noqa: BLE001 - the parent falls back to in-process work
        with contextlib.suppress(OSError):
            conn.send(("failed", repr(e)))
        return
    analyzer = None
    if kit.english_terms:
        from ragsilo.store.analysis import EnglishTerms

        analyzer = EnglishTerms()  # its stem cache lives as long as the worker
    if memory_mb > 0:
        _set_memory_limit(memory_mb)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            outcome = prepare(kit, task, analyzer)
        except MemoryError:
            code, message = too_costly("memory", task.source, memory_mb)
            outcome = ParseOutcome(task.key, error_code=code, error=message, recycle=True)
        try:
            conn.send(outcome)
        except MemoryError:
            code, message = too_costly("memory", task.source, memory_mb)
            conn.send(ParseOutcome(task.key, error_code=code, error=message, recycle=True))
        except (BrokenPipeError, OSError):
            return
        if outcome.recycle:
            return


# ------------------------------------------------------------------ the parent side
class WorkerStartError(Exception):
    """The workers could not start (the kit does not unpickle there, say): work in-process."""


_ENTRY = "from ragsilo.ingest.workers import _worker_entry; _worker_entry()"
# one thread per worker: the pool is the parallelism
_WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


class _Worker:
    """One worker process: a fresh interpreter (``python -c``) joined by a socket pair.

    Not ``multiprocessing``: its ``spawn`` runs the caller's main script again in
    every worker, and a script without an ``if __name__ == "__main__"`` guard
    would ingest again there, or hang its parent; a fresh interpreter imports
    only ragsilo.
    """

    def __init__(self, kit_bytes: bytes, memory_mb: float) -> None:
        parent, child = socket.socketpair()
        env = {
            **os.environ,
            **_WORKER_ENV,
            # the caller's import path, so that what the kit names can be imported there
            "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path),
        }
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, str(child.fileno())],
                pass_fds=(child.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, ValueError) as e:  # ValueError: no fd passing on this platform
            parent.close()
            raise WorkerStartError(f"a parse worker could not be started: {e}") from e
        finally:
            child.close()
        self.conn: Connection = Connection(parent.detach())
        self._kit_bytes = kit_bytes
        self._memory_mb = memory_mb
        # sent and not yet answered, in order: the worker parses the first, the rest wait in
        # its socket (so it never waits for this process between files)
        self.tasks: deque[ParseTask] = deque()
        self.started = 0.0  # when the worker began the first of ``tasks``

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def await_ready(self, timeout: float) -> None:
        """Send the kit and wait for 'ready'; raises :class:`WorkerStartError`."""
        try:
            self.conn.send_bytes(self._kit_bytes)
            self.conn.send(self._memory_mb)
        except OSError as e:
            self.kill()
            raise WorkerStartError(f"a parse worker died while starting: {e!r}") from e
        if not self.conn.poll(timeout):
            self.kill()
            raise WorkerStartError(f"a parse worker did not start within {timeout:g} s")
        try:
            kind, detail = self.conn.recv()
        except (EOFError, OSError) as e:
            self.kill()
            raise WorkerStartError(f"a parse worker died while starting: {e!r}") from e
        if kind != "ready":
            self.kill()
            raise WorkerStartError(f"a parse worker could not start: {detail}")

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self.conn.close()


class WorkerPool:
    """``workers`` parse processes, started on first use and kept until :meth:`close`.

    :meth:`run` feeds tasks to idle workers from a thread of its own and hands
    the outcomes back through a bounded queue, so parsing goes on while the
    caller embeds and writes, and memory stays flat however many files come.
    One :meth:`run` at a time.
    """

    def __init__(
        self,
        kit: WorkerKit | bytes,
        workers: int,
        *,
        file_timeout_s: float = 120.0,
        file_memory_mb: float = 2048.0,
    ) -> None:
        # pickled here, in the caller, so that a kit which cannot travel fails at once
        self._kit_bytes = kit if isinstance(kit, bytes) else pickle.dumps(kit)
        self.workers = workers
        self.file_timeout_s = file_timeout_s
        self.file_memory_mb = file_memory_mb
        self._pool: list[_Worker] = []
        self._lock = threading.Lock()
        # one run at a time: two ingests of one silo from two threads take turns
        self._run_lock = threading.Lock()
        self.replaced = 0  # workers killed or recycled and started again (for tests and stats)

    @property
    def started(self) -> bool:
        return bool(self._pool)

    def _start(self) -> None:
        """Start workers until there are ``workers`` of them."""
        with self._lock:
            self._pool = [w for w in self._pool if w.alive()]
            missing = self.workers - len(self._pool)
        if missing <= 0:
            return
        fresh = [self._new() for _ in range(missing)]
        try:
            for w in fresh:
                w.await_ready(_START_TIMEOUT_S)
        except WorkerStartError:
            for w in fresh:
                w.kill()
            if not self._pool:
                raise
            log.error("only %d of %d parse workers are running", len(self._pool), self.workers)
            return
        with self._lock:
            self._pool.extend(fresh)

    def _new(self) -> _Worker:
        return _Worker(self._kit_bytes, self.file_memory_mb)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for w in pool:
            w.stop()

    def run(
        self,
        tasks: Iterable[object],
        *,
        window: int,
        local: Callable[[ParseTask], ParseOutcome],
    ) -> Iterator[object]:
        """The outcome of each task, in completion order.

        ``tasks`` may also yield other things (files decided without parsing),
        which pass straight through. A task that cannot be pickled runs through
        ``local`` on the feeding thread. At most ``window`` outcomes wait for
        the caller. Raises :class:`WorkerStartError` before the first outcome
        when the workers cannot start.
        """
        with self._run_lock:
            yield from self._run(tasks, window=window, local=local)

    def _run(
        self,
        tasks: Iterable[object],
        *,
        window: int,
        local: Callable[[ParseTask], ParseOutcome],
    ) -> Iterator[object]:
        self._start()
        out: queue.Queue[object] = queue.Queue(maxsize=max(1, window))
        stop = threading.Event()
        done = object()
        failure: list[BaseException] = []

        def emit(item: object) -> bool:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def feed() -> None:
            try:
                self._feed(iter(tasks), emit, stop, local)
            except BaseException as e:  # noqa: BLE001 - raised again in the caller
                failure.append(e)
            finally:
                emit(done) if not stop.is_set() else None

        thread = threading.Thread(target=feed, name="ragsilo-parse-feed", daemon=True)
        thread.start()
        try:
            while True:
                item = out.get()
                if item is done:
                    break
                yield item
            if failure:
                raise failure[0]
        finally:
            stop.set()
            thread.join()

    def _feed(
        self,
        tasks: Iterator[object],
        emit: Callable[[object], bool],
        stop: threading.Event,
        local: Callable[[ParseTask], ParseOutcome],
    ) -> None:
        workers = list(self._pool)
        # tasks taken back from a worker that was stopped before it reached them
        again: deque[ParseTask] = deque()
        exhausted = False
        pace = _Pace()

        def next_item() -> object | None:
            nonlocal exhausted
            if again:
                return again.popleft()
            if exhausted:
                return None
            item = next(tasks, None)
            exhausted = item is None
            return item

        def lost(w: _Worker) -> None:
            """``w`` is gone: the tasks it had not begun go to the others."""
            again.extendleft(reversed(list(w.tasks)))
            w.tasks.clear()

        try:
            while True:
                depth = pace.depth()
                while not stop.is_set():
                    open_ = [w for w in workers if len(w.tasks) < depth]
                    if not open_:
                        break
                    item = next_item()
                    if item is None:
                        break
                    if not isinstance(item, ParseTask):
                        if not emit(item):  # decided without parsing: passes straight through
                            return
                        continue
                    w = min(open_, key=lambda x: len(x.tasks))
                    try:
                        w.conn.send(item)
                    except (pickle.PicklingError, AttributeError, TypeError):
                        # a parse that cannot travel: done here instead
                        if not emit(local(item)):
                            return
                        continue
                    except OSError:  # the worker is gone: another takes its place
                        again.appendleft(item)
                        if w.tasks:
                            # it died on the file it was parsing: that file fails
                            first = w.tasks.popleft()
                            lost(w)
                            if not emit(self._died(w, first)):
                                return
                        fresh = self._replace(w)
                        workers.remove(w)
                        if fresh is not None:
                            workers.append(fresh)
                        elif not workers:
                            break
                        continue
                    if not w.tasks:
                        w.started = time.monotonic()
                    w.tasks.append(item)
                busy = [w for w in workers if w.tasks]
                if not busy or stop.is_set():
                    if not workers and not stop.is_set():  # no worker could be replaced
                        while (item := next_item()) is not None:
                            if stop.is_set() or not emit(
                                local(item) if isinstance(item, ParseTask) else item
                            ):
                                return
                    return
                now = time.monotonic()
                wait_s = min(w.started + self.file_timeout_s for w in busy) - now
                ready = wait(
                    [w.conn for w in busy],
                    timeout=max(0.0, min(wait_s, 0.5)),  # and look at ``stop`` twice a second
                )
                if stop.is_set():
                    return
                for w in busy:
                    outcomes, gone = self._collect(w, ready, time.monotonic())
                    for outcome in outcomes:
                        pace.add(outcome)
                        if not emit(outcome):
                            return
                    if gone:
                        lost(w)
                        fresh = self._replace(w)
                        workers.remove(w)
                        if fresh is not None:
                            workers.append(fresh)
        finally:
            # a run left early: workers still on a task are stopped, so that the next run
            # does not read this one's answers; it starts new ones in their place
            for w in workers:
                if w.tasks:
                    w.kill()
                    with self._lock:
                        self._pool = [p for p in self._pool if p is not w]

    def _collect(self, w: _Worker, ready: list[Any], now: float) -> tuple[list[ParseOutcome], bool]:
        """The outcomes ``w`` has sent (answered, died, or ran out of time), and whether it
        must be replaced (its tasks not yet begun are then taken back by the caller)."""
        out: list[ParseOutcome] = []
        if w.conn in ready:
            try:
                while w.tasks and w.conn.poll():
                    got = w.conn.recv()
                    if not isinstance(got, ParseOutcome):
                        continue
                    w.tasks.popleft()
                    w.started = time.monotonic()  # it began the next one as it sent this
                    out.append(got)
                    if got.recycle:
                        return out, True
                return out, False
            except (EOFError, OSError):
                pass
            # the worker died on the file it was parsing: out of memory in native code, or
            # a crash
            task = w.tasks.popleft()
            out.append(self._died(w, task))
            return out, True
        if w.tasks and now >= w.started + self.file_timeout_s:
            task = w.tasks.popleft()
            code, message = too_costly("time", task.source, self.file_timeout_s)
            log.warning("parse worker %s stopped: %s", w.pid, message)
            w.kill()
            out.append(ParseOutcome(task.key, error_code=code, error=message, recycle=True))
            return out, True
        return out, False

    def _died(self, w: _Worker, task: ParseTask) -> ParseOutcome:
        """The outcome of ``task``, on which worker ``w`` died."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            w.process.wait(1)
        code, message = too_costly("memory", task.source, self.file_memory_mb)
        exit_code = w.process.returncode
        if exit_code not in (None, -9, 137) and exit_code < 0:
            message = (
                f"{task.source}: the parse worker crashed on it (signal {-exit_code}); "
                f"the other files go on. {message.split('; the other files go on. ')[-1]}"
            )
        return ParseOutcome(task.key, error_code=code, error=message, recycle=True)

    def _replace(self, w: _Worker) -> _Worker | None:
        """Kill ``w`` and start another in its place; None when that one cannot start."""
        w.kill()
        self.replaced += 1
        fresh = self._new()
        try:
            fresh.await_ready(_START_TIMEOUT_S)
        except WorkerStartError as e:
            log.error("a parse worker could not be replaced: %s", e)
            with self._lock:
                self._pool = [p for p in self._pool if p is not w]
            return None
        with self._lock:
            self._pool = [fresh if p is w else p for p in self._pool]
        return fresh


class _Pace:
    """How many tasks each worker holds at once: enough that it never waits for this
    process between files (whose threads may hold the GIL for a few milliseconds at a
    time), few enough that the last files spread over all workers. Small files (a text of
    a few chunks: a millisecond or two) go ``_QUEUED_S`` worth at a time, large ones two."""

    def __init__(self) -> None:
        self._mean_s = 0.0
        self._n = 0

    def add(self, outcome: ParseOutcome) -> None:
        s = outcome.parse_s + outcome.score_s
        self._n += 1
        self._mean_s += (s - self._mean_s) / min(self._n, 32)

    def depth(self) -> int:
        if not self._n:
            return 2
        return 2 + min(_MAX_QUEUED - 2, int(_QUEUED_S / max(self._mean_s, 1e-4)))


# the work a worker holds, in seconds (so that small files do not go one per round trip)
_QUEUED_S = 0.02
_MAX_QUEUED = 16


class PoolKeeper:
    """Keeps one warm :class:`WorkerPool` for its owner (a silo) between ingests; a pool for
    another kit or other limits replaces it."""

    def __init__(self) -> None:
        self._pool: WorkerPool | None = None
        self._key: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def pool(
        self, kit: WorkerKit, workers: int, file_timeout_s: float, file_memory_mb: float
    ) -> WorkerPool:
        """The pool for ``kit``; raises what pickling raises when the kit cannot travel."""
        kit_bytes = pickle.dumps(kit)
        key = (hashlib.sha256(kit_bytes).digest(), workers, file_timeout_s, file_memory_mb)
        with self._lock:
            if self._pool is not None and self._key == key:
                return self._pool
            old, self._pool = (
                self._pool,
                WorkerPool(
                    kit_bytes, workers, file_timeout_s=file_timeout_s, file_memory_mb=file_memory_mb
                ),
            )
            self._key = key
        if old is not None:
            old.close()
        return self._pool

    def close(self) -> None:
        with self._lock:
            old, self._pool, self._key = self._pool, None, None
        if old is not None:
            old.close()

"""The ingest journal: every file's last state, in a small SQLite file per collection.

The collection itself is the truth about what is stored (chunk ids are content
hashes and each row knows how many chunks its document has, so a rerun after a
crash writes exactly what is missing). The journal adds what the collection
cannot know: which files failed and why (``ingest --retry-failed``), how many
chunks each file wrote and quarantined, and which quarantined chunks were
purged on purpose (they are not written again).

One journal serves one collection; it lives next to a Milvus Lite file, or in
``ingest.state_dir`` (default ``./.ragsilo``) for a server. Writes are batched
and committed in WAL mode, so a ``kill -9`` loses at most the last batch of
records, never the file.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ragsilo.errors import StoreError
from ragsilo.models import FileResult
from ragsilo.settings import Settings

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    message TEXT,
    run_id INTEGER,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_state ON files(state);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    files INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS purged (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    doc_chunks INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS purged_doc ON purged(doc_id);
"""


@dataclass(frozen=True)
class JournalEntry:
    source: str
    state: str
    chunks: int
    quarantined: int
    error_code: str | None
    message: str | None
    updated: float

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def journal_path(settings: Settings) -> Path:
    """Where the journal of the settings' collection lives."""
    m, collection = settings.milvus, settings.collection.name
    db = f"_{m.db_name}" if m.db_name else ""
    if m.is_lite:  # beside its Milvus Lite file, so two files never share a journal
        lite = Path(m.uri).expanduser()
        return lite.parent / f"{lite.stem}.{collection}.journal.sqlite"
    if settings.ingest.state_dir is not None:
        base = Path(settings.ingest.state_dir).expanduser()
    else:
        base = Path(".ragsilo")
    parsed = urlparse(m.uri)
    where = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{parsed.hostname or 'lite'}_{parsed.port or ''}")
    return base / f"{where}{db}.{collection}.journal.sqlite"


class Journal:
    """A per-collection record of file states; thread-safe, batched commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise StoreError(
                f"cannot open the ingest journal {str(path)!r}: {e}",
                hint="set ingest.state_dir to a writable folder, or ingest.journal: false",
            ) from e
        self._lock = threading.Lock()
        self._run_id: int | None = None
        self._pending = 0
        self._broken = False

    @contextmanager
    def _writing(self) -> Iterator[bool]:
        """Hold the lock for a write; yields False once the journal cannot be written.

        A journal that cannot be written (the disk is full, the file turned read-only)
        must not take the ingest down: the collection is the truth about what is
        stored, so the run goes on without the journal, said once in the log.
        """
        with self._lock:
            if self._broken:
                yield False
                return
            try:
                yield True
            except sqlite3.OperationalError as e:
                self._broken = True
                log.error(
                    "the ingest journal %s cannot be written (%s); the ingest goes on "
                    "without it (a rerun still skips what is stored, but --retry-failed "
                    "does not know this run's failures)",
                    self.path,
                    e,
                )

    def close(self) -> None:
        with self._writing() as ok:
            if ok:
                self._db.commit()
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ runs
    def start_run(self) -> int:
        with self._writing() as ok:
            if ok:
                cur = self._db.execute("INSERT INTO runs(started) VALUES (?)", (time.time(),))
                self._db.commit()
                self._run_id = int(cur.lastrowid or 0)
        return self._run_id or 0

    def finish_run(self, files: int, failed: int) -> None:
        with self._writing() as ok:
            if not ok:
                return
            self._db.execute(
                "UPDATE runs SET finished=?, files=?, failed=? WHERE id=?",
                (time.time(), files, failed, self._run_id),
            )
            self._db.commit()

    # ----------------------------------------------------------------- files
    def record(self, result: FileResult, *, quarantined: int = 0) -> None:
        """Record one file's outcome (committed in batches; :meth:`commit` forces it)."""
        state = "written" if result.status in ("ingested", "skipped") else result.status
        with self._writing() as ok:
            if not ok:
                return
            if result.status == "removed":
                self._db.execute("DELETE FROM files WHERE source=?", (result.path,))
            elif result.status == "skipped":
                # a skip keeps the counts of the run that wrote the file
                self._db.execute(
                    "INSERT INTO files(source, state, chunks, run_id, updated) "
                    "VALUES (?, 'written', ?, ?, ?) ON CONFLICT(source) DO UPDATE SET "
                    "state='written', error_code=NULL, message=NULL, run_id=excluded.run_id, "
                    "updated=excluded.updated",
                    (result.path, result.chunks, self._run_id, time.time()),
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO files"
                    "(source, state, chunks, quarantined, error_code, message, run_id, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        result.path,
                        state,
                        result.chunks,
                        quarantined,
                        result.error_code,
                        result.message,
                        self._run_id,
                        time.time(),
                    ),
                )
            self._pending += 1
            if self._pending >= 64:
                self._db.commit()
                self._pending = 0

    def commit(self) -> None:
        with self._writing() as ok:
            if not ok:
                return
            self._db.commit()
            self._pending = 0

    def failed_sources(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT source FROM files WHERE state='failed' ORDER BY source"
            ).fetchall()
        return [r[0] for r in rows]

    def entries(self, state: str | None = None) -> list[JournalEntry]:
        sql = "SELECT source, state, chunks, quarantined, error_code, message, updated FROM files"
        args: tuple[object, ...] = ()
        if state is not None:
            sql += " WHERE state=?"
            args = (state,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY source", args).fetchall()
        return [JournalEntry(*r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall()
        return {str(s): int(n) for s, n in rows}

    def reset(self) -> None:
        """Forget everything (the collection was dropped)."""
        with self._lock:
            self._db.execute("DELETE FROM files")
            self._db.execute("DELETE FROM purged")
            self._db.commit()

    # ---------------------------------------------------------------- purged
    def add_purged(self, rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Remember purged quarantine chunks (id, doc_id, file_sha256, doc_chunks)."""
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO purged VALUES (?, ?, ?, ?)", list(rows))
            self._db.commit()

    def purged_ids(self, doc_ids: Sequence[str]) -> dict[str, list[dict[str, object]]]:
        """The purged chunks (id, file_sha256, doc_chunks) of these documents."""
        out: dict[str, list[dict[str, object]]] = {}
        with self._lock:
            for i in range(0, len(doc_ids), 500):
                part = list(doc_ids[i : i + 500])
                marks = ",".join("?" * len(part))
                for pid, doc, sha, n in self._db.execute(
                    "SELECT id, doc_id, file_sha256, doc_chunks FROM purged "  # noqa: S608
                    f"WHERE doc_id IN ({marks})",
                    part,
                ):
                    out.setdefault(doc, []).append({"id": pid, "file_sha256": sha, "doc_chunks": n})
        return out

    def forget_purged(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM purged WHERE id=?", [(i,) for i in ids])
            self._db.commit()

"""A full disk under Milvus: one clear error (store_full), the report, a non-zero exit code,
and a rerun that writes exactly what is missing once there is space again."""

from __future__ import annotations

import errno
import sqlite3
import threading
from pathlib import Path

import pytest
from pymilvus.exceptions import MilvusException
from tests.conftest import HashEmbedder

from ragsilo import Silo
from ragsilo.errors import StoreFullError
from ragsilo.ingest.journal import Journal
from ragsilo.models import FileResult
from ragsilo.settings import load_settings
from ragsilo.store import MilvusStore
from ragsilo.store.errors import RetryPolicy, call_with_retry, translate

ENOSPC_TEXT = "[Errno 28] No space left on device"


def test_disk_full_is_one_error_and_never_retried() -> None:
    for exc in (
        OSError(errno.ENOSPC, "No space left on device"),
        MilvusException(code=1, message=ENOSPC_TEXT),
        MilvusException(code=1, message="etcdserver: mvcc: database space exceeded"),
    ):
        err = translate(exc, "upsert 3 rows into 'docs'")
        assert isinstance(err, StoreFullError) and not err.retriable, exc
        assert err.code == "store_full" and "the disk under Milvus is full" in str(err)
        assert "free space" in str(err)
    calls = []

    def write() -> None:
        calls.append(1)
        raise MilvusException(code=1, message=ENOSPC_TEXT)

    with pytest.raises(StoreFullError):
        call_with_retry(write, "upsert", RetryPolicy(retries=5, base_delay=0), sleep=lambda s: None)
    assert len(calls) == 1


def _files(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"note{i:02d}.txt").write_text(f"Note number {i} says something new {i * 7}.")
    return folder


def test_ingest_stops_at_a_full_disk_with_a_report_and_reruns(tmp_path, monkeypatch) -> None:
    docs = _files(tmp_path / "docs", 12)
    settings = load_settings(
        overrides={
            "milvus": {"uri": str(tmp_path / "full.db")},
            "index": {"type": "FLAT"},
            "ingest": {"queue_files": 4},
        }
    )
    writes: list[int] = []
    real_send = MilvusStore._send_rows

    def full(self, collection_name, data, *args, **kwargs):  # each insert or upsert request
        writes.append(len(data))
        if len(writes) > 1:  # the first write fits, then the disk is full
            raise MilvusException(code=1, message=ENOSPC_TEXT)
        return real_send(self, collection_name, data, *args, **kwargs)

    monkeypatch.setattr(MilvusStore, "_send_rows", full)
    with Silo.open(settings, embedder=HashEmbedder()) as silo:
        report = silo.ingest([docs])
    assert report.ingested >= 1 and report.failed == 12 - report.ingested
    codes = {f.error_code for f in report.failures}
    assert codes == {"store_full"}
    assert all("free space" in (f.message or "") for f in report.failures)
    assert len(writes) == 2  # the failing write was not repeated file by file

    monkeypatch.setattr(MilvusStore, "_send_rows", real_send)
    with Silo.open(settings, embedder=HashEmbedder()) as silo:
        again = silo.ingest([docs])
        assert again.failed == 0 and again.ingested == report.failed
        assert again.skipped == report.ingested
        assert silo.stats().rows == 12


def test_a_journal_that_cannot_be_written_does_not_stop_the_ingest(tmp_path, caplog) -> None:
    journal = Journal(tmp_path / "j.sqlite")

    class FullDb:
        def __init__(self, db: sqlite3.Connection) -> None:
            self._db = db

        def execute(self, *args: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        def __getattr__(self, name: str) -> object:
            return getattr(self._db, name)

    real = journal._db
    journal._db = FullDb(real)  # type: ignore[assignment]
    journal.start_run()
    journal.record(FileResult("/d/a.txt", "ingested", 2))
    journal.record(FileResult("/d/b.txt", "failed", 0, "parse_error", "bad"))
    journal.commit()
    journal.finish_run(2, 1)
    assert sum("cannot be written" in r.message for r in caplog.records) == 1  # said once
    journal._db = real
    journal.close()


def test_a_failing_report_callback_does_not_hang_the_ingest(tmp_path) -> None:
    docs = _files(tmp_path / "docs", 8)
    settings = load_settings(
        overrides={
            "milvus": {"uri": str(tmp_path / "cb.db")},
            "index": {"type": "FLAT"},
            "ingest": {"queue_files": 1, "journal": False},
        }
    )

    def progress(result: FileResult) -> None:
        raise RuntimeError("the progress display broke")

    outcome: list[BaseException] = []

    def run() -> None:
        with Silo.open(settings, embedder=HashEmbedder()) as silo:
            try:
                silo.ingest([docs], progress=progress)
            except RuntimeError as e:
                outcome.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=120)
    assert not t.is_alive(), "the ingest hung after its writer thread failed"
    assert outcome and "progress display broke" in str(outcome[0])

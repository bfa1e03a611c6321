"""Ingest on Milvus Lite with the real embedder: idempotence, replacement, pruning, bad input."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ragsilo.chunking import make_doc_id
from ragsilo.errors import RetriableStoreError, SchemaMismatchError, StoreError
from ragsilo.store import MilvusStore, quote

pytestmark = [pytest.mark.lite, pytest.mark.embed]


def _rows_of(silo, path: Path) -> list[dict]:
    return silo.store.query(
        silo.collection, f"doc_id == {quote(make_doc_id(str(path.resolve())))}", ["id", "text"]
    )


def test_ingest_then_search_finds_the_right_document(make_silo, docs: Path) -> None:
    silo = make_silo()
    report = silo.ingest([docs])
    assert (report.ingested, report.failed, report.skipped) == (3, 0, 0)
    assert report.chunks_written == silo.stats().rows >= 5  # 2 csv records + sections
    hit = silo.search("how do bees communicate where flowers are?", k=1)[0]
    assert hit.source.endswith("bees.md") and hit.section == "Honey bees > Foraging"
    csv_hit = silo.search("yellow fruit", k=1, where={"mime_type": "text/csv"})[0]
    assert csv_hit.metadata.get("item") == "banana"


def test_second_ingest_writes_nothing(make_silo, docs: Path) -> None:
    silo = make_silo()
    first = silo.ingest([docs])
    again = silo.ingest([docs])
    assert (again.skipped, again.ingested, again.chunks_written) == (3, 0, 0)
    assert silo.stats().rows == first.chunks_written


def test_changed_file_replaces_its_old_chunks(make_silo, docs: Path) -> None:
    silo = make_silo()
    silo.ingest([docs])
    target = docs / "volcano.txt"
    target.write_text("Glaciers are slow rivers of ice that carve valleys.\n", encoding="utf-8")
    report = silo.ingest([docs])
    assert (report.ingested, report.skipped) == (1, 2)
    rows = _rows_of(silo, target)
    assert len(rows) == 1 and "Glaciers" in rows[0]["text"]
    assert report.chunks_deleted >= 1
    assert all("molten" not in h.text for h in silo.search("molten rock and ash", k=10))


def test_prune_removes_vanished_files_only_inside_the_folder(
    make_silo, docs: Path, tmp_path: Path
) -> None:
    silo = make_silo()
    outside = tmp_path / "outside.txt"
    outside.write_text("An unrelated note about tea.", encoding="utf-8")
    silo.ingest([docs, outside])
    (docs / "prices.csv").unlink()
    kept_before = len(_rows_of(silo, outside))
    report = silo.ingest([docs], prune=True)
    assert [Path(f.path).name for f in report.files if f.status == "removed"] == ["prices.csv"]
    assert _rows_of(silo, docs / "prices.csv") == []
    assert len(_rows_of(silo, outside)) == kept_before == 1


def test_interrupted_write_is_completed_on_the_next_run(make_silo, docs: Path) -> None:
    silo = make_silo()
    silo.ingest([docs])
    target = docs / "bees.md"
    rows = _rows_of(silo, target)
    assert len(rows) >= 2
    # a crash after part of the file was written leaves fewer rows than doc_chunks
    silo.store.delete_ids(silo.collection, [rows[0]["id"]])
    silo.store.flush(silo.collection)
    report = silo.ingest([docs])
    assert report.ingested == 1 and report.skipped == 2
    assert len(_rows_of(silo, target)) == len(rows)


def test_failed_write_rolls_back_and_spares_other_files(make_silo, docs: Path, monkeypatch) -> None:
    silo = make_silo(ingest={"retries": 0})
    real = MilvusStore.upsert_chunks

    def flaky(self, name, chunks, vectors, *, batch_bytes, **kw):
        hit = [i for i, c in enumerate(chunks) if c.source.endswith("volcano.txt")]
        if hit:  # any write that carries volcano.txt fails after writing part of it
            i = hit[0]
            one = {**kw, "terms": kw["terms"][i : i + 1]} if kw.get("terms") else kw
            real(self, name, chunks[i : i + 1], vectors[i : i + 1], batch_bytes=batch_bytes, **one)
            raise StoreError("upsert failed: the row is too large")
        return real(self, name, chunks, vectors, batch_bytes=batch_bytes, **kw)

    monkeypatch.setattr(MilvusStore, "upsert_chunks", flaky)
    report = silo.ingest([docs])
    failed = {Path(f.path).name: f for f in report.failures}
    assert list(failed) == ["volcano.txt"] and failed["volcano.txt"].error_code == "store_error"
    assert report.ingested == 2
    silo.store.flush(silo.collection)
    assert _rows_of(silo, docs / "volcano.txt") == []  # no partial chunks left behind
    monkeypatch.undo()
    retry = silo.ingest([docs])
    assert (retry.ingested, retry.skipped) == (1, 2)


def test_milvus_gone_stops_the_ingest_and_the_rerun_writes_the_rest(
    make_silo, tmp_path: Path, monkeypatch
) -> None:
    """Once Milvus stays unreachable, no file is tried again on its own: the ingest stops,
    reports the unwritten files, and a rerun writes exactly those."""
    folder = tmp_path / "many"
    folder.mkdir()
    topics = ["tides", "comets", "ferns", "glass", "owls", "salt", "bridges", "clocks"]
    for n, topic in enumerate(topics * 2):
        (folder / f"note{n:02d}.txt").write_text(f"Note {n} is about {topic}, number {n}.\n")
    silo = make_silo(ingest={"retries": 0, "queue_files": 2, "workers": 1})
    calls: list[str] = []  # store calls once Milvus is gone
    upserts = 0

    def after_three_upserts_milvus_is_gone(op):
        real = getattr(MilvusStore, op)

        def call(self, *args, **kw):
            nonlocal upserts
            upserts += op == "upsert_chunks"
            if calls or upserts > 3:
                calls.append(op)
                raise RetriableStoreError(f"{op}: Milvus is unavailable")
            return real(self, *args, **kw)

        return call

    for op in ("upsert_chunks", "flush", "delete_ids", "query"):
        monkeypatch.setattr(MilvusStore, op, after_three_upserts_milvus_is_gone(op))
    report = silo.ingest([folder])
    assert calls == ["upsert_chunks"]  # the failed write was the last call: no retry, no flush
    unwritten = [f for f in report.failures if f.error_code == "store_unavailable"]
    assert report.ingested > 0 and len(unwritten) == len(report.failures) > 0
    assert report.ingested + len(unwritten) == 16
    assert "run the ingest again" in unwritten[0].message
    # the journal knows them: --retry-failed writes exactly the unwritten files
    monkeypatch.undo()
    retry = silo.ingest([], retry_failed=True)
    assert (retry.ingested, retry.failed) == (len(unwritten), 0)
    assert silo.ingest([folder]).skipped == 16
    assert silo.stats().rows == 16


def test_bad_inputs_each_get_a_clear_error_and_nothing_stored_is_lost(
    make_silo, docs: Path, tmp_path: Path
) -> None:
    silo = make_silo(ingest={"max_file_mb": 1})
    silo.ingest([docs])
    rows_before = silo.stats().rows
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "truncated.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")
    (bad / "random.txt").write_bytes(random.Random(1).randbytes(4096))
    (bad / "empty.md").write_bytes(b"")
    (bad / "utf16.txt").write_bytes("Zürich café naïve — façade".encode("utf-16"))
    (bad / "latin1.txt").write_bytes(
        "Crème brûlée à la française, où est le garçon?".encode("latin-1")
    )
    (bad / "notword.docx").write_text("just text pretending", encoding="utf-8")
    (bad / "fake.png").write_text("not an image at all", encoding="utf-8")
    (bad / "big.txt").write_text("word " * 300_000, encoding="utf-8")  # 1.5 MB > 1 MB limit
    os.symlink(bad / "does-not-exist.txt", bad / "dangling.txt")
    report = silo.ingest([bad])
    by_name = {Path(f.path).name: f for f in report.files}
    expected_failures = {
        "truncated.pdf": "parse_error",
        "random.txt": "unsupported_format",
        "empty.md": "parse_error",
        "notword.docx": "parse_error",
        "fake.png": "parse_error",
        "big.txt": "file_too_large",
    }
    for name, code in expected_failures.items():
        assert by_name[name].status == "failed", name
        assert by_name[name].error_code == code, (name, by_name[name])
        assert by_name[name].message
    assert by_name["utf16.txt"].status == "ingested"
    assert by_name["latin1.txt"].status == "ingested"
    assert "dangling.txt" not in by_name or by_name["dangling.txt"].status == "failed"
    assert silo.stats().rows == rows_before + 2
    assert "brûlée" in silo.search("crème brûlée", k=1)[0].text


def test_other_dimension_is_refused_and_data_kept(make_silo, docs: Path, lite_uri: str) -> None:
    silo = make_silo()
    silo.ingest([docs])
    rows = silo.stats().rows
    from ragsilo.settings import load_settings
    from ragsilo.silo import Silo

    class EightDims:
        name = "eight"
        dimension = 8

        def embed(self, texts):
            import numpy as np

            v = np.ones((len(texts), 8), dtype=np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        def count_tokens(self, text: str) -> int:
            return len(text.split())

    other = Silo.open(load_settings(None, {"milvus": {"uri": lite_uri}}), embedder=EightDims())
    try:
        with pytest.raises(
            SchemaMismatchError, match="dimension is 384 but the embedding model gives 8"
        ):
            other.ingest([docs])
        with pytest.raises(SchemaMismatchError):
            other.search("bees")
    finally:
        other.close()
    assert silo.stats().rows == rows


def test_filters_cannot_be_injected(make_silo, docs: Path) -> None:
    silo = make_silo()
    silo.ingest([docs])
    assert silo.search("bees", where={"title": 'x" or 1==1 or title == "'}) == []
    src = str((docs / "bees.md").resolve())
    hits = silo.search("volcano", k=10, where={"source": src})
    assert hits and all(h.source == src for h in hits)


def test_delete_by_filter(make_silo, docs: Path) -> None:
    silo = make_silo()
    silo.ingest([docs])
    n = silo.delete(where={"mime_type": "text/csv"})
    assert n == 2
    assert silo.search("banana", k=5, where={"mime_type": "text/csv"}) == []


def test_new_chunks_are_inserted_and_a_changed_file_keeps_one_row_per_chunk(
    make_silo, docs: Path, monkeypatch
) -> None:
    """On Milvus Lite a chunk the store does not hold is inserted (an upsert there looks up
    each id among the stored rows); one it may hold is upserted, so none is stored twice."""
    silo = make_silo()
    rows_by_op = {"insert": 0, "upsert": 0}
    real = silo.store._send_rows

    def counted(name, rows, *args, upsert, **kwargs):  # each insert or upsert request
        if name == silo.collection:
            rows_by_op["upsert" if upsert else "insert"] += len(rows)
        return real(name, rows, *args, upsert=upsert, **kwargs)

    monkeypatch.setattr(silo.store, "_send_rows", counted)
    first = silo.ingest([docs])
    assert rows_by_op == {"insert": first.chunks_written, "upsert": 0}
    target = docs / "bees.md"
    before = {r["id"] for r in _rows_of(silo, target)}
    target.write_text(
        target.read_text(encoding="utf-8")
        + "\n## Winter\n\nBees cluster to keep the queen warm.\n",
        encoding="utf-8",
    )
    report = silo.ingest([docs])
    assert (report.ingested, report.skipped) == (1, 2)
    ids = [r["id"] for r in _rows_of(silo, target)]
    assert len(ids) == len(set(ids)) == report.chunks_written
    kept = before & set(ids)
    assert kept  # the unchanged sections keep their ids: upserted, not inserted again
    assert rows_by_op["upsert"] == len(kept)
    assert rows_by_op["insert"] == first.chunks_written + len(set(ids) - before)

"""The queue in front of the embedder: parsing runs ahead while a batch is embedded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from ragsilo.chunking import make_chunk_id
from ragsilo.ingest.pipeline import _FileJob, _Prefetch
from ragsilo.models import Chunk


def _job(n: int, chunks: int = 1) -> _FileJob:
    made = [
        Chunk(
            id=make_chunk_id(f"d{n}", i, f"text {n} {i}"),
            doc_id=f"d{n}",
            source=f"s{n}",
            file_sha256="",
            mime_type="text/plain",
            title="",
            page=None,
            section=None,
            chunk_index=i,
            doc_chunks=chunks,
            text=f"text {n} {i}",
            metadata={},
        )
        for i in range(chunks)
    ]
    return _FileJob(f"s{n}", made, set())


def test_jobs_come_out_in_order_and_the_source_runs_ahead() -> None:
    pulled: list[float] = []

    def source() -> Iterator[_FileJob]:
        for n in range(6):
            pulled.append(time.monotonic())
            yield _job(n)

    it = _Prefetch(source(), max_chunks=4)
    first = next(it)
    time.sleep(0.2)  # the consumer is busy (embedding): the queue fills meanwhile
    assert len(pulled) >= 4
    rest = list(it)
    assert [j.path for j in [first, *rest]] == [f"s{n}" for n in range(6)]
    it.close()


def test_the_queue_is_bounded_by_chunks_but_a_large_job_passes() -> None:
    pulled = 0

    def source() -> Iterator[_FileJob]:
        nonlocal pulled
        for n in range(10):
            pulled += 1
            yield _job(n, chunks=3 if n else 10)

    it = _Prefetch(source(), max_chunks=6)
    time.sleep(0.2)
    assert pulled <= 2  # the 10-chunk job alone, the next one waiting for room
    assert len(next(it).chunks) == 10
    assert sum(len(j.chunks) for j in it) == 27
    it.close()


def test_an_error_of_the_source_reaches_the_consumer_after_its_jobs() -> None:
    def source() -> Iterator[_FileJob]:
        yield _job(0)
        raise RuntimeError("parse stage broke")

    it = _Prefetch(source(), max_chunks=8)
    assert next(it).path == "s0"
    with pytest.raises(RuntimeError, match="parse stage broke"):
        next(it)
    it.close()


def test_close_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[_FileJob]:
        try:
            n = 0
            while True:
                yield _job(n)
                n += 1
        finally:
            closed.set()

    it = _Prefetch(source(), max_chunks=2)
    next(it)
    it.close()
    assert closed.wait(2.0)
    assert not it._thread.is_alive()


def test_ingest_embeds_a_batch_while_the_next_files_are_parsed(tmp_path) -> None:
    """Without the queue the embedder's thread also pulls parsed files, so no file is
    taken from the parse stage while a batch is embedded."""
    from ragsilo.ingest.pipeline import DocumentSource
    from ragsilo.ingest.texts import text_sources
    from ragsilo.models import ParsedDocument
    from ragsilo.settings import load_settings
    from ragsilo.silo import Silo

    taken: list[float] = []
    embedded: list[tuple[float, float]] = []

    class SlowEmbedder:
        name = "slow"
        dimension = 8

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        def embed(self, texts: list[str]) -> np.ndarray:
            t0 = time.monotonic()
            time.sleep(0.15)
            embedded.append((t0, time.monotonic()))
            rng = np.random.default_rng(len(embedded))
            v = rng.standard_normal((len(texts), 8)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

        def embed_query(self, text: str) -> np.ndarray:
            return self.embed([text])[0]

    sources = text_sources(
        [(f"document number {n} says something else {n * 7}", {"name": f"d{n}"}) for n in range(8)]
    )

    def parse(d: DocumentSource) -> ParsedDocument:
        taken.append(time.monotonic())
        return d.parse()

    settings = load_settings(
        None,
        {
            "milvus": {"uri": str(tmp_path / "m.db")},
            "embedding": {"batch_size": 2},
            "quality": {"enabled": False},
        },
    )
    docs = [DocumentSource(d.source, d.sha256, lambda d=d: parse(d)) for d in sources]
    with Silo.open(settings, embedder=SlowEmbedder()) as silo:
        silo._ensure_collection(create=True)
        report = silo._ingestor(silo.settings.ingest).run_documents(docs)
    assert report.chunks_written == 8
    # some file was taken from the parse stage while the first batch was embedded
    start, end = embedded[0]
    assert any(start < t < end for t in taken)


@pytest.mark.parametrize("fills_cores", [True, False])
def test_a_model_that_fills_the_cores_takes_turns_with_the_writer(tmp_path, fills_cores) -> None:
    """A CPU model's intra-op threads wait for each other at every layer: the writer does
    not run beside it (it writes between calls); any other model runs beside the writer."""
    from ragsilo.ingest import pipeline
    from ragsilo.ingest.texts import text_sources
    from ragsilo.settings import load_settings
    from ragsilo.silo import Silo

    spans: dict[str, list[tuple[float, float]]] = {"embed": [], "write": []}

    class Model:
        name = "model"
        dimension = 8

        def __init__(self) -> None:
            self.fills_cores = fills_cores

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        def embed(self, texts: list[str]) -> np.ndarray:
            t0 = time.monotonic()
            time.sleep(0.1)
            spans["embed"].append((t0, time.monotonic()))
            v = np.random.default_rng(len(spans["embed"])).standard_normal((len(texts), 8))
            return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

        def embed_query(self, text: str) -> np.ndarray:
            return self.embed([text])[0]

    real = pipeline._Writer._write_group

    def timed(self, jobs):
        t0 = time.monotonic()
        time.sleep(0.1)  # a write long enough to overlap the next call, if it may
        try:
            return real(self, jobs)
        finally:
            spans["write"].append((t0, time.monotonic()))

    settings = load_settings(
        None,
        {
            "milvus": {"uri": str(tmp_path / "m.db")},
            "embedding": {"batch_size": 2},
            "ingest": {"queue_files": 2},
        },
    )
    texts = [(f"note {n}: the river meets the sea, {n}", {"name": f"n{n}"}) for n in range(12)]
    try:
        pipeline._Writer._write_group = timed  # type: ignore[method-assign]
        with Silo.open(settings, embedder=Model()) as silo:
            silo._ensure_collection(create=True)
            report = silo._ingestor(silo.settings.ingest).run_documents(text_sources(texts))
    finally:
        pipeline._Writer._write_group = real  # type: ignore[method-assign]
    assert report.chunks_written + report.chunks_quarantined == 12
    overlaps = sum(
        1 for a0, a1 in spans["embed"] for b0, b1 in spans["write"] if a0 < b1 and b0 < a1
    )
    assert (overlaps == 0) if fills_cores else (overlaps > 0)

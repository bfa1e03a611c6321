"""What an ingest asks the store about the documents it is given: one query per block of
documents, none at all when the run began with the collection empty."""

from __future__ import annotations

from typing import Any

import pytest

from ragsilo.ingest import pipeline

pytestmark = [pytest.mark.lite, pytest.mark.embed]


def _count_block_queries(silo: Any) -> list[str]:
    """Record the ``doc_id in [...]`` queries the silo's store is asked from now on."""
    asked: list[str] = []
    query = silo.store.query

    def counting(name: str, expr: str, *args: Any, **kwargs: Any) -> Any:
        if expr.startswith("doc_id in ["):
            asked.append(expr)
        return query(name, expr, *args, **kwargs)

    silo.store.query = counting
    return asked


def _texts(n: int) -> list[str]:
    return [f"Note {i}: the kettle number {i} boils water in {i + 2} minutes." for i in range(n)]


def test_a_run_into_an_empty_collection_asks_about_no_document(
    make_silo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_STATE_BLOCK", 4)
    silo = make_silo()
    silo._ensure_collection(create=True)
    asked = _count_block_queries(silo)
    report = silo.ingest_texts(_texts(10))
    assert (report.ingested, report.failed) == (10, 0)
    assert asked == []  # nothing was stored: nothing to look up
    assert silo.stats().rows == report.chunks_written

    # the collection holds rows now: every block is looked up, and nothing is written again
    again = silo.ingest_texts(_texts(10))
    assert (again.skipped, again.chunks_written) == (10, 0)
    assert len(asked) == 3  # blocks of 4, 4 and 2
    assert silo.stats().rows == report.chunks_written


def test_a_document_looked_up_before_in_the_run_is_asked_about(
    make_silo, monkeypatch: pytest.MonkeyPatch
) -> None:
    silo = make_silo()
    silo._ensure_collection(create=True)
    ingestor = silo._ingestor(silo.settings.ingest)
    asked = _count_block_queries(silo)
    ingestor._begin_run()
    ingestor._prefetch_states(["text://a", "text://b"])
    assert asked == []
    ingestor._prefetch_states(["text://b", "text://c"])
    assert len(asked) == 1
    assert ingestor._doc_id("text://b") in asked[0]
    assert ingestor._doc_id("text://c") not in asked[0]
    assert {ingestor._doc_id(s) for s in ("text://a", "text://b", "text://c")} <= set(
        ingestor._states
    )

    # a new run counts again; past the cap, every block is asked about
    monkeypatch.setattr(pipeline, "_LOOKED_UP_CAP", 3)
    ingestor._begin_run()
    ingestor._prefetch_states(["text://d", "text://e"])
    ingestor._prefetch_states(["text://f", "text://g"])  # 4 ids: over the cap
    ingestor._prefetch_states(["text://h"])
    assert len(asked) == 2 and ingestor._doc_id("text://h") in asked[1]


def test_a_collection_with_rows_is_asked_about_every_block(make_silo) -> None:
    silo = make_silo()
    silo.ingest_texts(["A first note that makes the collection hold a row."])
    ingestor = silo._ingestor(silo.settings.ingest)
    asked = _count_block_queries(silo)
    ingestor._begin_run()
    ingestor._prefetch_states(["text://x"])
    assert len(asked) == 1


def test_a_run_counts_the_collection_once(make_silo) -> None:
    silo = make_silo()
    silo._ensure_collection(create=True)
    counted: list[str] = []
    count = silo.store.count

    def counting(name: str, *args: Any, **kwargs: Any) -> int:
        counted.append(name)
        return count(name, *args, **kwargs)

    silo.store.count = counting
    report = silo.ingest_texts(_texts(40))  # past the tiny size: state lookups and dedup
    assert report.ingested == 40
    # the lookups and the writer's duplicate check share one count of the collection
    assert counted.count(silo.collection) == 1

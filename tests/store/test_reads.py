"""Turning pymilvus search replies into flat rows."""

from __future__ import annotations

import logging

from ragsilo.models import Hit
from ragsilo.settings import MilvusSettings
from ragsilo.store import MilvusStore
from ragsilo.store.reads import flatten_result

from .conftest import flat_plan, make_chunks, unit_vectors


def test_hits_without_lazy_columns_flatten_as_they_are() -> None:
    reply = [
        [{"id": "a", "distance": 0.9, "entity": {"text": "x", "vector": [1.0, 0.0]}}],
        [],
    ]
    assert flatten_result(reply) == [
        [{"text": "x", "vector": [1.0, 0.0], "id": "a", "distance": 0.9}],
        [],
    ]


def test_a_vector_asked_for_reaches_the_hit_as_a_plain_list() -> None:
    import numpy as np

    row = {"id": "a", "distance": 0.5, "vector": np.asarray([0.5, 0.25], dtype=np.float32)}
    hit = Hit.from_row(row, ["vector"])
    assert hit.fields["vector"] == [0.5, 0.25]
    assert type(hit.fields["vector"]) is list


def test_reading_milvus_lite_page_by_page_raises_no_false_alarm(tmp_path) -> None:
    # pymilvus warns that it "failed to get mvccTs" on every query iterator over Milvus Lite,
    # which has no session timestamps to give
    store = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "reads.db")))
    pymilvus_log = logging.getLogger("pymilvus")
    level = pymilvus_log.level  # the suite quiets pymilvus; a user's session does not
    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    try:
        store.ensure_collection(
            "pages", dimension=8, plan=flat_plan(store, 8), consistency_level="Strong"
        )
        store.upsert_chunks("pages", make_chunks(30), unit_vectors(30, 8), batch_bytes=1 << 20)
        pymilvus_log.setLevel(logging.WARNING)
        pymilvus_log.addHandler(handler)
        rows = list(store.iter_rows("pages", "", ["id"], batch_size=7))
    finally:
        pymilvus_log.removeHandler(handler)
        pymilvus_log.setLevel(level)
        store.close()
    assert len(rows) == 30
    assert not [m for m in logged if "mvccTs" in m], logged

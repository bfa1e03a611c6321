"""Turning pymilvus search replies into flat rows."""

from __future__ import annotations

from ragsilo.models import Hit
from ragsilo.store.reads import flatten_result


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

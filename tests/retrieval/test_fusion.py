"""Fusion on hand-built lists whose right order is known."""

from __future__ import annotations

import pytest

from ragsilo.errors import InputError
from ragsilo.retrieval.fusion import rrf, weighted
from ragsilo.retrieval.searcher import fuse_rows
from ragsilo.settings import RetrievalSettings


def test_rrf_scores_are_reciprocal_ranks() -> None:
    fused = dict(rrf([["a", "b", "c"], ["c", "a"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)


def test_rrf_order_agreement_beats_one_top_place() -> None:
    # "b" is second in both lists; "a" and "x" are first in one list only
    order = [i for i, _ in rrf([["a", "b", "c"], ["x", "b"]], k=60)]
    assert order == ["b", "a", "x", "c"]


def test_rrf_ties_go_to_the_better_single_rank_then_the_first_list() -> None:
    # "p" and "q" each appear once at rank 1: equal scores; "p" is in the first list
    assert [i for i, _ in rrf([["p"], ["q"]], k=60)] == ["p", "q"]
    assert [i for i, _ in rrf([["q"], ["p"]], k=60)] == ["q", "p"]


def test_rrf_weights_and_repeats() -> None:
    order = [i for i, _ in rrf([["a", "b"], ["b", "a"]], k=60, weights=[1.0, 3.0])]
    assert order == ["b", "a"]
    fused = dict(rrf([["a", "a", "b"]], k=60))  # a repeated item counts once, at its best rank
    assert fused == {"a": pytest.approx(1 / 61), "b": pytest.approx(1 / 63)}


def test_weighted_min_max_normalises_each_list() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]  # a=1, b=0.5, c=0
    sparse = [("c", 12.0), ("b", 6.0), ("d", 2.0)]  # c=1, b=0.4, d=0
    fused = dict(weighted([dense, sparse], weights=[0.5, 0.5]))
    assert fused["a"] == pytest.approx(0.5)
    assert fused["b"] == pytest.approx(0.45)
    assert fused["c"] == pytest.approx(0.5)
    assert fused["d"] == pytest.approx(0.0)
    order = [i for i, _ in weighted([dense, sparse], weights=[0.9, 0.1])]
    assert order[:2] == ["a", "b"]


def test_weighted_single_item_and_equal_scores_count_fully() -> None:
    assert dict(weighted([[("a", 3.0)], [("a", 1.0), ("b", 1.0)]])) == {"a": 1.0, "b": 0.5}


@pytest.mark.parametrize(
    "call",
    [
        lambda: rrf([["a"]], k=0),
        lambda: rrf([["a"], ["b"]], weights=[1.0]),
        lambda: rrf([["a"], ["b"]], weights=[0.0, 0.0]),
        lambda: weighted([[("a", float("nan"))]]),
        lambda: weighted([[("a", 1.0)]], weights=[-1.0]),
    ],
)
def test_bad_fusion_input_is_refused(call) -> None:
    with pytest.raises(InputError):
        call()


def _row(i: str, d: float) -> dict:
    return {"id": i, "distance": d, "text": i}


def test_fuse_rows_sets_the_fused_score_and_keeps_each_row_once() -> None:
    dense = [_row("a", 0.9), _row("b", 0.5)]
    sparse = [_row("b", 7.0), _row("c", 3.0)]
    rows = fuse_rows(dense, sparse, RetrievalSettings())
    assert [r["id"] for r in rows] == ["b", "a", "c"]
    assert rows[0]["distance"] == pytest.approx(0.5 / 62 + 0.5 / 61)


def test_weighted_fusion_treats_l2_distance_as_smaller_is_better() -> None:
    dense = [_row("near", 0.1), _row("far", 2.0)]
    rows = fuse_rows(dense, [], RetrievalSettings(fusion="weighted"), metric="L2")
    assert [r["id"] for r in rows] == ["near", "far"]

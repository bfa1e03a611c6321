"""The asker: a pool of hits several times ``k``, thinned to ``k`` for the context, then an
answer, whole or streamed, with a model that fails before the stream is handed out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from ragsilo.answer import ExtractiveAnswerer
from ragsilo.answer.asker import Asker
from ragsilo.errors import AnswerError
from ragsilo.models import Hit


def _hit(i: int) -> Hit:
    return Hit(
        id=f"c{i}",
        score=1.0 - i / 100,
        text=f"Compost pile number {i} heats up to {40 + i} degrees in summer.",
        source=f"/docs/{i}.txt",
        title="",
        page=None,
        section=None,
        chunk_index=0,
        doc_id=f"d{i}",
        metadata={},
    )


@dataclass
class _Pool:
    hits: list[Hit]
    cluster_ids: list[int]


@dataclass
class _Search:
    asked: list[int] = field(default_factory=list)

    def __call__(self, n: int, vector: np.ndarray) -> _Pool:
        self.asked.append(n)
        return _Pool([_hit(i) for i in range(n)], [-1] * n)


def _embed(texts: Sequence[str]) -> np.ndarray:
    return np.ones((len(texts), 4), dtype=np.float32)


def _asker(search: _Search, answerer=None) -> Asker:  # type: ignore[no-untyped-def]
    return Asker(
        embed_query=lambda q: _embed([q])[0],
        search=search,
        answerer=answerer or (lambda: ExtractiveAnswerer(_embed)),
        max_k=50,
    )


def test_context_searches_a_pool_and_keeps_k() -> None:
    search = _Search()
    hits, vector = _asker(search).context("how hot does compost get?", 3)
    assert search.asked == [20]  # several times k, at least 20, at most max_k
    assert len(hits) == 3 and vector.shape == (4,)


def test_answer_cites_the_context() -> None:
    answer = _asker(_Search()).answer("how hot does compost get?", 2)
    assert answer.mode == "extractive" and len(answer.citations) == 2
    assert "[1]" in answer.text or "[2]" in answer.text


def test_stream_gives_the_same_answer_piece_by_piece() -> None:
    whole = _asker(_Search()).answer("how hot does compost get?", 2)
    stream = _asker(_Search()).stream("how hot does compost get?", 2)
    assert [h.id for h in stream.citations] == [h.id for h in whole.citations]
    assert "".join(stream) == whole.text


class _Unreachable:
    mode = "llm"

    def stream(self, question, hits, *, query_vector=None):  # type: ignore[no-untyped-def]
        def pieces() -> Iterator[str]:
            raise AnswerError("the language model cannot be reached")
            yield ""  # pragma: no cover

        return tuple(hits), pieces()


def test_an_unreachable_model_fails_before_the_stream_is_handed_out() -> None:
    with pytest.raises(AnswerError, match="cannot be reached"):
        _asker(_Search(), lambda: _Unreachable()).stream("q?", 2)

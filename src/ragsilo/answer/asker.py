"""Asking a question, end to end: embed it, search a pool of hits, choose the context,
answer (whole or streamed) from it.

The asker does not search by itself: it is handed ``search``, which takes how
many hits to bring and the question's vector, so that the caller decides how
(mode, filters, tenant) and the answer package stays apart from retrieval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ragsilo.answer import Answerer
from ragsilo.answer.context import context_pool_size, select_context
from ragsilo.answer.models import Answer
from ragsilo.answer.stream import AnswerStream
from ragsilo.models import Hit


class Pool(Protocol):
    """What a search hands the asker: hits, and each hit's cluster id (-1: none)."""

    @property
    def hits(self) -> list[Hit]: ...

    @property
    def cluster_ids(self) -> list[int]: ...


class Asker:
    """Answers questions from the hits ``search`` brings.

    ``embed_query`` checks and embeds the question; ``search(n, vector)`` brings
    ``n`` hits for it; ``answerer`` makes the answerer (LLM or extractive) when
    one is needed; ``max_k`` bounds the pool searched for context.
    """

    def __init__(
        self,
        *,
        embed_query: Callable[[str], np.ndarray],
        search: Callable[[int, np.ndarray], Pool],
        answerer: Callable[[], Answerer],
        max_k: int,
    ) -> None:
        self._embed_query = embed_query
        self._search = search
        self._answerer = answerer
        self._max_k = max_k

    def context(self, question: str, k: int) -> tuple[list[Hit], np.ndarray]:
        """The ``k`` chunks to answer from, and the question's vector: a pool of several
        times ``k`` hits, thinned by :func:`~ragsilo.answer.context.select_context` (no
        near-copies, few chunks of one document or one cluster)."""
        vector = self._embed_query(question)
        pool = self._search(context_pool_size(k, self._max_k), vector)
        return select_context(pool.hits, k, cluster_ids=pool.cluster_ids), vector

    def answer(self, question: str, k: int) -> Answer:
        """The answer to ``question`` from ``k`` chunks, citing them as ``[1]``, ``[2]`` ..."""
        hits, vector = self.context(question, k)
        return self._answerer().answer(question, hits, query_vector=vector)

    def stream(self, question: str, k: int) -> AnswerStream:
        """:meth:`answer`, handed out piece by piece. The first piece is read here, so a
        language model that cannot be reached fails before the stream is returned."""
        hits, vector = self.context(question, k)
        answerer = self._answerer()
        citations, pieces = answerer.stream(question, hits, query_vector=vector)
        first = next(pieces, "")  # an unreachable model fails here, not mid-stream
        model = getattr(getattr(answerer, "client", None), "model", None)
        return AnswerStream(
            question,
            citations,
            pieces,
            mode=answerer.mode,  # type: ignore[arg-type]
            model=model,
            first=first,
        )


__all__ = ["Asker", "Pool"]

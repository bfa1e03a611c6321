"""Answers to questions, grounded in search hits and citing them by number.

Two answerers share one shape (``answer`` and ``stream``):

- :class:`LlmAnswerer` asks any OpenAI-compatible chat-completions server
  (``llm.base_url`` and ``llm.model``) through :class:`ChatCompletionsClient`;
- :class:`ExtractiveAnswerer` picks the best sentences of the hits offline;
  it is used when no language model is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from ragsilo.answer.chat import ChatCompletionsClient
from ragsilo.answer.extractive import ExtractiveAnswerer
from ragsilo.answer.llm import LlmAnswerer, approximate_tokens, build_messages
from ragsilo.answer.models import Answer, AnswerMode
from ragsilo.models import Hit
from ragsilo.settings_sections import LlmSettings

__all__ = [
    "Answer",
    "AnswerMode",
    "Answerer",
    "ChatCompletionsClient",
    "ExtractiveAnswerer",
    "LlmAnswerer",
    "approximate_tokens",
    "build_messages",
    "create_answerer",
]


class Answerer(Protocol):
    """Turns a question and its hits into an :class:`Answer`."""

    mode: str

    def answer(
        self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None
    ) -> Answer: ...

    def stream(
        self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None
    ) -> tuple[tuple[Hit, ...], Iterator[str]]: ...


def create_answerer(
    settings: LlmSettings,
    *,
    embed: Callable[[Sequence[str]], np.ndarray] | None = None,
) -> Answerer:
    """The LLM answerer when ``llm.base_url`` is set, else the extractive one.

    ``embed`` (the silo's embedder) ranks sentences for extractive answers.
    """
    if settings.configured:
        assert settings.base_url is not None and settings.model is not None
        client = ChatCompletionsClient(
            settings.base_url,
            settings.model,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            timeout=settings.timeout,
            temperature=settings.temperature,
            max_tokens=settings.max_answer_tokens,
        )
        return LlmAnswerer(client, max_context_tokens=settings.max_context_tokens)
    return ExtractiveAnswerer(embed)

"""Answers written by a language model from the hits, citing them by number.

The prompt numbers the hits ``[1]``, ``[2]`` ... and asks the model to cite
them that way and to say when the sources do not hold the answer. Hits are
added in rank order while the prompt stays within the context budget
(``llm.max_context_tokens``); the first hit is cut to fit rather than left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ragsilo.answer.chat import ChatCompletionsClient
from ragsilo.answer.extractive import NO_HITS_TEXT
from ragsilo.answer.models import Answer
from ragsilo.models import Hit

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources you are given. "
    "After each statement, cite the sources it comes from by their numbers in square "
    "brackets, like [1] or [2][3]. If the sources do not contain the answer, say that "
    "you do not know. Be concise."
)


def approximate_tokens(text: str) -> int:
    """About four characters a token: the usual rule for English with GPT-style tokenizers."""
    return max(1, len(text) // 4)


def _source_block(n: int, hit: Hit) -> str:
    where = hit.source
    if hit.page:
        where += f", page {hit.page}"
    if hit.section:
        where += f", {hit.section}"
    title = f"{hit.title} ({where})" if hit.title else where
    return f"[{n}] {title}\n{hit.text.strip()}"


def build_messages(
    question: str,
    hits: Sequence[Hit],
    *,
    max_context_tokens: int,
    count_tokens: Callable[[str], int] = approximate_tokens,
) -> tuple[list[dict[str, str]], tuple[Hit, ...]]:
    """The chat messages for ``question`` and the hits that fit into the budget.

    The returned hits are the citations: ``[n]`` in the prompt is the n-th of them.
    """
    head = "Sources:\n\n"
    tail = f"\n\nQuestion: {question.strip()}"
    budget = max_context_tokens - count_tokens(SYSTEM_PROMPT) - count_tokens(head + tail)
    blocks: list[str] = []
    used: list[Hit] = []
    for hit in hits:
        block = _source_block(len(used) + 1, hit)
        cost = count_tokens(block) + 1
        if cost > budget:
            if not used and budget > 16:
                # The best hit alone is over budget: keep as much of it as fits.
                keep = max(1, len(block) * budget // cost - 1)
                blocks.append(block[:keep].rstrip() + "…")
                used.append(hit)
            break
        blocks.append(block)
        used.append(hit)
        budget -= cost
    user = head + "\n\n".join(blocks) + tail
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
    return messages, tuple(used)


class LlmAnswerer:
    """Asks a chat-completions model to answer from the numbered hits."""

    mode = "llm"

    def __init__(
        self,
        client: ChatCompletionsClient,
        *,
        max_context_tokens: int,
        count_tokens: Callable[[str], int] = approximate_tokens,
    ) -> None:
        self.client = client
        self.max_context_tokens = max_context_tokens
        self._count = count_tokens

    def _messages(
        self, question: str, hits: Sequence[Hit]
    ) -> tuple[list[dict[str, str]], tuple[Hit, ...]]:
        return build_messages(
            question, hits, max_context_tokens=self.max_context_tokens, count_tokens=self._count
        )

    def answer(
        self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None
    ) -> Answer:
        if not hits:
            return Answer(question, NO_HITS_TEXT, (), "llm", self.client.model)
        messages, cited = self._messages(question, hits)
        text = self.client.complete(messages)
        return Answer(question, text, cited, "llm", self.client.model)

    def stream(
        self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None
    ) -> tuple[tuple[Hit, ...], Iterator[str]]:
        """The citations, and the model's answer as it is written."""
        if not hits:
            return (), iter([NO_HITS_TEXT])
        messages, cited = self._messages(question, hits)
        return cited, self.client.stream(messages)

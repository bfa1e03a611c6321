"""The result of ``ask``: an answer with numbered citations to the hits it drew on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ragsilo.models import Hit

AnswerMode = Literal["llm", "extractive"]


@dataclass(frozen=True)
class Answer:
    """An answer to a question.

    ``citations`` are the hits the answer was made from; a marker ``[n]`` in
    ``text`` refers to ``citations[n - 1]``. ``mode`` says whether a language
    model wrote the text (``llm``) or it is sentences taken from the hits
    (``extractive``); ``model`` names the language model when there was one.
    """

    question: str
    text: str
    citations: tuple[Hit, ...]
    mode: AnswerMode
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "mode": self.mode,
            "model": self.model,
            "citations": [{"n": i, **hit.to_dict()} for i, hit in enumerate(self.citations, 1)],
        }

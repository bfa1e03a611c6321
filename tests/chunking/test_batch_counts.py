"""Token counts in batches: the same chunks, far fewer tokenizer calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragsilo.chunking.recursive import RecursiveChunker
from ragsilo.embedding._common import load_tokenizer_counter
from ragsilo.models import ParsedDocument, Section

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "scifact" / "corpus.jsonl"


class OneByOne:
    """The shipped tokenizer's counts, one text per call (no ``count_batch``)."""

    tokens_additive = True

    def __init__(self) -> None:
        self.counter = load_tokenizer_counter()
        self.calls = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        return self.counter(text)


class Batched(OneByOne):
    def count_batch(self, texts: list[str]) -> list[int]:
        self.calls += 1
        return self.counter.count_batch(texts)


def _documents() -> list[ParsedDocument]:
    texts = []
    if SCIFACT.is_file():
        with SCIFACT.open(encoding="utf-8") as f:
            for line, _ in zip(f, range(40), strict=False):
                texts.append(json.loads(line)["text"])
    else:  # pragma: no cover - the dataset sits beside the checkout
        texts = [
            f"Sentence {i} of a long paragraph about cells and genes. " * 30 for i in range(40)
        ]
    long_run = "word " * 2000 + "\n\n" + "x" * 5000
    return [
        ParsedDocument("t", "text/plain", (Section(t), Section(long_run))) for t in texts[:20]
    ] + [ParsedDocument("t", "text/plain", tuple(Section(t) for t in texts[20:]))]


@pytest.mark.parametrize(("size", "overlap"), [(64, 16), (256, 32), (24, 0)])
def test_batched_counts_give_the_same_chunks_with_fewer_calls(size: int, overlap: int) -> None:
    one, batched = OneByOne(), Batched()
    for doc in _documents():
        a = RecursiveChunker(one, size, overlap).chunk(doc, doc_id="d", source="s", file_sha256="h")
        b = RecursiveChunker(batched, size, overlap).chunk(
            doc, doc_id="d", source="s", file_sha256="h"
        )
        assert [c.text for c in a] == [c.text for c in b]
        assert [c.id for c in a] == [c.id for c in b]
    assert batched.calls < one.calls, (batched.calls, one.calls)


def test_an_embedders_count_batch_is_found_through_its_token_counter() -> None:
    from ragsilo.chunking.recursive import _batch_counter

    class Embedder:
        def __init__(self) -> None:
            self.token_counter = load_tokenizer_counter()

        def count_tokens(self, text: str) -> int:
            return self.token_counter(text)

    e = Embedder()
    batch = _batch_counter(e.count_tokens)
    assert batch is not None and batch(["one two", "three"]) == [2, 1]
    assert _batch_counter(len) is None

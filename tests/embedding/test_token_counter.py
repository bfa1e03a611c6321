"""Token counts from the word cache are the tokenizer's own counts."""

from __future__ import annotations

import pickle

import pytest

from ragsilo.embedding import _common
from ragsilo.embedding._common import load_tokenizer, load_tokenizer_counter

TEXTS = [
    "Alterations of the architecture of cerebral white matter in the developing human brain.",
    "p53-dependent apoptosis (IC50 = 3.2 uM) in HeLa cells; see Fig. 2a & Table S1...",
    "line one\nline two\ttabbed   spaced\r\nwindows",
    "a\x0bb and c\x1cd: control characters the normaliser removes join words",
    "caf\u00e9 na\u00efve \u4e2d\u6587 text outside ASCII",
    "\u03b1-synuclein \u2013 10\u00a0\u03bcM\u2009of T\u03b2\u2081 in \u201cquotes\u201d",
    "joined\u2028by a line separator, a\x85next line, and x\u200by zero width",
    "\u3000ideographic\u3000space and \uff21\uff22 fullwidth, \u00c5ngstr\u00f6m",
    "",
    "   ",
    "x" * 150 + " a word longer than WordPiece takes",
    "C++ (ISO/IEC 14882:2020) vs. C#; e-mail: someone@example.org, URL https://x.y/z?q=1",
]


def _encoded(text: str) -> int:
    return len(load_tokenizer().encode(text, add_special_tokens=False).ids)


def test_counts_equal_the_tokenizers_one_by_one_and_in_batches() -> None:
    counter = load_tokenizer_counter()
    assert counter.tokens_additive
    expected = [_encoded(t) for t in TEXTS]
    assert [counter(t) for t in TEXTS] == expected
    assert counter.count_batch(TEXTS) == expected
    assert [counter(t) for t in TEXTS] == expected  # now from the cache
    assert counter._words  # the plain texts were counted by words


def test_counts_stay_right_when_the_cache_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "_WORD_CACHE", 5)
    counter = load_tokenizer_counter()
    text = "one two three four five six seven eight nine ten eleven twelve"
    for _ in range(3):
        assert counter(text) == _encoded(text)
        assert counter("one two") == _encoded("one two")
    assert len(counter._words) <= 5


def test_the_cache_does_not_travel_to_workers() -> None:
    counter = load_tokenizer_counter()
    counter("some words to remember")
    copy = pickle.loads(pickle.dumps(counter))
    assert copy._words == {}
    assert copy("some words to remember") == counter("some words to remember")

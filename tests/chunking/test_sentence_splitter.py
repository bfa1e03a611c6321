"""The rule-based sentence splitter the chunker cuts long paragraphs with."""

from __future__ import annotations

import pytest

from ragsilo.chunking._sentences import split_sentences


def sentences(line: str) -> list[str]:
    return [s for _, s in split_sentences(line)]


@pytest.mark.parametrize(
    "line,expected",
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Dr. Smith paid $3.50 for it. He left.", ["Dr. Smith paid $3.50 for it.", "He left."]),
        ("See Fig. 3, p. 12, e.g. U.S. data. OK.", ["See Fig. 3, p. 12, e.g. U.S. data.", "OK."]),
        ("J. R. R. Tolkien wrote it. Then more.", ["J. R. R. Tolkien wrote it.", "Then more."]),
        ("It was 5 p.m. on Monday. Later.", ["It was 5 p.m. on Monday.", "Later."]),
        ("1. Install it. 2. Run it.", ["1. Install it.", "2. Run it."]),
        ("Apples, pears, etc. are fruit. Yes.", ["Apples, pears, etc. are fruit.", "Yes."]),
        ("He said \"Stop.\" Then he went.", ["He said \"Stop.\"", "Then he went."]),
        ("Wait... What? (Really.) Yes.", ["Wait...", "What?", "(Really.)", "Yes."]),
        ("The answer is no. Then what", ["The answer is no.", "Then what"]),
        ("version 2.0.1 is out. it is lowercase", ["version 2.0.1 is out. it is lowercase"]),
        ("東京です。大阪です！ OK. Fine", ["東京です。", "大阪です！", "OK.", "Fine"]),
        ("no end here", ["no end here"]),
    ],
)  # fmt: skip
def test_sentences(line: str, expected: list[str]) -> None:
    assert sentences(line) == expected


@pytest.mark.parametrize(
    "line",
    ["A. B. C. D.", "Hi. 東京。 Done! x", "End with space. ", "..."],
)
def test_joining_gives_the_line_back(line: str) -> None:
    parts = split_sentences(line)
    assert parts[0][0] == ""
    assert "".join(sep + s for sep, s in parts) == line

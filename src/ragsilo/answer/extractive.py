"""Extractive answers: the sentences of the hits that best answer the question, cited.

Works offline with nothing but the embedder: each candidate sentence is
scored by its cosine similarity to the question's embedding, plus a little for
sharing the question's words and for coming from a higher-ranked hit. The
best few sentences, without near-repeats, make the answer, each followed by
the number of the hit it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ragsilo.answer.models import Answer
from ragsilo.chunking._sentences import split_sentences
from ragsilo.models import Hit

NO_HITS_TEXT = "Nothing in the collection matches this question."

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have how i if in
    into is it its may me might my no not of on or our should so than that the their them then
    there these they this to was we were what when where which who whom why will with would you
    your about after all also any before between both each few more most other over same some
    such too very just only own out up down off once here again further while during under
    """.split()  # noqa: SIM905
)
_STEM = 6  # words sharing their first six letters count as the same ("compost", "composting")
_MIN_WORDS = 3
_HEADING_WORDS = 6
_HEADING_MAX_WORDS = 10
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s")
_TOP_HIT_EMBEDDED = 4  # of those, sentences of the best hit always embedded (it ranked first)
_END_MARKS = (".", "!", "?", "…", "。", "！", "？")
_MAX_SENTENCE_CHARS = 400
_MAX_CANDIDATES = 400
_MAX_EMBEDDED = 8  # sentences embedded per answer; the rest are cut by shared words first
_OVERLAP_WEIGHT = 0.15
_RANK_WEIGHT = 0.03
_REPEAT_JACCARD = 0.7


@dataclass(frozen=True)
class _Candidate:
    hit: int  # 0-based rank of the hit the sentence comes from
    position: int
    text: str
    terms: frozenset[str]


def terms_of(text: str) -> frozenset[str]:
    """The content words of ``text``, lowercased and cut to a common stem length."""
    return frozenset(
        w[:_STEM]
        for w in (m.group(0).lower() for m in _WORD.finditer(text))
        if len(w) > 1 and w not in _STOPWORDS
    )


def candidate_sentences(hits: Sequence[Hit], limit: int = _MAX_CANDIDATES) -> list[_Candidate]:
    """The sentences of the hits, in rank order, that can stand alone as part of an answer.

    Left out: sentences of fewer than three words, questions (an FAQ's question
    is no answer), headings (short lines without end punctuation), and the
    pieces a chunk boundary cut off: a first sentence starting in lowercase, a
    last sentence without end punctuation.
    """
    out: list[_Candidate] = []
    for rank, hit in enumerate(hits):
        sentences = list(_sentences(hit.text))
        for position, sentence in enumerate(sentences):
            if _is_fragment(sentence, position, len(sentences)):
                continue
            terms = terms_of(sentence)
            if not terms:
                continue
            out.append(_Candidate(rank, position, sentence, terms))
            if len(out) >= limit:
                return out
    return out


def _is_fragment(sentence: str, position: int, count: int) -> bool:
    words = len(sentence.split())
    if words < _MIN_WORDS:
        return True
    ended = sentence.rstrip("\"'”’)]»").endswith(_END_MARKS)
    if sentence.rstrip("\"'”’)]»").endswith(("?", "？")):
        return True
    if not ended and words < _HEADING_WORDS:
        return True
    if count > 1 and position == 0 and sentence[:1].islower():
        return True
    return count > 1 and position == count - 1 and not ended


def _sentences(text: str) -> Iterator[str]:
    for line in _units(text):
        for _, sentence in split_sentences(line):
            s = sentence.strip()
            if len(s) > _MAX_SENTENCE_CHARS:
                s = s[: _MAX_SENTENCE_CHARS - 1].rstrip() + "…"
            if s:
                yield s


def _units(text: str) -> Iterator[str]:
    """Runs of text to split into sentences: paragraphs with their hard wraps joined, except
    that each line of a block of records ("name: value; colour: red") stays its own unit, and
    a heading line is left out rather than glued to the sentence under it."""
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [" ".join(x.split()) for x in paragraph.split("\n")]
        lines = [x for x in lines if x]
        if len(lines) > 1 and all(": " in x for x in lines):
            yield from lines
            continue
        run: list[str] = []
        for i, line in enumerate(lines):
            following = lines[i + 1] if i + 1 < len(lines) else None
            opens = not run or run[-1].rstrip("\"'”’)]»").endswith(_END_MARKS)
            if _is_heading(line, following, first=opens):
                if run:
                    yield " ".join(run)
                run = []
                continue
            run.append(line)
        if run:
            yield " ".join(run)


def _is_heading(line: str, following: str | None, *, first: bool) -> bool:
    """A Markdown heading, or a short line without end punctuation that starts a paragraph
    (or follows a finished sentence) and is followed by a line starting a new sentence."""
    if _MARKDOWN_HEADING.match(line):
        return True
    if following is None or len(line.split()) > _HEADING_MAX_WORDS:
        return False
    if line.rstrip("\"'”’)]»").endswith((*_END_MARKS, ",", ";", ":", "-", "–")):
        return False
    if line.split()[-1].lower() in _STOPWORDS:  # "reaches 55 to" is a wrapped line
        return False
    starts = line[:1].isupper() or line[:1].isdigit()
    return first and starts and following[:1].isupper()


class ExtractiveAnswerer:
    """Answers from the hits' own sentences, each with its citation number.

    ``embed`` is the embedder's ``embed`` (unit vectors); without it sentences
    are ranked by the words they share with the question alone.
    """

    mode = "extractive"

    def __init__(
        self,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
        *,
        max_sentences: int = 3,
        max_chars: int = 700,
    ) -> None:
        if max_sentences < 1 or max_chars < 1:
            raise ValueError("max_sentences and max_chars must be at least 1")
        self._embed = embed
        self.max_sentences = max_sentences
        self.max_chars = max_chars

    def answer(
        self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None
    ) -> Answer:
        cited = tuple(hits)
        if not cited:
            return Answer(question, NO_HITS_TEXT, (), "extractive")
        candidates = candidate_sentences(cited)
        if not candidates:
            # Hits too short to split (a CSV row, a title): quote the best one whole.
            first = " ".join(cited[0].text.split())[: self.max_chars]
            return Answer(question, f"{first} [1]", cited, "extractive")
        scores = self._scores(question, candidates, len(cited), query_vector)
        chosen = self._choose(candidates, scores)
        return Answer(question, _cite(chosen), cited, "extractive")

    def stream(
        self, question: str, hits: Sequence[Hit], *, query_vector: np.ndarray | None = None
    ) -> tuple[tuple[Hit, ...], Iterator[str]]:
        """The citations, and the answer text as one piece (for a streaming client)."""
        result = self.answer(question, hits, query_vector=query_vector)
        return result.citations, iter([result.text])

    def _scores(
        self,
        question: str,
        candidates: list[_Candidate],
        n_hits: int,
        query_vector: np.ndarray | None,
    ) -> np.ndarray:
        q_terms = terms_of(question)
        overlap = np.array(
            [len(q_terms & c.terms) / len(q_terms) if q_terms else 0.0 for c in candidates],
            dtype=np.float32,
        )
        rank = np.array([1.0 - c.hit / n_hits for c in candidates], dtype=np.float32)
        lexical = overlap + _RANK_WEIGHT * rank
        if self._embed is None:
            return lexical
        # Embedding every sentence costs more than the search itself; embed the
        # likeliest few (shared words, then hit rank) and rank the others below them.
        likely = np.argsort(-(overlap + 0.3 * rank), kind="stable")
        # The best hit's own sentences are always in the running, even those that share
        # few words with the question: the search put that hit first for a reason.
        top = [int(i) for i in likely if candidates[int(i)].hit == 0][:_TOP_HIT_EMBEDDED]
        rest = [int(i) for i in likely if int(i) not in set(top)]
        keep = np.asarray((top + rest)[:_MAX_EMBEDDED], dtype=np.int64)
        if query_vector is None:
            query_vector = self._embed([question])[0]
        vectors = self._embed([candidates[int(i)].text for i in keep])
        similarity = vectors @ np.asarray(query_vector, dtype=np.float32)
        scores = lexical - 10.0
        scores[keep] = similarity + _OVERLAP_WEIGHT * overlap[keep] + _RANK_WEIGHT * rank[keep]
        return scores

    def _choose(self, candidates: list[_Candidate], scores: np.ndarray) -> list[_Candidate]:
        chosen: list[_Candidate] = []
        used = 0
        for i in np.argsort(-scores, kind="stable"):
            c = candidates[int(i)]
            if any(_jaccard(c.terms, p.terms) >= _REPEAT_JACCARD for p in chosen):
                continue
            if chosen and used + len(c.text) > self.max_chars:
                continue
            chosen.append(c)
            used += len(c.text)
            if len(chosen) >= self.max_sentences:
                break
        return chosen


def _cite(chosen: list[_Candidate]) -> str:
    """The sentences in order, each run of sentences from one hit followed by its number."""
    parts: list[str] = []
    for i, c in enumerate(chosen):
        parts.append(c.text)
        if i + 1 == len(chosen) or chosen[i + 1].hit != c.hit:
            parts.append(f"[{c.hit + 1}]")
    return " ".join(parts)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0

"""Extractive answers: the sentences of the hits that best answer the question, cited.

Works offline with nothing but the embedder: each candidate sentence is
scored by its cosine similarity to the question's embedding, plus a little for
sharing the question's words and for coming from a higher-ranked hit, plus a
bonus when the question asks for a kind of answer the sentence holds: a
temperature for "how hot", an amount for "how much/how many", a time for "when"
(see :func:`answer_kind`). The best few sentences, without near-repeats, make
the answer, each followed by the number of the hit it came from; when the answer
has room for more than one sentence, the best sentence of the best hit is always
among them (the search put that hit first for a reason).
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
# A sentence holding the kind of answer the question asks for (a temperature for "how
# hot") gains about what separates a loosely related sentence from a close one in cosine
# similarity, so it wins unless the other is plainly closer to the question.
_KIND_WEIGHT = 0.4

_NUMBER = (
    r"(?:\d+(?:[.,]\d+)*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|million|billion|dozen|half|"
    r"a few|several|a couple of)"
)
_TIME_UNIT = (
    r"(?:seconds?|minutes?|hours?|days?|nights?|weeks?|fortnights?|months?|years?|decades?|"
    r"centuries|century|seasons?|ms|s|min|h|hrs?|yrs?)"
)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
# Each kind of answer: the question's cue, and what a sentence holding such an answer shows.
_ANSWER_KINDS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "temperature",
        re.compile(r"\bhow (?:hot|cold|warm|cool)\b|\btemperatures?\b|\bdegrees?\b", re.I),
        re.compile(
            r"\d\s*(?:°|º|℃|℉|degrees?\b|deg\b|kelvin\b|K\b)|\b(?:freezing|boiling) point\b",
            re.I,
        ),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long (?:does|do|did|will|would|can|could|should|is|are|was|were|has|have)\b"
            r"|\bhow (?:soon|quickly|fast)\b|\bhow much time\b|\bhow many " + _TIME_UNIT + r"\b",
            re.I,
        ),
        re.compile(
            rf"\b{_NUMBER}(?:\s*(?:to|-|–|or|and)\s*{_NUMBER})?[\s-]+{_TIME_UNIT}\b"
            r"|\b(?:overnight|a while|weekly|daily|monthly|yearly|annually)\b",
            re.I,
        ),
    ),
    (
        "frequency",
        re.compile(r"\bhow often\b|\bhow frequently\b|\bhow many times\b", re.I),
        re.compile(
            rf"\bevery\b|\b(?:once|twice|thrice)\b|\b{_NUMBER} times\b"
            r"|\b(?:hourly|daily|weekly|fortnightly|monthly|yearly|annually|seasonally)\b"
            r"|\b(?:a|per|each) (?:day|week|month|year|season)\b",
            re.I,
        ),
    ),
    (
        "time",
        re.compile(
            r"^\s*when\b|\bwhat (?:year|month|day|date|time|season)\b|\bin which year\b"
            r"|\bwhat age\b",
            re.I,
        ),
        re.compile(
            rf"\b(?:1[5-9]\d\d|20\d\d)\b|\b{_MONTH}\b|\b(?:spring|summer|autumn|fall|winter)\b"
            r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
            r"|\b\d{1,2}[:.]\d\d\b|\b(?:morning|evening|night|noon|midnight|dawn|dusk)\b"
            rf"|\b(?:after|before|within|until|once|as soon as)\b.*\b{_NUMBER}\b"
            rf"|\b(?:after|before|within|until|when)\b|\bat {_NUMBER}\b|\bage\b",
            re.I,
        ),
    ),
    (
        "amount",
        re.compile(
            r"\bhow (?:much|many|big|large|small|deep|high|tall|wide|thick|heavy|far|long|"
            r"old|fast|close|thin)\b|\bwhat (?:percentage|proportion|ratio|size|amount|"
            r"quantity|number|share|fraction|dose|depth|height|width|weight|distance)\b",
            re.I,
        ),
        re.compile(
            r"\d|%|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
            r"fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen|half|"
            r"quarter|third|double|twice|percent|per cent|ratio)\b",
            re.I,
        ),
    ),
)


@dataclass(frozen=True)
class _Candidate:
    hit: int  # 0-based rank of the hit the sentence comes from
    position: int
    text: str
    terms: frozenset[str]


def answer_kind(question: str) -> str | None:
    """The kind of answer ``question`` asks for, from its wording: ``temperature`` ("how
    hot"), ``duration`` ("how long does"), ``frequency`` ("how often"), ``time`` ("when"),
    ``amount`` ("how much", "how many", "what size"); None for any other question."""
    for kind, cue, _ in _ANSWER_KINDS:
        if cue.search(question):
            return kind
    return None


def holds_answer_kind(sentence: str, kind: str | None) -> bool:
    """Whether ``sentence`` holds an answer of this kind (a temperature, an amount ...)."""
    for name, _, shows in _ANSWER_KINDS:
        if name == kind:
            return bool(shows.search(sentence))
    return False


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
        if self.max_sentences > 1:
            chosen = self._with_the_best_hit(candidates, scores, chosen)
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
        kind = answer_kind(question)
        fits = np.array(
            [_KIND_WEIGHT if holds_answer_kind(c.text, kind) else 0.0 for c in candidates],
            dtype=np.float32,
        )
        lexical = overlap + _RANK_WEIGHT * rank + fits
        if self._embed is None:
            return lexical
        # Embedding every sentence costs more than the search itself; embed the
        # likeliest few (shared words and the kind of answer, then hit rank) and rank the
        # others below them.
        likely = np.argsort(-(overlap + fits + 0.3 * rank), kind="stable")
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
        scores[keep] = (
            similarity + _OVERLAP_WEIGHT * overlap[keep] + _RANK_WEIGHT * rank[keep] + fits[keep]
        )
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

    def _with_the_best_hit(
        self, candidates: list[_Candidate], scores: np.ndarray, chosen: list[_Candidate]
    ) -> list[_Candidate]:
        """``chosen``, with the best hit's best sentence in place of the last one when no
        sentence of that hit made it (and it is no near-repeat of those kept)."""
        if not chosen or any(c.hit == 0 for c in chosen):
            return chosen
        own = [int(i) for i in np.argsort(-scores, kind="stable") if candidates[int(i)].hit == 0]
        if not own:
            return chosen
        best = candidates[own[0]]
        kept = chosen[:-1] if len(chosen) >= self.max_sentences else list(chosen)
        while kept and sum(len(c.text) for c in kept) + len(best.text) > self.max_chars:
            kept.pop()
        if any(_jaccard(best.terms, p.terms) >= _REPEAT_JACCARD for p in kept):
            return chosen
        return [*kept, best]


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

"""Scoring one chunk's text: what makes it a poor retrieval unit, and how poor.

Each check gives a factor in (0, 1]; the score is their product, so one bad
trait lowers it and several bad traits lower it more. The checks that need no
other chunk run in the parse workers (:meth:`QualityScorer.score_text`); the
two that compare with stored chunks (``duplicate`` by content hash and
``near_duplicate`` by embedding similarity) run in the write stage, where the
collection holds everything written before.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ragsilo.settings import QualitySettings

#: The metadata key under which a chunk carries its score, reasons and content hash.
QUALITY_KEY = "_quality"

#: Every reason a score can name, with what it means.
REASONS: dict[str, str] = {
    "too_short": "too little text to be useful on its own",
    "symbols": "mostly symbols or digits rather than words",
    "repeated_lines": "the same lines or words over and over",
    "boilerplate": "navigation, legal or cookie text found on every page",
    "garbled_ocr": "OCR output that is mostly not words",
    "encoding": "text decoded with the wrong encoding (mojibake or replacement characters)",
    "duplicate": "the same text as a chunk already stored or written earlier",
    "near_duplicate": "almost the same meaning and words as a stored chunk of another document",
}

_DUPLICATE_FACTOR = 0.1
_NEAR_DUPLICATE_FACTOR = 0.2

_BOILERPLATE = (
    r"all rights reserved",
    r"\bcopyright\b|©",
    r"\bcookies?\b.*\b(use|accept|consent|policy)\b|\b(accept|manage)\b.*\bcookies\b",
    r"privacy policy|terms (of (use|service)|and conditions)",
    r"\b(subscribe|unsubscribe|sign up for our newsletter)\b",
    r"\bclick here\b|\bread more\b",
    r"\bskip to (main )?content\b|\bback to top\b",
    r"\bpage \d+ of \d+\b",
    r"\blorem ipsum\b",
    r"\b(log ?in|sign ?in|register)\b.*\b(account|password)\b",
    r"enable javascript|javascript is (disabled|required)",
    r"\bshare (this|on)\b.*\b(facebook|twitter|linkedin|email)\b",
)
_MOJIBAKE = re.compile(r"[ÃÂâ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ''" "•–—˜™š›œžŸ¡-¿]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_VOWELS = set("aeiouyAEIOUYäöüéèêáàíóúåæøœ")


def text_hash(text: str) -> str:
    """A content hash of the text with case and whitespace normalised (32 hex digits)."""
    norm = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def quarantine_name(collection: str) -> str:
    """The quarantine collection of ``collection``."""
    return f"{collection}_quarantine"


@dataclass(frozen=True)
class QualityScore:
    """A chunk's quality: ``score`` in [0, 1] and the reasons that lowered it."""

    score: float
    reasons: tuple[str, ...] = ()

    def with_reason(self, reason: str, factor: float) -> QualityScore:
        if reason in self.reasons:
            return self
        return QualityScore(round(self.score * factor, 4), (*self.reasons, reason))

    def to_dict(self) -> dict[str, object]:
        return {"score": self.score, "reasons": list(self.reasons)}


class QualityScorer:
    """Scores chunk texts by the rules in :class:`~ragsilo.settings.QualitySettings`."""

    def __init__(self, settings: QualitySettings) -> None:
        self.settings = settings
        self._boilerplate = [
            re.compile(p, re.IGNORECASE) for p in (*_BOILERPLATE, *settings.boilerplate)
        ]

    @property
    def threshold(self) -> float:
        return self.settings.threshold

    def passes(self, score: QualityScore) -> bool:
        return score.score >= self.settings.threshold

    def score_text(self, text: str, *, ocr: bool = False) -> QualityScore:
        """The score from the text alone (every check but the two duplicate ones)."""
        factors: list[tuple[str, float]] = []
        stripped = text.strip()
        words = _WORD.findall(stripped)
        nonspace = [c for c in stripped if not c.isspace()]
        if len(stripped) < self.settings.min_chars or _word_count(words) < 3:
            short = len(stripped) / max(self.settings.min_chars, 1)
            factors.append(("too_short", max(0.1, min(0.45, 0.45 * short))))
        if nonspace:
            letters = sum(1 for c in nonspace if c.isalpha())
            alpha = letters / len(nonspace)
            if alpha < 0.55:
                factors.append(("symbols", max(0.05, alpha / 0.55 * 0.8)))
        rep = _repetition(stripped, words)
        if rep > 0.5:
            factors.append(("repeated_lines", max(0.05, 1.2 - rep * 1.3)))
        boiler = self._boilerplate_share(stripped)
        if boiler >= 0.4:
            factors.append(("boilerplate", max(0.1, 1.0 - boiler)))
        enc = _encoding_damage(stripped)
        if enc > 0.01:
            factors.append(("encoding", max(0.05, 1.0 - enc * 12)))
        if ocr and words:
            wordlike = _wordlike_share(words)
            if wordlike < 0.7:
                factors.append(("garbled_ocr", max(0.05, wordlike / 0.7 * 0.6)))
        score = QualityScore(1.0)
        for reason, factor in factors:
            score = score.with_reason(reason, factor)
        return score

    @staticmethod
    def duplicate(score: QualityScore) -> QualityScore:
        return score.with_reason("duplicate", _DUPLICATE_FACTOR)

    @staticmethod
    def near_duplicate(score: QualityScore) -> QualityScore:
        return score.with_reason("near_duplicate", _NEAR_DUPLICATE_FACTOR)

    def _boilerplate_share(self, text: str) -> float:
        """The share of the text's characters that sit in boilerplate lines."""
        lines = [ln for ln in _lines(text) if ln]
        total = sum(len(ln) for ln in lines)
        if not total:
            return 0.0
        hit = sum(len(ln) for ln in lines if any(p.search(ln) for p in self._boilerplate))
        if len(lines) == 1 and hit:
            # one line: count the boilerplate phrases against its length
            found = sum(len(m.group(0)) for p in self._boilerplate for m in p.finditer(text))
            return min(1.0, found * 4 / total)
        return hit / total


def _is_cjk(c: str) -> bool:
    """Scripts written without spaces: each character is about a word."""
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF  # kana
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF  # CJK ideographs
        or 0xAC00 <= o <= 0xD7AF  # hangul
        or 0xF900 <= o <= 0xFAFF
    )


def _word_count(words: list[str]) -> int:
    return sum(sum(map(_is_cjk, w)) or 1 for w in words)


def _lines(text: str) -> list[str]:
    # sentences count as lines for text that has few line breaks
    parts = re.split(r"\n+|(?<=[.!?])\s+(?=[A-Z])", text)
    return [" ".join(p.split()) for p in parts]


def _repetition(text: str, words: list[str]) -> float:
    """How repetitive the text is: the larger of the repeated-line and repeated-word shares."""
    lines = [ln.lower() for ln in _lines(text) if len(ln) > 2]
    line_rep = 0.0
    if len(lines) >= 4:
        line_rep = 1.0 - len(set(lines)) / len(lines)
    word_rep = 0.0
    if len(words) >= 8:
        counts = Counter(w.lower() for w in words)
        distinct = len(counts) / len(words)
        top = counts.most_common(1)[0][1] / len(words)
        word_rep = max(1.0 - distinct, top)
    return max(line_rep, word_rep)


def _encoding_damage(text: str) -> float:
    if not text:
        return 0.0
    bad = text.count("\ufffd") + len(_MOJIBAKE.findall(text)) * 2
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t\r")
    return (bad + controls) / len(text)


def _wordlike_share(words: Iterable[str]) -> float:
    """The share of tokens that look like words: a vowel, sane casing, a sane length."""
    total = good = 0
    for w in words:
        total += 1
        if len(w) == 1:
            good += w.lower() in ("a", "i", "o")
            continue
        if _is_cjk(w[0]):
            good += 1
            continue
        if len(w) > 24 or not any(c in _VOWELS for c in w):
            continue
        inner = w[1:]
        if any(c.isupper() for c in inner) and not w.isupper():
            continue
        good += 1
    return good / total if total else 0.0

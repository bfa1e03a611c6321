"""Scoring one chunk's text: what makes it a poor retrieval unit, and how poor.

Each check gives a factor in (0, 1]; the score is their product, so one bad
trait lowers it and several bad traits lower it more. The checks that need no
other chunk run in the parse workers (:meth:`QualityScorer.score_text`, or
:meth:`QualityScorer.score_texts` for a batch); the two that compare with
stored chunks (``duplicate`` by content hash and ``near_duplicate`` by
embedding similarity) run in the write stage, where the collection holds
everything written before.

The quarantine is for garbage, not for unusual text: code with repeated lines,
tables of numbers, formulas, reference lists, title-only records and text in
any script keep their place. Every check is built from a few passes over the
text with precompiled patterns (most of them skipped for text that cannot
fail them), so scoring costs a small fraction of embedding.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ragsilo.errors import InputError
from ragsilo.settings import QualitySettings

#: The metadata key under which a chunk carries its score, reasons and content hash.
QUALITY_KEY = "_quality"

#: Every reason a score can name, with what it means.
REASONS: dict[str, str] = {
    "too_short": "too little text to be useful on its own",
    "symbols": "mostly symbols, digits or encoded data (hex, base64) rather than words",
    "repeated_lines": "the same lines or words over and over",
    "boilerplate": "navigation, legal or cookie text found on every page",
    "gibberish": "letters that do not form words (keyboard mash, character noise)",
    "garbled_ocr": "OCR output that is mostly not words",
    "encoding": "text decoded with the wrong encoding (mojibake or replacement characters)",
    "duplicate": "the same text as a chunk already stored or written earlier",
    "near_duplicate": "almost the same meaning and words as a stored chunk of another document",
}

_DUPLICATE_FACTOR = 0.1
_NEAR_DUPLICATE_FACTOR = 0.2
#: A short text made of real words (a title, a heading) is marked, never quarantined.
_SHORT_WORDS_FACTOR = 0.8

# Boilerplate phrases: each names text that sits on every page of a site, not
# a topic. A line counts as boilerplate in proportion to how much of it such
# phrases cover, so prose that mentions copyright or cookies stays prose. The
# patterns run (on the lower-cased text) only when an anchor word is among the
# text's words, and each only when one of its key phrases is in the text, so
# most texts run none: (anchor words, key phrases separated by |, pattern).
_BOILERPLATE: tuple[tuple[str, str, str], ...] = (
    ("reserved", "rights reserved", r"all rights reserved"),
    (
        "copyright",
        "copyright|©|(c)",
        r"(?:\bcopyright\b\s*(?:©|\(c\))?|©|\(c\))\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?|by\b)",
    ),
    (
        "cookies cookie",
        "cookie",
        r"\b(?:we|this (?:site|website)|our (?:site|website)|we and our partners) "
        r"(?:\w+ ){0,3}(?:uses?|store|set) (?:\w+ ){0,2}cookies\b"
        r"|\b(?:accept|reject|allow|manage|decline)(?: all)?(?: \w+)? cookies\b"
        r"|\bcookie (?:policy|settings|preferences|consent|banner)\b"
        r"|\b(?:agree|consent) to (?:the |our )?(?:use of |storing of )?cookies\b",
    ),
    (
        "site website",
        "by continuing|by using",
        r"\bby (?:continuing to (?:browse|use)|using) (?:this|our) (?:site|website)\b",
    ),
    (
        "privacy cookie",
        "privacy |cookie ",
        r"\b(?:privacy|cookie) (?:policy|notice|statement)\b",
    ),
    ("terms", "terms of|terms and", r"\bterms (?:of (?:use|service)|and conditions)\b"),
    (
        "newsletter subscribe mailing unsubscribe",
        "sign up|subscribe",
        r"\b(?:sign up|subscribe) (?:for|to) (?:our|the) (?:newsletter|channel|mailing list)\b"
        r"|\bunsubscribe\b",
    ),
    (
        "click read learn",
        "click here|read more|learn more",
        r"\bclick here\b|\bread more\b|\blearn more\b",
    ),
    (
        "skip top jump",
        "skip to|back to top|jump to",
        r"\bskip to (?:main )?content\b|\bback to top\b|\bjump to navigation\b",
    ),
    ("page", "page ", r"\bpage \d+ of \d+\b"),
    ("lorem", "lorem ipsum", r"\blorem ipsum\b"),
    (
        "login signin password register",
        "log in|login|sign in|signin|register",
        r"\b(?:log ?in|sign ?in|register)\b.{0,30}\b(?:account|password)\b",
    ),
    ("javascript", "javascript", r"enable javascript|javascript is (?:disabled|required)"),
    (
        "share facebook twitter linkedin instagram",
        "share this|share on|share by|follow us",
        r"\b(?:share (?:this|on|by)|follow us on)\b",
    ),
)
# Words of navigation menus, footers and consent banners; a text made mostly of
# them, in short items, is a menu.
_NAV_TEXT = """
home about us contact blog news products product services shop store cart basket
checkout log login logout in out sign signin register account my search help faq faqs
careers jobs press sitemap privacy terms menu support pricing downloads download events
team partners investors subscribe newsletter policy cookie cookies imprint accessibility
follow share facebook twitter linkedin instagram youtube email top back skip main
content next previous prev page home accept reject all settings preferences legal
disclaimer community forum docs documentation resources company solutions features demo
trial get started reserved rights copyright powered by and of to on the our
"""
_NAV_WORDS = frozenset(_NAV_TEXT.split())
_NAV_GLUE = "in out all and of to on the our by my us get"
_NAV_CORE = _NAV_WORDS - frozenset(_NAV_GLUE.split())

_WORD = re.compile(r"[^\W\d_]+")
_JUNK = re.compile(r"[^\w\s.,;:!?'\"()%/\-]")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# UTF-8 read as cp1252 or Latin-1: a lead byte's character followed by
# continuation bytes' characters; each candidate is checked by undoing it.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\ufffd]{1,3}"
)
# Lines of a hex dump: an offset or a run of hex groups.
_HEX_LINE = re.compile(r"(?m)^[ \t]*(?:0x)?[0-9a-fA-F]{2,8}:?(?:[ \t]+[0-9a-fA-F]{2,8}){3,}")
_HEX_LETTER = re.compile("[a-fA-F]")
# long runs of letters and digits with no word break: base64, hex strings, hashes
_LONG_RUN = re.compile(r"[A-Za-z0-9]{16,}")
# Latin words a language could not pronounce: no vowel, or five consonants in a row.
_CONSONANTS = "bcdfghjklmnpqrstvwxz"
_UNPRONOUNCEABLE = re.compile(
    rf"(?<![^\W\d_])(?:[{_CONSONANTS.upper()}]?[{_CONSONANTS}]{{2,}}"
    rf"|[A-Za-z]*(?:[{_CONSONANTS}]{{5,}}|([a-z])\1\1)[A-Za-z]*)(?![^\W\d_])"
)
_LATIN_WORD = re.compile(r"(?<![^\W\d_])[A-Z]?[a-z]{2,}(?![^\W\d_])")
# Words broken by stray marks: a symbol or misplaced punctuation between two letters.
# (not a backslash or a bar: code writes escapes such as \xff and alternations a|b)
_BROKEN = re.compile(r"[^\W\d_][~°¬¦•`!;]+[^\W\d_]")
_VOWELS = set("aeiouyAEIOUYäöüéèêáàíóúåæøœ")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")  # on lower-cased text


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


_PERFECT = QualityScore(1.0)

# Byte tables: counting a class of ASCII characters is one C-level translate.
_ASCII_LETTERS = string.ascii_letters.encode()
_ASCII_SPACE = string.whitespace.encode()
_ASCII_VOWELS = b"aeiouyAEIOUY"
_ASCII_CONTROL = bytes(c for c in range(32) if chr(c) not in "\t\n\r\x0b\x0c") + b"\x7f"
_ASCII_MARKS = b"~|`\\"
# punctuation to spaces: what is left splits into words
_UNPUNCT = bytes.maketrans(string.punctuation.encode(), b" " * len(string.punctuation))
_NONASCII = re.compile("[^\x00-\x7f]+")
_WIDE_PUNCT = re.compile("[^\\w\\s\x00-\x7f]+")
_MENU_SEPARATORS = ("\n", " | ", " · ", " • ", " > ", " » ", " / ", "  ", "\t")


@dataclass(slots=True)
class _Text:
    """What the checks read from one text, each measured once."""

    text: str
    low: str
    words: list[str]  # lower-cased, split at spaces and ASCII punctuation
    nonspace: int
    letters: int
    vowels: int  # ASCII vowels
    marks: int  # stray marks of character noise
    latin: int  # ASCII letters
    breaks: int  # spaces, tabs and line breaks
    controls: int  # ASCII control characters
    cjk: int
    ascii: bool


def _measure(text: str) -> _Text:
    """One text's measures: ASCII classes by byte translation, the rest only when present."""
    raw = text.encode("utf-8", "surrogatepass")
    ascii_only = len(raw) == len(text)
    low_raw = raw.lower()
    words = low_raw.translate(_UNPUNCT).decode("utf-8", "replace").split()
    nonspace = len(raw.translate(None, _ASCII_SPACE)) if ascii_only else sum(map(len, text.split()))
    latin = letters = len(raw) - len(raw.translate(None, _ASCII_LETTERS))
    breaks = raw.count(b" ") + raw.count(b"\n") + raw.count(b"\t")
    vowels = len(raw) - len(raw.translate(None, _ASCII_VOWELS))
    marks = len(raw) - len(raw.translate(None, _ASCII_MARKS))
    controls = len(raw) - len(raw.translate(None, _ASCII_CONTROL))
    cjk = 0
    low = low_raw.decode("utf-8", "surrogatepass") if ascii_only else text.lower()
    if not ascii_only:
        wide = "".join(_NONASCII.findall(text))
        letters += sum(map(str.isalpha, wide))
        marks += sum(map(wide.count, "°¬¦•"))
        cjk = len(_CJK.findall(wide))
        words = _WIDE_PUNCT.sub(" ", " ".join(words)).split()
        if cjk:
            # a CJK character is about a word
            words = words + list(_CJK.findall(wide))
    return _Text(
        text,
        low,
        words,
        nonspace,
        letters,
        vowels,
        marks,
        latin,
        breaks,
        controls,
        cjk,
        ascii_only,
    )


class QualityScorer:
    """Scores chunk texts by the rules in :class:`~ragsilo.settings.QualitySettings`.

    Construction compiles the patterns once; a scorer holds no other state, so
    one instance scores any number of texts and pickles for worker processes.
    """

    def __init__(self, settings: QualitySettings) -> None:
        self.settings = settings
        self._compile()

    def _compile(self) -> None:
        self._boilerplate = [
            (frozenset(anchors.split()), tuple(phrases.split("|")), re.compile(pattern))
            for anchors, phrases, pattern in _BOILERPLATE
        ]
        self._anchors = frozenset().union(*(words for words, _, _ in self._boilerplate))
        # the user's patterns run on every text, as they were written
        self._extra = [re.compile(p, re.IGNORECASE) for p in self.settings.boilerplate]

    def __getstate__(self) -> dict[str, object]:
        return {"settings": self.settings}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.settings = state["settings"]  # type: ignore[assignment]
        self._compile()

    @property
    def threshold(self) -> float:
        return self.settings.threshold

    def passes(self, score: QualityScore) -> bool:
        return score.score >= self.settings.threshold

    def score_texts(self, texts: Sequence[str], *, ocr: bool = False) -> list[QualityScore]:
        """The scores of ``texts``, in order: what :meth:`score_text` gives each."""
        if isinstance(texts, str):
            raise InputError("score_texts() takes a sequence of texts, not a single string")
        score = self.score_text
        out: list[QualityScore] = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(
                    f"text number {i} to score is a {type(text).__name__}, not a string"
                )
            out.append(score(text, ocr=ocr))
        return out

    def score_text(self, text: str, *, ocr: bool = False) -> QualityScore:
        """The score from the text alone (every check but the two duplicate ones)."""
        t = _measure(text.strip())
        factors: list[tuple[str, float]] = []
        short = self._too_short(t)
        if short is not None:
            factors.append(("too_short", short))
        if t.nonspace:
            sym = _symbols(t)
            if sym is not None:
                factors.append(("symbols", sym))
        rep = _repetition(t)
        if rep > 0.5:
            factors.append(("repeated_lines", max(0.05, 1.2 - rep * 1.3)))
        boiler = self._boilerplate_share(t)
        if boiler >= 0.4:
            factors.append(("boilerplate", max(0.1, 1.0 - boiler)))
        if not t.ascii or t.controls:
            enc = _encoding_damage(t)
            if enc > 0.01:
                factors.append(("encoding", max(0.05, 1.0 - enc * 12)))
        gib = _gibberish(t)
        if gib is not None:
            factors.append(("gibberish", gib))
        if ocr and t.words:
            wordlike = _wordlike_share(_WORD.findall(t.text))
            if wordlike < 0.7:
                factors.append(("garbled_ocr", max(0.05, wordlike / 0.7 * 0.6)))
        if not factors:
            return _PERFECT
        score = _PERFECT
        for reason, factor in factors:
            score = score.with_reason(reason, factor)
        return score

    @staticmethod
    def duplicate(score: QualityScore) -> QualityScore:
        return score.with_reason("duplicate", _DUPLICATE_FACTOR)

    @staticmethod
    def near_duplicate(score: QualityScore) -> QualityScore:
        return score.with_reason("near_duplicate", _NEAR_DUPLICATE_FACTOR)

    def _too_short(self, t: _Text) -> float | None:
        """``too_short``'s factor: low for text with no real word, mild for a short real one."""
        words = len(t.words)
        if len(t.text) >= self.settings.min_chars and words >= 3:
            return None
        # a CJK character carries about a word; a Latin word needs a few letters
        if t.letters + t.cjk >= 3:
            return _SHORT_WORDS_FACTOR
        return max(0.1, min(0.45, 0.45 * len(t.text) / max(self.settings.min_chars, 1)))

    def _boilerplate_share(self, t: _Text) -> float:
        """The share of the text's characters that are boilerplate (phrases or menu items)."""
        share = 0.0
        patterns = self._extra
        if not self._anchors.isdisjoint(t.words) or "©" in t.text or "(c)" in t.low:
            low = t.low
            patterns = [
                p for _, phrases, p in self._boilerplate if any(x in low for x in phrases)
            ] + patterns
        if patterns:
            share = _phrase_share(t, patterns)
        if share < 0.6:
            share = max(share, _menu_share(t))
        return share


def _phrase_share(t: _Text, patterns: list[re.Pattern[str]]) -> float:
    """The share of characters in lines that boilerplate phrases cover (a third covers all)."""
    spans = [m.span() for p in patterns for m in p.finditer(t.low)]
    if not spans:
        return 0.0
    total = hit = 0.0
    for start, end in _segments(t.low):
        n = end - start
        total += n
        found = sum(min(e, end) - max(s, start) for s, e in spans if s < end and e > start)
        if found:
            hit += n * min(1.0, 3.0 * found / n)
    return hit / total if total else 0.0


def _segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line; a long line is cut into sentences."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        if len(line) > 200:
            cut = start
            for m in _SENTENCE_END.finditer(line):
                out.append((cut, start + m.start()))
                cut = start + m.end()
            out.append((cut, end))
        else:
            out.append((start, end))
    return out


def _menu_share(t: _Text) -> float:
    """How much of the text is a navigation menu: nav words in short items."""
    n = len(t.words)
    if n < 3:
        return 0.0
    # menu items are short: a few words between line breaks or separators
    items = 1 + sum(map(t.text.count, _MENU_SEPARATORS))
    if n > 3.5 * items:
        return 0.0
    nav = sum(1 for w in t.words if w in _NAV_WORDS)
    if nav < 0.6 * n or sum(1 for w in t.words if w in _NAV_CORE) < 3:
        return 0.0
    return nav / n


def _symbols(t: _Text) -> float | None:
    """``symbols``' factor: no letters at all, encoded data, or symbol runs without words."""
    if t.letters == 0:
        return 0.2
    alpha = t.letters / t.nonspace
    if alpha < 0.6 or t.nonspace > 12 * (t.breaks + 1):
        # base64 and hashes: long runs mixing letters and digits; hex dumps: lines of hex groups
        data = sum(len(run) for run in _LONG_RUN.findall(t.text) if _is_data(run))
        if alpha < 0.6:
            for m in _HEX_LINE.finditer(t.text):
                if _HEX_LETTER.search(m.group(0)):
                    data += sum(map(len, m.group(0).split()))
        if data >= 0.5 * t.nonspace:
            return max(0.05, 0.5 - data / t.nonspace * 0.4)
    if alpha < 0.2:
        junk = len(_JUNK.findall(t.text))
        if junk > 0.4 * t.nonspace:
            return max(0.05, alpha / 0.2 * 0.45)
    return None


def _is_data(run: str) -> bool:
    """A long run of letters and digits that mixes both: encoded data, not a word or a number."""
    digits = sum(map(str.isdigit, run))
    return 2 <= digits <= len(run) - 2


def _repetition(t: _Text) -> float:
    """How repetitive the text is: the larger of the repeated-line and repeated-phrase shares.

    Lines count by their characters, so code's short repeated lines (``}``,
    ``return None``) weigh little; phrases are word trigrams, which natural
    language and code rarely repeat but spam and menus do. Trigrams are only
    counted when the words themselves repeat a lot.
    """
    line_rep = 0.0
    if t.low.count("\n") >= 3:
        seen: set[str] = set()
        total = dup = 0
        for line in t.low.split("\n"):
            key = " ".join(line.split())
            if len(key) <= 2:
                continue
            total += len(key)
            if key in seen:
                dup += len(key)
            else:
                seen.add(key)
        if total:
            line_rep = dup / total
    phrase_rep = 0.0
    words = t.words
    n = len(words)
    if n >= 8:
        distinct = len(set(words))
        if n < 24 or distinct < 0.5 * n:
            grams = set(zip(words, words[1:], words[2:], strict=False))
            phrase_rep = 1.0 - len(grams) / (n - 2)
        if n < 24:
            # few words: a sentence said twice is not spam yet, one word over and over is
            phrase_rep *= (n - 2) / 22
            if n >= 8:
                phrase_rep = max(phrase_rep, max(Counter(words).values()) / n)
    return max(line_rep, phrase_rep)


def _encoding_damage(t: _Text) -> float:
    """The share of characters that are replacement characters, control codes or mojibake."""
    if not t.nonspace:
        return 0.0
    text = t.text
    bad = text.count("\ufffd") + len(_CONTROL.findall(text))
    if not t.ascii:
        for m in _MOJIBAKE.finditer(text):
            frag = m.group(0)
            if "\ufffd" in frag or _undoes(frag):
                bad += len(frag)
    return bad / t.nonspace


def _undoes(frag: str) -> bool:
    """Whether ``frag`` is UTF-8 bytes shown as cp1252 or Latin-1 characters."""
    for codec in ("cp1252", "latin-1"):
        try:
            frag.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        return True
    return False


def _gibberish(t: _Text) -> float | None:
    """``gibberish``'s factor: keyboard mash (ASCII words nobody could pronounce) or
    character noise (words broken by stray marks)."""
    if t.letters < 12:
        return None
    share = 0.0
    if t.ascii and t.vowels < 0.3 * t.latin:
        # mash comes from a keyboard: few vowels, words without any
        latin = len(_LATIN_WORD.findall(t.text))
        if latin >= 6:
            bad = len(_UNPRONOUNCEABLE.findall(t.text)) / latin
            share = bad + 2.0 * (0.3 - t.vowels / t.letters)
    if t.marks >= 3 and t.marks >= 0.02 * t.nonspace:
        broken = len(_BROKEN.findall(t.text)) / (t.breaks + 1)
        share = max(share, 2.5 * broken)
    if share < 0.45:
        return None
    return max(0.05, 1.0 - share)


def _wordlike_share(words: Iterable[str]) -> float:
    """The share of tokens that look like words: a vowel, sane casing, a sane length."""
    total = good = 0
    for w in words:
        total += 1
        if len(w) == 1:
            good += w.lower() in ("a", "i", "o")
            continue
        if _CJK.match(w):
            good += 1
            continue
        if len(w) > 24 or not any(c in _VOWELS for c in w):
            continue
        inner = w[1:]
        if any(c.isupper() for c in inner) and not w.isupper():
            continue
        good += 1
    return good / total if total else 0.0

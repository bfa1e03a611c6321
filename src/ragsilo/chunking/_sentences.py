"""A small rule-based sentence splitter for one line of normalised text.

A sentence ends at ``.``, ``!``, ``?`` or ``…`` (with closing quotes or
brackets) followed by whitespace, unless the next word starts with a lowercase
letter, or the word before the full stop is a known abbreviation ("e.g.",
"Dr.", "Fig. 3"), an initial ("J. Smith") or a list number opening a
sentence ("1. Install"). Decimals ("3.14") never split because no whitespace
follows their point. CJK full stops end a sentence without whitespace.
"""

from __future__ import annotations

import re

# Abbreviations that never end a sentence (compared lowercased, without dots).
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms mx dr prof sr jr st mt rev gen col lt sgt capt gov sen rep pres
    vs etc eg ie cf al viz approx ca incl resp dept est inc ltd co corp bros
    jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun
    """.split()  # noqa: SIM905
)
# Abbreviations that are only abbreviations before a number ("Fig. 3", "p. 12").
_BEFORE_NUMBER = frozenset(
    "no nos nr fig figs eq eqs p pp vol vols ch chap sec art ref refs".split()  # noqa: SIM905
)

_WESTERN_END = re.compile(r"[.!?…]+['\"’”»)\]]*( )")
_CJK_END = re.compile(r"[。！？]+[」』”’）)]*")
_OPENING = re.compile(r"^[\"'“‘(\[«]+")


def split_sentences(line: str) -> list[tuple[str, str]]:
    """``line`` (no newlines, single spaces) as ``(separator, sentence)`` pairs.

    Joining the pairs (the first separator dropped) gives ``line`` back.
    """
    ends: list[tuple[int, int]] = []  # (end of sentence, start of next)
    sentence_start = 0
    for m in _WESTERN_END.finditer(line):
        space = m.start(1)
        if space + 1 < len(line) and _is_boundary(line, m.start(), space, sentence_start):
            ends.append((space, space + 1))
            sentence_start = space + 1
    if "。" in line or "！" in line or "？" in line:
        for m in _CJK_END.finditer(line):
            if m.end() < len(line):
                nxt = m.end() + 1 if line[m.end()] == " " else m.end()
                ends.append((m.end(), nxt))
        ends.sort()
    out: list[tuple[str, str]] = []
    start = 0
    sep = ""
    for end, nxt in ends:
        if end <= start:
            continue
        out.append((sep, line[start:end]))
        sep = line[end:nxt]
        start = nxt
    if start < len(line):
        out.append((sep, line[start:]))
    return out


def _is_boundary(line: str, punct_at: int, space_at: int, sentence_start: int) -> bool:
    after = _OPENING.sub("", line[space_at + 1 : space_at + 5])
    if after[:1].islower():
        return False
    if line[punct_at] != ".":
        return True
    word_start = line.rfind(" ", 0, punct_at) + 1
    word = line[word_start:punct_at]
    if not word:
        return True
    bare = word.lstrip("\"'“‘([«").lower().replace(".", "")
    if bare in _ABBREVIATIONS:
        return False
    if bare in _BEFORE_NUMBER and after[:1].isdigit():
        return False
    if len(bare) == 1 and bare.isalpha():
        return False  # an initial: "J. Smith", "U. S."
    if "." in word.strip(".") and all(len(p) <= 2 for p in word.split(".") if p):
        return False  # "e.g", "i.e", "U.S", "a.m"
    # "1. Install" opens a list item.
    return not (word_start == sentence_start and word.isdigit())

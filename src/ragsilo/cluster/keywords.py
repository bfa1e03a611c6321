"""Keywords per cluster: class-based TF-IDF over the texts of each cluster's chunks.

A term scores high for a cluster when it is frequent there and rare in the
other clusters (the c-TF-IDF of BERTopic: ``tf(t, c) / |c| * log(1 + A / f(t))``,
where ``A`` is the average number of words per cluster and ``f(t)`` the term's
frequency over all clusters). Words are lowercased runs of letters and digits of
at least three characters, without English stop words or numbers; runs of CJK
characters count as their two-character pieces, so Chinese text gets keywords
too.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

STOP_WORDS = frozenset(
    (
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "may",
        "me",
        "might",
        "more",
        "most",
        "must",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "shall",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "via",
        "using",
        "used",
        "use",
        "however",
        "thus",
        "therefore",
        "whether",
        "among",
        "across",
        "although",
        "et",
        "al",
    )
)


def terms(text: str) -> list[str]:
    """The countable terms of ``text``."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        cjk = _CJK.findall(word)
        if cjk:
            for run in cjk:
                out.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
            word = _CJK.sub(" ", word)
            out.extend(w for w in word.split() if _keep(w))
        elif _keep(word):
            out.append(word)
    return out


def _keep(word: str) -> bool:
    return len(word) >= 3 and not word.isdigit() and word not in STOP_WORDS


class KeywordCounter:
    """Accumulates term counts per cluster, one text at a time."""

    def __init__(self, k: int) -> None:
        self.counts: list[Counter[str]] = [Counter() for _ in range(k)]

    def add(self, cluster_id: int, text: str) -> None:
        if 0 <= cluster_id < len(self.counts):
            self.counts[cluster_id].update(terms(text))

    def top(self, n: int) -> list[list[str]]:
        return top_keywords(self.counts, n)


def top_keywords(counts: Iterable[Counter[str]], n: int) -> list[list[str]]:
    """The ``n`` best c-TF-IDF terms of each cluster (ties broken alphabetically)."""
    per_cluster = list(counts)
    if n <= 0:
        return [[] for _ in per_cluster]
    total: Counter[str] = Counter()
    for c in per_cluster:
        total.update(c)
    words = [sum(c.values()) for c in per_cluster]
    avg = (sum(words) / len(per_cluster)) if per_cluster else 0.0
    out: list[list[str]] = []
    for c, size in zip(per_cluster, words, strict=True):
        if not size:
            out.append([])
            continue
        scored = sorted(((tf / size) * math.log(1.0 + avg / total[t]), t) for t, tf in c.items())
        scored.sort(key=lambda st: (-st[0], st[1]))
        out.append([t for _, t in scored[:n]])
    return out

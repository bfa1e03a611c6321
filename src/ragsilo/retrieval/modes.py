"""Search modes: dense vectors, BM25 full text, or both fused."""

from __future__ import annotations

from ragsilo.errors import InputError
from ragsilo.settings import SEARCH_MODES

FUSIONS = ("rrf", "weighted")


def check_mode(mode: str) -> str:
    """``mode`` when it is a known search mode; :class:`InputError` otherwise."""
    if mode not in SEARCH_MODES:
        raise InputError(f"search mode {mode!r} is unknown; choose {', '.join(SEARCH_MODES)}")
    return mode


def needs_text_index(mode: str) -> bool:
    """Whether ``mode`` searches the BM25 field."""
    return mode in ("bm25", "hybrid")


def needs_vector(mode: str) -> bool:
    """Whether ``mode`` searches the dense vectors."""
    return mode in ("dense", "hybrid")

"""Chunk quality: a score in [0, 1] with its reasons, and the quarantine collection."""

from ragsilo.quality.scoring import (
    QUALITY_KEY,
    REASONS,
    QualityScore,
    QualityScorer,
    quarantine_name,
    text_hash,
)

__all__ = [
    "QUALITY_KEY",
    "REASONS",
    "QualityScore",
    "QualityScorer",
    "quarantine_name",
    "text_hash",
]

"""What the quality scores say about a silo: ``ragsilo quality report`` and ``quarantine list``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ragsilo.quality.scoring import QUALITY_KEY, REASONS
from ragsilo.settings import QualitySettings
from ragsilo.store import VectorStore, quote

_BANDS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.01))


@dataclass(frozen=True)
class QuarantinedChunk:
    """One chunk in the quarantine, with why it is there."""

    id: str
    source: str
    chunk_index: int
    score: float
    reasons: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "chunk_index": self.chunk_index,
            "score": self.score,
            "reasons": list(self.reasons),
            "text": self.text,
        }


@dataclass(frozen=True)
class QualityReport:
    """Kept and quarantined chunk counts, by reason and score band."""

    collection: str
    quarantine: str | None
    threshold: float
    kept: int
    quarantined: int
    unscored: int
    reasons_kept: dict[str, int] = field(default_factory=dict)
    reasons_quarantined: dict[str, int] = field(default_factory=dict)
    bands: dict[str, int] = field(default_factory=dict)
    worst_sources: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "quarantine": self.quarantine,
            "threshold": self.threshold,
            "kept": self.kept,
            "quarantined": self.quarantined,
            "unscored": self.unscored,
            "reasons_kept": self.reasons_kept,
            "reasons_quarantined": self.reasons_quarantined,
            "score_bands": self.bands,
            "worst_sources": [{"source": s, "quarantined": n} for s, n in self.worst_sources],
            "reason_help": REASONS,
        }


def _quality(row: dict[str, Any]) -> dict[str, Any] | None:
    q = (row.get("metadata") or {}).get(QUALITY_KEY)
    return q if isinstance(q, dict) else None


def build_report(
    store: VectorStore, collection: str, quarantine: str | None, settings: QualitySettings
) -> QualityReport:
    bands: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {"kept": Counter(), "quarantined": Counter()}
    counts = {"kept": 0, "quarantined": 0, "unscored": 0}
    by_source: Counter[str] = Counter()
    places = [("kept", collection)] + ([("quarantined", quarantine)] if quarantine else [])
    for place, name in places:
        for row in store.iter_rows(name, "", ["metadata", "source"]):
            q = _quality(row)
            if q is None:
                counts["unscored"] += 1
                continue
            counts[place] += 1
            score = float(q.get("score", 1.0))
            for lo, hi in _BANDS:
                if lo <= score < hi:
                    bands[f"{lo:.2f}-{min(hi, 1.0):.2f}"] += 1
            reasons[place].update(q.get("reasons") or [])
            if place == "quarantined":
                by_source[str(row.get("source", ""))] += 1
    return QualityReport(
        collection=collection,
        quarantine=quarantine,
        threshold=settings.threshold,
        kept=counts["kept"],
        quarantined=counts["quarantined"],
        unscored=counts["unscored"],
        reasons_kept=dict(reasons["kept"].most_common()),
        reasons_quarantined=dict(reasons["quarantined"].most_common()),
        bands=dict(sorted(bands.items())),
        worst_sources=by_source.most_common(10),
    )


def quarantined_rows(
    store: VectorStore,
    quarantine: str,
    *,
    limit: int = 100,
    reason: str | None = None,
    source: str | None = None,
) -> list[QuarantinedChunk]:
    expr = f"source == {quote(source)}" if source else ""
    out: list[QuarantinedChunk] = []
    for row in store.iter_rows(
        quarantine, expr, ["id", "source", "chunk_index", "text", "metadata"]
    ):
        q = _quality(row) or {}
        why = tuple(q.get("reasons") or ())
        if reason and reason not in why:
            continue
        out.append(
            QuarantinedChunk(
                id=str(row["id"]),
                source=str(row["source"]),
                chunk_index=int(row.get("chunk_index") or 0),
                score=float(q.get("score", 0.0)),
                reasons=why,
                text=str(row.get("text", "")),
            )
        )
    out.sort(key=lambda c: (c.score, c.source, c.chunk_index))
    return out[:limit]

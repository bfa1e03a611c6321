"""The quarantine of a silo: report on it, list it, promote chunks out of it, purge it.

Chunks scoring under ``quality.threshold`` are written to
``<collection>_quarantine`` (same schema) instead of the chunk collection. A
promoted chunk moves to the chunk collection, marked ``promoted`` so that a
re-ingest of its unchanged file leaves it there; a purged chunk is deleted and
recorded in the ingest journal so that it does not come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import InputError, NotFoundError
from ragsilo.quality.report import QualityReport, QuarantinedChunk, build_report, quarantined_rows
from ragsilo.quality.scoring import QUALITY_KEY, quarantine_name
from ragsilo.settings import QualitySettings
from ragsilo.store.protocol import VectorStore
from ragsilo.store.schema import TERMS_FIELD

#: what the journal keeps of a purged chunk: id, doc_id, file_sha256, doc_chunks
_PURGE_FIELDS = ["id", "doc_id", "file_sha256", "doc_chunks"]


class PurgeLog(Protocol):
    """Where purged chunks are remembered (the ingest journal)."""

    def add_purged(self, rows: Iterable[tuple[str, str, str, int]]) -> None: ...


class Quarantine:
    """The quarantine operations on ``collection`` and its ``<collection>_quarantine``.

    ``ready`` opens the chunk collection (it raises when there is none); each
    operation calls it before it reads or writes.
    """

    def __init__(
        self,
        store: VectorStore,
        collection: str,
        *,
        ready: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.collection = collection
        self.name = quarantine_name(collection)
        self._ready = ready

    def exists(self) -> bool:
        return self.store.has_collection(self.name)

    def report(self, settings: QualitySettings) -> QualityReport:
        """Counts of kept and quarantined chunks, by reason and by score band."""
        self._ready()
        return build_report(
            self.store,
            self.collection,
            self.name if self.exists() else None,
            settings,
        )

    def list(
        self, *, limit: int = 100, reason: str | None = None, source: str | None = None
    ) -> list[QuarantinedChunk]:
        """The quarantined chunks (lowest score first), optionally of one reason or source."""
        if not self.exists():
            return []
        self._ready()
        return quarantined_rows(
            self.store,
            self.name,
            limit=limit,
            reason=reason,
            source=source,
        )

    def promote(
        self, ids: Sequence[str], *, clusters: Callable[[], ClusterModel | None] = lambda: None
    ) -> int:
        """Move the chunks ``ids`` into the collection, marked promoted, each assigned to its
        nearest cluster of ``clusters()`` (when there are any); returns how many moved."""
        ids = [str(i) for i in ids]
        if not ids:
            raise InputError("give the ids of the chunks to promote (ragsilo quarantine list)")
        self._ready()
        q = self.name
        if not self.exists():
            raise NotFoundError(f"there is no quarantine collection {q!r}")
        rows = self.store.get_rows(q, ids, self.store.row_fields(q))
        missing = sorted(set(ids) - {str(r["id"]) for r in rows})
        if missing:
            raise NotFoundError(
                f"{len(missing)} of the ids are not in the quarantine: {', '.join(missing[:5])}",
                hint="list them with: ragsilo quarantine list",
            )
        fields = self.store.row_fields(self.collection)
        out = []
        for r in rows:
            meta = dict(r.get("metadata") or {})
            meta[QUALITY_KEY] = {**dict(meta.get(QUALITY_KEY) or {}), "promoted": True}
            row = {f: r[f] for f in fields if f in r}
            row["metadata"] = meta
            if TERMS_FIELD in fields and TERMS_FIELD not in row:
                row[TERMS_FIELD] = self.store.bm25_terms(row["text"])
            out.append(row)
        model = clusters()
        if model is not None:
            vectors = np.asarray([r["vector"] for r in out], dtype=np.float32)
            for row, cid in zip(out, model.assign(vectors), strict=True):
                row["cluster_id"] = int(cid)
        if model is not None and model.partitioned:
            self.store.place_rows(self.collection, out)
        else:
            self.store.write_rows(self.collection, out)
        self.store.commit(self.collection)
        self.store.delete_ids(q, ids)
        self.store.commit(q)
        return len(out)

    def purge(
        self,
        ids: Sequence[str] | None = None,
        *,
        log: Callable[[], PurgeLog | None] = lambda: None,
    ) -> int:
        """Delete quarantined chunks (``ids``, or all), remembering them in ``log()`` (when
        it gives one); returns how many went."""
        q = self.name
        if not self.exists():
            return 0
        self._ready()
        if ids is None:
            rows = list(self.store.iter_rows(q, "", _PURGE_FIELDS))
        else:
            rows = self.store.get_rows(q, [str(i) for i in ids], _PURGE_FIELDS)
        if not rows:
            return 0
        journal = log()
        if journal is not None:
            journal.add_purged(
                (r["id"], r["doc_id"], r["file_sha256"], int(r["doc_chunks"])) for r in rows
            )
        n = self.store.delete_ids(q, [r["id"] for r in rows])
        self.store.commit(q)
        return n


__all__ = ["PurgeLog", "Quarantine"]

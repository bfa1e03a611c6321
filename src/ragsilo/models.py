"""Core data: small frozen dataclasses passed between the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Section:
    """A structural piece of a parsed document: a page, a headed section or a record.

    ``heading`` is the heading path ("Install > Linux"), ``page`` is 1-based
    for paged formats, and ``metadata`` carries per-record fields (CSV/JSON).
    """

    text: str
    page: int | None = None
    heading: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedDocument:
    """What a parser makes of one file."""

    title: str
    mime_type: str
    sections: tuple[Section, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass(frozen=True)
class Chunk:
    """One unit of retrieval: a piece of a document with its provenance.

    ``id`` is a content hash of the document id, position and text, so the same
    chunk of the same file always has the same primary key. ``doc_chunks`` is
    how many chunks the document version has; the store uses it to tell a
    complete document from one whose write was interrupted.
    """

    id: str
    doc_id: str
    source: str
    file_sha256: str
    mime_type: str
    title: str
    page: int | None
    section: str | None
    chunk_index: int
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    doc_chunks: int = 0


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    score: float
    text: str
    source: str
    title: str
    page: int | None
    section: str | None
    chunk_index: int
    doc_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            "text": self.text,
            "source": self.source,
            "title": self.title,
            "page": self.page,
            "section": self.section,
            "chunk_index": self.chunk_index,
            "doc_id": self.doc_id,
            "metadata": self.metadata,
            **({"fields": self.fields} if self.fields else {}),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any], fields: list[str]) -> Hit:
        """The hit for one store row (its ``distance`` is the score); of ``fields``, those
        beyond the standard hit fields go to :attr:`fields`."""
        page = int(row.get("page") or 0)
        extra = {f: _plain(row[f]) for f in fields if f not in HIT_ROW_FIELDS and f in row}
        return cls(
            id=str(row["id"]),
            score=float(row["distance"]),
            text=str(row.get("text", "")),
            source=str(row.get("source", "")),
            title=str(row.get("title", "")),
            page=page or None,
            section=row.get("section") or None,
            chunk_index=int(row.get("chunk_index") or 0),
            doc_id=str(row.get("doc_id", "")),
            metadata=dict(row.get("metadata") or {}),
            fields=extra,
        )


def _plain(value: Any) -> Any:
    """A row value as plain Python data (a store may give a vector as an array)."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


#: The row fields a :class:`Hit` carries itself (a store search returns them by default).
HIT_ROW_FIELDS = (
    "doc_id",
    "source",
    "title",
    "page",
    "section",
    "chunk_index",
    "text",
    "metadata",
    "mime_type",
)


FileStatus = Literal["ingested", "skipped", "failed", "removed"]


@dataclass(frozen=True)
class FileResult:
    """What happened to one input file during an ingest."""

    path: str
    status: FileStatus
    chunks: int = 0
    error_code: str | None = None
    message: str | None = None
    quarantined: int = 0

    def __post_init__(self) -> None:
        # a file name that is not UTF-8 (lone surrogates) is kept escaped, so the report
        # can go to the journal, JSON and a terminal
        from ragsilo.sources import escape_surrogates

        for name in ("path", "message"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, escape_surrogates(value))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "chunks": self.chunks,
            "quarantined": self.quarantined,
            "error_code": self.error_code,
            "message": self.message,
        }


@dataclass(frozen=True)
class IngestReport:
    """The summary of one ingest run."""

    files: tuple[FileResult, ...]
    chunks_written: int
    chunks_deleted: int
    seconds: float
    chunks_quarantined: int = 0
    #: seconds spent per stage (parse, score, embed, write; parse summed over workers)
    stages: dict[str, float] = field(default_factory=dict)

    def _count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def ingested(self) -> int:
        return self._count("ingested")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def removed(self) -> int:
        return self._count("removed")

    @property
    def failures(self) -> tuple[FileResult, ...]:
        return tuple(f for f in self.files if f.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "skipped": self.skipped,
            "failed": self.failed,
            "removed": self.removed,
            "chunks_written": self.chunks_written,
            "chunks_deleted": self.chunks_deleted,
            "chunks_quarantined": self.chunks_quarantined,
            "seconds": round(self.seconds, 3),
            "stages": {k: round(v, 3) for k, v in self.stages.items()},
            "files": [f.to_dict() for f in self.files],
        }


@dataclass(frozen=True)
class ServerInfo:
    """What the capability probe found about the connected Milvus."""

    kind: Literal["lite", "server", "memory"]
    version: str
    uri: str
    bm25: bool
    sparse: bool
    hybrid_search: bool
    rbac: bool
    inverted_index: bool
    index_types: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "uri": self.uri,
            "capabilities": {
                "bm25": self.bm25,
                "sparse": self.sparse,
                "hybrid_search": self.hybrid_search,
                "rbac": self.rbac,
                "inverted_index": self.inverted_index,
                "index_types": list(self.index_types),
            },
        }


@dataclass(frozen=True)
class CollectionStats:
    """Counts and settings of one collection."""

    name: str
    rows: int
    documents: int
    dimension: int
    index_type: str
    metric_type: str
    consistency_level: str
    load_state: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

"""The JSON bodies of the HTTP API (pydantic lives at this edge only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Scalar = str | int | float | bool
WhereValue = Scalar | list[Scalar]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Body):
    """A search. ``where`` holds equality filters (``{"source": "a.md", "metadata.lang":
    "en"}``, a list means any of); ``filter`` is a raw Milvus boolean expression."""

    query: str = Field(min_length=1, description="What to look for")
    k: int = Field(default=5, ge=1, description="How many hits (at most service.max_k)")
    where: dict[str, WhereValue] | None = None
    filter: str | None = Field(default=None, description="A raw Milvus boolean expression")
    mode: str | None = Field(
        default=None,
        description="dense, bm25 or hybrid (see GET /options); default: retrieval.mode",
    )
    reranker: str | None = Field(
        default=None,
        description="A reranker from GET /options; default: retrieval.rerank",
    )
    route: int | None = Field(
        default=None,
        ge=0,
        description="Search only the N clusters nearest the query (0: all); "
        "default: retrieval.route_clusters",
    )
    tenant: str | None = Field(
        default=None,
        description="Tenant to search (required when collection.tenants is on; null otherwise)",
    )
    consistency_level: Literal["Strong", "Bounded", "Session", "Eventually"] | None = Field(
        default=None, description="Consistency level of this query (default: the collection's)"
    )
    output_fields: list[str] | None = Field(
        default=None, description="Extra stored fields to return per hit"
    )


class HitOut(BaseModel):
    id: str
    score: float
    text: str
    source: str
    title: str
    page: int | None
    section: str | None
    chunk_index: int
    doc_id: str
    metadata: dict[str, Any]
    cluster_id: int | None = None
    fields: dict[str, Any] | None = None


class SearchResponse(BaseModel):
    query: str
    k: int
    mode: str
    reranker: str
    routed_to: list[int]
    took_ms: float
    hits: list[HitOut]


class TextItem(_Body):
    """One text to ingest; ``name`` makes its source ``text://<name>``."""

    text: str
    name: str | None = None
    title: str | None = None
    metadata: dict[str, Any] | None = None


class TextsRequest(_Body):
    """Texts to ingest, each a string or an object with its name, title and metadata."""

    texts: list[str | TextItem] = Field(min_length=1)
    tenant: str | None = Field(
        default=None, description="Tenant that owns the texts (when collection.tenants is on)"
    )


class FileResultOut(BaseModel):
    path: str
    status: Literal["ingested", "skipped", "failed", "removed"]
    chunks: int
    quarantined: int = 0
    error_code: str | None
    message: str | None


class IngestResponse(BaseModel):
    ingested: int
    skipped: int
    failed: int
    removed: int
    chunks_written: int
    chunks_deleted: int
    chunks_quarantined: int = 0
    seconds: float
    stages: dict[str, float] = {}
    files: list[FileResultOut]


class AskRequest(_Body):
    """A question; the answer cites the top-``k`` hits as ``[1]``, ``[2]`` ..."""

    question: str = Field(min_length=1)
    k: int = Field(default=5, ge=1)
    where: dict[str, WhereValue] | None = None
    filter: str | None = None
    tenant: str | None = Field(
        default=None, description="Tenant to answer from (when collection.tenants is on)"
    )
    consistency_level: Literal["Strong", "Bounded", "Session", "Eventually"] | None = None
    stream: bool = Field(
        default=False, description="Answer as server-sent events (text/event-stream)"
    )


class CitationOut(HitOut):
    n: int


class AskResponse(BaseModel):
    question: str
    answer: str
    mode: Literal["llm", "extractive"]
    model: str | None
    citations: list[CitationOut]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str


class ReadyResponse(BaseModel):
    ready: bool
    collection: str
    milvus: dict[str, str] | None = None
    error: str | None = None
    message: str | None = None


class CollectionsResponse(BaseModel):
    collections: list[str]
    current: str


class OptionsResponse(BaseModel):
    """What this service offers, for clients and the web page."""

    modes: list[str]
    rerankers: list[str]
    default_mode: str
    default_reranker: str
    answer_mode: Literal["llm", "extractive"]
    auth_required: bool
    limits: dict[str, int | float]


class ErrorResponse(BaseModel):
    error: str
    message: str

"""ragsilo: a production-grade retrieval layer for RAG on Milvus.

Everything the CLI does is available here, through one facade::

    import ragsilo

    with ragsilo.Silo.open(milvus={"uri": "./ragsilo.db"}) as silo:
        silo.ingest(["samples/"])
        for hit in silo.search("what makes a compost pile heat up?", k=3):
            print(hit.score, hit.source, hit.text[:80])
"""

from typing import TYPE_CHECKING

from ragsilo.errors import (
    AuthenticationError,
    CapabilityError,
    CollectionNotFoundError,
    ConfigError,
    ConnectionFailedError,
    DimensionMismatchError,
    DocumentError,
    EmbeddingError,
    FilterError,
    InputError,
    MissingDependencyError,
    PermissionDeniedError,
    PolicyError,
    RagsiloError,
    RerankError,
    SchemaMismatchError,
    StoreError,
)
from ragsilo.models import (
    Chunk,
    CollectionStats,
    FileResult,
    Hit,
    IngestReport,
    ParsedDocument,
    Section,
    ServerInfo,
)

# The names below load Milvus, numpy, the models or pydantic: they are imported on first use,
# so that ``import ragsilo.errors`` and ``ragsilo --help`` stay fast.
_LAZY = {
    "Admin": "ragsilo.admin",
    "AnswerStream": "ragsilo.answer.stream",
    "AsyncAnswerStream": "ragsilo.answer.stream",
    "ClusterModel": "ragsilo.cluster",
    "ClusterSummary": "ragsilo.cluster.recluster",
    "ReclusterReport": "ragsilo.cluster.recluster",
    "HitGroup": "ragsilo.rerank",
    "RerankContext": "ragsilo.rerank",
    "Reranker": "ragsilo.rerank",
    "SearchResult": "ragsilo.retrieval",
    "Query": "ragsilo.retrieval",
    "DoctorReport": "ragsilo.silo",
    "Silo": "ragsilo.silo",
    "Settings": "ragsilo.settings",
    "load_settings": "ragsilo.settings",
}

if TYPE_CHECKING:
    from ragsilo.admin import Admin
    from ragsilo.answer.stream import AnswerStream, AsyncAnswerStream
    from ragsilo.cluster import ClusterModel
    from ragsilo.cluster.recluster import ClusterSummary, ReclusterReport
    from ragsilo.rerank import HitGroup, RerankContext, Reranker
    from ragsilo.retrieval import Query, SearchResult
    from ragsilo.settings import Settings, load_settings
    from ragsilo.silo import DoctorReport, Silo


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ragsilo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "Admin",
    "AnswerStream",
    "AsyncAnswerStream",
    "AuthenticationError",
    "CapabilityError",
    "Chunk",
    "ClusterModel",
    "ClusterSummary",
    "CollectionNotFoundError",
    "CollectionStats",
    "ConfigError",
    "ConnectionFailedError",
    "DimensionMismatchError",
    "DocumentError",
    "DoctorReport",
    "EmbeddingError",
    "FileResult",
    "FilterError",
    "Hit",
    "HitGroup",
    "IngestReport",
    "InputError",
    "MissingDependencyError",
    "ParsedDocument",
    "PermissionDeniedError",
    "PolicyError",
    "Query",
    "RagsiloError",
    "ReclusterReport",
    "RerankContext",
    "RerankError",
    "Reranker",
    "SchemaMismatchError",
    "SearchResult",
    "Section",
    "ServerInfo",
    "Settings",
    "Silo",
    "StoreError",
    "__version__",
    "load_settings",
]

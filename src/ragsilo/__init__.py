"""ragsilo: a production-grade retrieval layer for RAG on Milvus.

Everything the CLI does is available here, through one facade::

    import ragsilo

    with ragsilo.Silo.open(milvus={"uri": "./ragsilo.db"}) as silo:
        silo.ingest(["samples/"])
        for hit in silo.search("what makes a compost pile heat up?", k=3):
            print(hit.score, hit.source, hit.text[:80])
"""

from ragsilo.admin import Admin
from ragsilo.answer.stream import AnswerStream, AsyncAnswerStream
from ragsilo.cluster import ClusterModel
from ragsilo.cluster.recluster import ClusterSummary, ReclusterReport
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
from ragsilo.rerank import HitGroup, RerankContext, Reranker
from ragsilo.retrieval import SearchResult
from ragsilo.settings import Settings, load_settings
from ragsilo.silo import DoctorReport, Silo

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

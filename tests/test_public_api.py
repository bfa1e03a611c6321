"""The public surface is a flat, deliberate list: adding or removing a name is a decision."""

from __future__ import annotations

import ragsilo

EXPECTED = {
    "Admin",
    "AuthenticationError",
    "CapabilityError",
    "Chunk",
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
    "IngestReport",
    "InputError",
    "MissingDependencyError",
    "ParsedDocument",
    "PermissionDeniedError",
    "PolicyError",
    "RagsiloError",
    "SchemaMismatchError",
    "Section",
    "ServerInfo",
    "Settings",
    "Silo",
    "StoreError",
    "__version__",
    "load_settings",
    # retrieval quality: clusters, reranking, search results
    "ClusterModel",
    "ClusterSummary",
    "HitGroup",
    "ReclusterReport",
    "RerankContext",
    "RerankError",
    "Reranker",
    "SearchResult",
    # one checked search request, passed to Silo.search/retrieve/ask
    "Query",
    # answers streamed as they are written (Silo.ask_stream, Silo.aask(stream=True))
    "AnswerStream",
    "AsyncAnswerStream",
}


def test_public_names() -> None:
    assert set(ragsilo.__all__) == EXPECTED
    for name in ragsilo.__all__:
        assert getattr(ragsilo, name) is not None


def test_facade_has_the_verbs_the_cli_uses() -> None:
    for verb in (
        "open",
        "ingest",
        "search",
        "stats",
        "collections",
        "drop_collection",
        "delete",
        "doctor",
        "close",
        "recluster",
        "clusters",
        "retrieve",
        "search_groups",
    ):
        assert callable(getattr(ragsilo.Silo, verb)), verb


def test_facade_has_streaming_and_async_verbs() -> None:
    import inspect

    assert callable(ragsilo.Silo.ask_stream)
    for verb in ("asearch", "aretrieve", "aask", "aingest_texts", "aingest"):
        assert inspect.iscoroutinefunction(getattr(ragsilo.Silo, verb)), verb


def test_import_has_no_side_effects() -> None:
    import importlib
    import logging

    before = logging.getLogger("pymilvus").level
    importlib.reload(ragsilo)
    assert logging.getLogger("pymilvus").level == before

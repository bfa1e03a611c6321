"""Retrieval: search modes (dense, BM25, hybrid), result fusion, and the query pipeline
(route → search → rerank) behind :meth:`ragsilo.Silo.search`."""

from ragsilo.retrieval.fusion import rrf, weighted
from ragsilo.retrieval.modes import FUSIONS, SEARCH_MODES, check_mode
from ragsilo.retrieval.query import Query
from ragsilo.retrieval.searcher import Retriever, SearchOptions, SearchResult, fuse_rows

__all__ = [
    "FUSIONS",
    "Query",
    "SEARCH_MODES",
    "Retriever",
    "SearchOptions",
    "SearchResult",
    "check_mode",
    "fuse_rows",
    "rrf",
    "weighted",
]

"""The Milvus store: the only package that imports pymilvus."""

from ragsilo.store.capabilities import Capabilities, capabilities_of
from ragsilo.store.catalog import CollectionState
from ragsilo.store.errors import RetryPolicy
from ragsilo.store.filters import build_filter, parse_where, quote
from ragsilo.store.indexes import CATALOGUE, IndexPlan, plan_index
from ragsilo.store.milvus import DEFAULT_OUTPUT_FIELDS, MilvusStore
from ragsilo.store.protocol import IndexAdmin, VectorStore

__all__ = [
    "CATALOGUE",
    "DEFAULT_OUTPUT_FIELDS",
    "Capabilities",
    "CollectionState",
    "IndexAdmin",
    "IndexPlan",
    "MilvusStore",
    "RetryPolicy",
    "VectorStore",
    "capabilities_of",
    "build_filter",
    "parse_where",
    "plan_index",
    "quote",
]

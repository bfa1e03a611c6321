"""The Milvus store: the only package that imports pymilvus."""

from ragsilo.store.errors import RetryPolicy
from ragsilo.store.filters import build_filter, parse_where, quote
from ragsilo.store.indexes import CATALOGUE, IndexPlan, plan_index
from ragsilo.store.milvus import DEFAULT_OUTPUT_FIELDS, MilvusStore

__all__ = [
    "CATALOGUE",
    "DEFAULT_OUTPUT_FIELDS",
    "IndexPlan",
    "MilvusStore",
    "RetryPolicy",
    "build_filter",
    "parse_where",
    "plan_index",
    "quote",
]

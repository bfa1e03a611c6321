"""Reranking: the :class:`Reranker` protocol, the built-in strategies, the registry, and the
"group by cluster" view for assembling RAG context."""

from ragsilo.rerank.base import RerankContext, Reranker
from ragsilo.rerank.custom import CustomReranker, check_output
from ragsilo.rerank.groups import HitGroup, group_by_cluster
from ragsilo.rerank.registry import (
    BUILTIN,
    ENTRY_POINT_GROUP,
    available_rerankers,
    create_reranker,
    reranker_name_problem,
)
from ragsilo.rerank.strategies import (
    CentroidQueryReranker,
    ClusterDistanceReranker,
    ClusterSizeReranker,
    ClusterSmoothReranker,
    MMRReranker,
    NoReranker,
    cluster_smooth_scores,
    mmr_order,
)

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "CentroidQueryReranker",
    "ClusterDistanceReranker",
    "ClusterSizeReranker",
    "ClusterSmoothReranker",
    "CustomReranker",
    "HitGroup",
    "MMRReranker",
    "NoReranker",
    "RerankContext",
    "Reranker",
    "available_rerankers",
    "check_output",
    "cluster_smooth_scores",
    "create_reranker",
    "group_by_cluster",
    "mmr_order",
    "reranker_name_problem",
]

"""Clustering: k-means over chunk vectors, the fitted :class:`ClusterModel`, cluster keywords.

Fitting, reassigning and storing are driven by :meth:`ragsilo.Silo.recluster`;
this package is the numerical part and has no I/O.
"""

from ragsilo.cluster.keywords import KeywordCounter, terms, top_keywords
from ragsilo.cluster.kmeans import (
    Clusterer,
    KMeansClusterer,
    KMeansResult,
    assign,
    kmeans_plus_plus,
    normalise,
    similarity,
)
from ragsilo.cluster.model import ClusterModel

__all__ = [
    "ClusterModel",
    "Clusterer",
    "KMeansClusterer",
    "KMeansResult",
    "KeywordCounter",
    "assign",
    "auto_k",
    "kmeans_plus_plus",
    "normalise",
    "similarity",
    "terms",
    "top_keywords",
]


def auto_k(rows: int, max_k: int = 1024) -> int:
    """The ``k: auto`` choice: about √rows (as for an IVF index's nlist), at least 1 and at
    most ``max_k`` and ``rows``."""
    if rows <= 0:
        return 0
    return int(max(1, min(max_k, rows, round(rows**0.5))))

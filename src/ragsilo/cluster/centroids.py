"""A silo's fitted clusters, kept in Milvus next to its chunks.

:class:`CentroidStore` reads and writes :class:`ClusterModel` objects through the
store seam (:class:`~ragsilo.store.protocol.VectorStore`); the rows and the centroid
collection are :mod:`ragsilo.store.centroids`' business.
"""

from __future__ import annotations

from ragsilo.cluster.model import ClusterModel
from ragsilo.store.centroids import CentroidTable
from ragsilo.store.protocol import VectorStore


class CentroidStore:
    """Reads and writes :class:`ClusterModel` objects through any :class:`VectorStore`."""

    def __init__(self, store: VectorStore) -> None:
        self._table = CentroidTable(store)

    def read(self, collection: str) -> ClusterModel | None:
        """The stored clusters of ``collection``, or ``None`` when it was never clustered."""
        stored = self._table.read(collection)
        if stored is None:
            return None
        return ClusterModel(
            centroids=stored.centroids,
            sizes=stored.sizes,
            metric=stored.metric,
            partitioned=stored.partitioned,
            keywords=stored.keywords,
            representatives=stored.representatives,
            info=stored.info,
        )

    def write(self, collection: str, model: ClusterModel) -> None:
        """Store ``model`` as ``collection``'s clusters, replacing any earlier ones."""
        self._table.write(collection, model)

    def drop(self, collection: str) -> bool:
        """Drop ``collection``'s clusters; False when it had none."""
        return self._table.drop(collection)

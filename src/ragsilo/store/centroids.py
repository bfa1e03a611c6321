"""Storage of a silo's clusters in a collection of their own, ``<collection>_centroids``.

One row per cluster: its id (the primary key), centroid vector, size at the
last fit, ``detail`` (``{"keywords": [...], "representatives": [chunk ids]}``;
a JSON object, as Milvus 2.3 takes no top-level JSON arrays), and the fit's
description (``info``, the same on every row). Written by upserting every cluster and then
deleting ids beyond the new ``k``, so there is never a moment without centroids.

This module knows the rows, not the clustering: it reads and writes
:class:`StoredClusters` values through any
:class:`~ragsilo.store.protocol.VectorStore` (its collection is made by
``ensure_centroid_collection``), and
:class:`ragsilo.cluster.centroids.CentroidStore` turns them into
:class:`~ragsilo.cluster.model.ClusterModel` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ragsilo.errors import StoreError
from ragsilo.store.protocol import VectorStore
from ragsilo.store.schema import CENTROID_FIELDS, VECTOR_FIELD

CENTROID_SUFFIX = "_centroids"


def centroid_collection(collection: str) -> str:
    """The name of the collection that holds ``collection``'s centroids."""
    return f"{collection}{CENTROID_SUFFIX}"


class ClusterRecord(Protocol):
    """What is stored of a fit (a :class:`~ragsilo.cluster.model.ClusterModel` is one)."""

    @property
    def centroids(self) -> np.ndarray: ...
    @property
    def sizes(self) -> np.ndarray: ...
    @property
    def metric(self) -> str: ...
    @property
    def partitioned(self) -> bool: ...
    @property
    def keywords(self) -> tuple[tuple[str, ...], ...]: ...
    @property
    def representatives(self) -> tuple[tuple[str, ...], ...]: ...
    @property
    def info(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StoredClusters:
    """The clusters of a collection as read back from its centroid collection."""

    centroids: np.ndarray  # (k, d) float32
    sizes: np.ndarray  # (k,) int64
    metric: str
    partitioned: bool = False
    keywords: tuple[tuple[str, ...], ...] = ()
    representatives: tuple[tuple[str, ...], ...] = ()
    info: dict[str, Any] = field(default_factory=dict)


class CentroidTable:
    """Reads and writes a collection's clusters as rows, through a :class:`VectorStore`."""

    def __init__(self, store: VectorStore) -> None:
        self._store = store

    def read(self, collection: str) -> StoredClusters | None:
        """The stored clusters of ``collection``, or ``None`` when it was never clustered."""
        name = centroid_collection(collection)
        if not self._store.has_collection(name):
            return None
        self._store.ensure_loaded(name)
        rows = self._store.query(name, "cluster_id >= 0", list(CENTROID_FIELDS))
        if not rows:
            return None
        rows.sort(key=lambda r: int(r["cluster_id"]))
        ids = [int(r["cluster_id"]) for r in rows]
        if ids != list(range(len(rows))):
            raise StoreError(
                f"the centroids in {name!r} are incomplete (cluster ids {ids[:5]}...)",
                hint="run `ragsilo recluster` to fit them again",
            )
        info = dict(rows[0].get("info") or {})
        return StoredClusters(
            centroids=np.asarray([r[VECTOR_FIELD] for r in rows], dtype=np.float32),
            sizes=np.asarray([int(r["size"]) for r in rows], dtype=np.int64),
            metric=str(info.get("metric", "COSINE")),
            partitioned=bool(info.get("partitioned", False)),
            keywords=tuple(tuple((r.get("detail") or {}).get("keywords") or ()) for r in rows),
            representatives=tuple(
                tuple((r.get("detail") or {}).get("representatives") or ()) for r in rows
            ),
            info=info,
        )

    def write(self, collection: str, model: ClusterRecord) -> None:
        """Store ``model`` as ``collection``'s clusters, replacing any earlier ones."""
        name = centroid_collection(collection)
        k, dimension = int(model.centroids.shape[0]), int(model.centroids.shape[1])
        self._store.ensure_centroid_collection(name, dimension=dimension, metric=model.metric)
        info = {**model.info, "metric": model.metric, "partitioned": model.partitioned}
        rows: list[dict[str, Any]] = []
        for i in range(k):
            rows.append(
                {
                    "cluster_id": i,
                    VECTOR_FIELD: model.centroids[i].astype(np.float32).tolist(),
                    "size": int(model.sizes[i]),
                    "detail": {
                        "keywords": list(model.keywords[i]) if i < len(model.keywords) else [],
                        "representatives": (
                            list(model.representatives[i]) if i < len(model.representatives) else []
                        ),
                    },
                    "info": info,
                }
            )
        self._store.write_rows(name, rows)
        self._store.delete_where(name, f"cluster_id >= {k}")
        self._store.flush(name)

    def drop(self, collection: str) -> bool:
        """Drop ``collection``'s centroid collection; ``False`` when it had none."""
        return self._store.drop_collection(centroid_collection(collection))

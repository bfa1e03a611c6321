"""The store seam: the calls the rest of ragsilo makes on a vector store.

:class:`VectorStore` lists the store calls that ingest, retrieval, quality,
clustering, evaluation, the service and the integrations really make (found by
reading their uses of :class:`~ragsilo.store.MilvusStore`), with their exact
signatures. :class:`IndexAdmin` adds the replica and index administration that
only :class:`~ragsilo.Silo`'s admin methods use. Two stores implement them:
:class:`~ragsilo.store.MilvusStore` (Milvus Lite or a server) and
:class:`~ragsilo.store.memory.InMemoryStore` (numpy, for unit tests); the
store contract tests in ``tests/store`` run on each.

Rows are plain dicts keyed by field name (see :mod:`ragsilo.store.schema`);
searches return, per query, dicts with the asked ``output_fields`` plus ``id``
and ``distance`` (the metric's score: larger is closer for COSINE and IP,
smaller for L2).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ragsilo.models import HIT_ROW_FIELDS, Chunk, CollectionStats, ServerInfo
from ragsilo.store.capabilities import Capabilities
from ragsilo.store.indexes import IndexPlan
from ragsilo.store.schema import BM25Spec

#: The fields a search returns when the caller names none.
SEARCH_OUTPUT_FIELDS = HIT_ROW_FIELDS


@runtime_checkable
class VectorStore(Protocol):
    """A store of chunk rows with a dense vector each, searched by vector (and by BM25
    where :attr:`info` says ``bm25``).

    Every method raises :mod:`ragsilo.errors` types: ``CollectionNotFoundError``
    for a collection that does not exist, ``FilterError`` for a filter
    expression it cannot evaluate, ``CapabilityError`` for a feature it lacks.
    """

    # ------------------------------------------------------------------ lifecycle
    @property
    def info(self) -> ServerInfo:
        """What the store is and can do (kind, version, BM25, RBAC, index types)."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What the store does differently from the others, by name (from :attr:`info`)."""
        ...

    def close(self) -> None: ...

    def exclusive(self) -> AbstractContextManager[None]:
        """A block in which other threads' calls on this store wait (swapping collections)."""
        ...

    # ---------------------------------------------------------------- collections
    def list_collections(self) -> list[str]: ...

    def has_collection(self, name: str) -> bool: ...

    def drop_collection(self, name: str) -> bool:
        """Drop ``name``; ``False`` when it did not exist."""
        ...

    def ensure_collection(
        self,
        name: str,
        *,
        dimension: int,
        plan: IndexPlan,
        consistency_level: str,
        shards: int = 1,
        description: str = "",
        bm25: BM25Spec | None = None,
        tenants: bool = False,
        tenant_partitions: int = 16,
        replicas: int = 1,
        codes: bool = False,
    ) -> bool:
        """Create the chunk collection (with ``codes``, with vector codes), or check that
        the existing one matches (dimension, metric, tenants); it ends loaded. ``True``
        when it was created."""
        ...

    def ensure_vector_collection(
        self, name: str, *, dimension: int, metric: str = "COSINE"
    ) -> None:
        """A side collection of one vector per chunk id (``id``, ``doc_id``, ``source``,
        ``vector``), created if needed and loaded."""
        ...

    def ensure_centroid_collection(self, name: str, *, dimension: int, metric: str) -> bool:
        """A side collection of one row per cluster (``cluster_id`` the primary key,
        ``vector``, ``size``, JSON ``detail`` and ``info``), created if needed and loaded;
        one with vectors of another dimension is dropped and created again. ``True`` when
        it was created."""
        ...

    def ensure_loaded(self, name: str, *, replicas: int | None = None) -> None: ...

    def rename_collection(self, old: str, new: str) -> None: ...

    def stats(self, name: str) -> CollectionStats: ...

    def dimension_of(self, name: str) -> int:
        """The dimension of ``name``'s vector field."""
        ...

    def plan_of(self, name: str) -> IndexPlan | None:
        """The index plan searches of ``name`` use (``None`` before it was opened)."""
        ...

    def has_bm25(self, name: str) -> bool: ...

    def has_tenants(self, name: str) -> bool: ...

    def has_codes(self, name: str) -> bool:
        """Whether ``name`` keeps a vector code beside each vector."""
        ...

    def require_bm25(self, name: str, mode: str) -> None:
        """Raise ``CapabilityError`` unless ``name`` can answer a ``mode`` query."""
        ...

    def bm25_terms(self, text: str) -> str: ...

    def row_fields(self, name: str) -> list[str]:
        """Every field a whole row of ``name`` is written with (the vector included)."""
        ...

    def candidate_vector_field(self, name: str) -> str:
        """The field a search of ``name`` fetches to compare its hits with each other
        (``vector``, or a close and cheaper copy that a search returns as a float32
        vector)."""
        ...

    # ----------------------------------------------------------------------- data
    def upsert_chunks(
        self,
        name: str,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        batch_bytes: int,
        cluster_ids: Sequence[int] | np.ndarray | None = None,
        partitioned: bool = False,
        tenant: str | None = None,
        terms: Sequence[str] | None = None,
        new: bool = False,
    ) -> int:
        """``terms``: the chunks' BM25 terms made ahead (used where the store keeps
        ragsilo-made terms); ``new``: no chunk's id is stored yet (a store may insert)."""
        ...

    def write_rows(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        batch_bytes: int = ...,
        partition: str | None = None,
        insert: bool = False,
    ) -> int: ...

    def place_rows(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        batch_bytes: int = ...,
    ) -> int:
        """Upsert rows into the partitions of their clusters; a stored id keeps its own."""
        ...

    def ensure_partitions(self, name: str, partitions: Sequence[str]) -> list[str]: ...

    def list_partitions(self, name: str) -> list[str]: ...

    def delete_ids(
        self, name: str, ids: Sequence[str], batch: int = 1000, *, partition: str | None = None
    ) -> int: ...

    def delete_where(self, name: str, filter: str) -> None:
        """Delete every row that matches ``filter``; an empty filter is refused."""
        ...

    def flush(self, name: str) -> None: ...

    def commit(self, name: str) -> None:
        """Make the writes to ``name`` durable (a flush only where the store needs one)."""
        ...

    def count(
        self, name: str, filter: str = "", partitions: Sequence[str] | None = None
    ) -> int: ...

    def query(
        self, name: str, filter: str, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]: ...

    def iter_rows(
        self,
        name: str,
        filter: str,
        fields: Sequence[str],
        *,
        batch_size: int = 1000,
        limit: int | None = None,
        partitions: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]: ...

    def get_rows(
        self, name: str, ids: Sequence[str], fields: Sequence[str], batch: int = 1000
    ) -> list[dict[str, Any]]: ...

    def search(
        self,
        name: str,
        vectors: np.ndarray,
        *,
        k: int,
        filter: str = "",
        output_fields: Sequence[str] = SEARCH_OUTPUT_FIELDS,
        consistency_level: str | None = None,
        partitions: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]: ...

    def search_bm25(
        self,
        name: str,
        texts: Sequence[str],
        *,
        k: int,
        filter: str = "",
        output_fields: Sequence[str] = SEARCH_OUTPUT_FIELDS,
        consistency_level: str | None = None,
        partitions: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]: ...


@runtime_checkable
class IndexAdmin(VectorStore, Protocol):
    """A :class:`VectorStore` whose replicas and vector index can be changed in place
    (``Silo.replicas``, ``Silo.set_replicas``, ``Silo.index_info``, ``Silo.set_index``)."""

    def replicas(self, name: str) -> list[dict[str, Any]]: ...

    def set_replicas(self, name: str, replicas: int) -> int: ...

    def vector_index(self, name: str) -> dict[str, Any]: ...

    def replace_vector_index(self, name: str, plan: IndexPlan) -> None: ...


if TYPE_CHECKING:  # checked by ``mypy src``: both stores implement the seam
    from ragsilo.store.memory import InMemoryStore
    from ragsilo.store.milvus import MilvusStore

    def _milvus_is_a_store(store: MilvusStore) -> tuple[VectorStore, IndexAdmin]:
        return store, store

    def _memory_is_a_store(store: InMemoryStore) -> VectorStore:
        return store


__all__ = ["SEARCH_OUTPUT_FIELDS", "IndexAdmin", "VectorStore"]

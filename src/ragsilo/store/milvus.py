"""MilvusStore: the only place that talks to Milvus (through ``MilvusClient``).

The class is built in layers, one concern a module: :mod:`~ragsilo.store.connection`
(open, capabilities, retried calls), :mod:`~ragsilo.store.catalog` (what a Milvus
holds and the per-collection state), :mod:`~ragsilo.store.reads` (queries and
searches), :mod:`~ragsilo.store.admin` (collections, load, replicas, index,
partitions). This module adds the write path: rows built from chunks and written
in byte-bounded batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ragsilo.errors import ConnectionFailedError, DimensionMismatchError, InputError
from ragsilo.models import Chunk
from ragsilo.store.admin import MilvusAdmin
from ragsilo.store.columns import write_columns
from ragsilo.store.connection import lite_file_holder
from ragsilo.store.indexes import (  # noqa: F401 - the name silo.py imports from here
    plan_from_described as _plan_from_described,
)
from ragsilo.store.reads import DEFAULT_OUTPUT_FIELDS
from ragsilo.store.rows import (
    byte_batches,
    chunk_row,
    chunk_rows,
    fit_codes,
    row_bytes,
    row_terms,
    truncate_utf8,
)
from ragsilo.store.schema import (
    CLUSTER_PARTITION_PREFIX,
    DEFAULT_PARTITION,
    SCALAR_FIELD_NAMES,
    cluster_partition,
)

GRPC_MESSAGE_CAP = 64 * 1024 * 1024


class MilvusStore(MilvusAdmin):
    """A connection to one Milvus (Lite file or server), probed for its capabilities.

    Use :meth:`connect`; the constructor does no I/O. Every call that reaches
    Milvus is retried on transient errors and raises :mod:`ragsilo.errors`
    types, never pymilvus exceptions. It implements
    :class:`~ragsilo.store.protocol.VectorStore` and
    :class:`~ragsilo.store.protocol.IndexAdmin`.
    """

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
        """Upsert chunks with their vectors in batches of at most ``batch_bytes``.

        A collection with tenants needs ``tenant`` (stored in every row); one
        without refuses it.

        ``cluster_ids`` (one per chunk, default unassigned) is stored with each
        row; with ``partitioned`` each row goes to its cluster's partition (an id
        stored already keeps its partition, see :meth:`place_rows`).

        ``terms`` are the chunks' BM25 terms made ahead (:func:`~ragsilo.store.rows.row_terms`,
        used where the collection keeps ragsilo-made terms, else made here). ``new`` says
        that no chunk's id is stored yet: on Milvus Lite they are then inserted, not
        upserted (an upsert there looks up every id among the stored rows in Python,
        which costs up to three times the insert).
        """
        if len(chunks) != len(vectors):
            raise InputError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if cluster_ids is not None and len(cluster_ids) != len(chunks):
            raise InputError(f"{len(chunks)} chunks but {len(cluster_ids)} cluster ids")
        if terms is not None and len(terms) != len(chunks):
            raise InputError(f"{len(chunks)} chunks but {len(terms)} BM25 term strings")
        if len(chunks) == 0:
            return 0
        tenanted = self.has_tenants(name)
        if tenanted and tenant is None:
            raise InputError(f"collection {name!r} holds tenants: name the tenant to write to")
        if not tenanted and tenant is not None:
            raise InputError(
                f"collection {name!r} has no tenants",
                hint="set collection.tenants: true for a new collection",
            )
        dim = int(vectors.shape[1])
        held = self._held_dimension(name)
        if dim != held:
            raise DimensionMismatchError(
                f"vectors have dimension {dim} but collection {name!r} holds {held}"
            )
        if tenant is not None:
            from ragsilo.store.filters import check_tenant

            check_tenant(tenant)
        if self.has_terms(name):
            if terms is None:
                terms = [row_terms(c.text, self.bm25_terms) for c in chunks]
        else:
            terms = None
        rows = chunk_rows(
            chunks, vectors, cluster_ids, terms=terms, tenant=tenant, codes=self.has_codes(name)
        )
        if partitioned:
            return self.place_rows(name, rows, batch_bytes=batch_bytes)
        return self.write_rows(
            name, rows, batch_bytes=batch_bytes, insert=new and self.info.kind == "lite"
        )

    def write_rows(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        batch_bytes: int = GRPC_MESSAGE_CAP // 4,
        partition: str | None = None,
        insert: bool = False,
    ) -> int:
        """Upsert (or, with ``insert``, insert) whole rows in byte-bounded batches; a row
        gets or loses its vector code as the collection has the field or not."""
        rows = fit_codes(rows, self.has_codes(name))
        written = 0
        op = "insert" if insert else "upsert"
        kwargs: dict[str, Any] = {"partition_name": partition} if partition else {}
        replace = not insert and self._upsert_misroutes(name)
        for batch in byte_batches(list(rows), min(batch_bytes, GRPC_MESSAGE_CAP // 2)):
            if replace:
                # delete + insert: the same rows as an upsert, each in its tenant's partition
                self.delete_ids(name, [str(r["id"]) for r in batch])
            self._call(
                f"{op} {len(batch)} rows into {name!r}",
                lambda b=batch: self._send_rows(name, b, upsert=not (insert or replace), **kwargs),
            )
            written += len(batch)
        return written

    def _send_rows(
        self, name: str, rows: list[dict[str, Any]], *, upsert: bool, partition_name: str = ""
    ) -> None:
        """One request: the rows as columns where they fit the schema, else as rows."""
        if write_columns(self.client, name, rows, upsert=upsert, partition=partition_name):
            return
        send = self.client.upsert if upsert else self.client.insert
        send(name, rows, **({"partition_name": partition_name} if partition_name else {}))

    def _upsert_misroutes(self, name: str) -> bool:
        """Whether upserts into ``name`` would land in the wrong partitions: Milvus 2.3 does
        not route upserted rows by their partition key (measured on 2.3.5: of four rows of
        one tenant upserted together, a search of that tenant found one), so they would
        drop out of their tenant's searches."""
        from ragsilo.store.capabilities import parse_version

        return (
            self.info.kind == "server"
            and parse_version(self.info.version) < (2, 4, 0)
            and self.has_tenants(name)
        )

    def place_rows(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        batch_bytes: int = GRPC_MESSAGE_CAP // 4,
    ) -> int:
        """Upsert rows into the partitions of their clusters (``cluster_id``).

        A row is never moved between partitions here: an id that is stored
        already keeps its stored cluster id and partition (the id is a content
        hash, so it is the same text and vector). Milvus keeps a primary key per
        partition (an upsert into another partition leaves the old copy on
        Milvus 2.3, and Milvus Lite goes on showing it in partition searches), so
        changing a row's partition is left to a rebuild (see ``recluster``).
        """
        rows = list(rows)
        stored = {
            str(r["id"]): int(r["cluster_id"])
            for r in self.get_rows(name, [str(r["id"]) for r in rows], ["id", "cluster_id"])
        }
        by_partition: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            cid = stored.get(str(row["id"]), int(row["cluster_id"]))
            by_partition.setdefault(cluster_partition(cid), []).append({**row, "cluster_id": cid})
        self.ensure_partitions(name, sorted(by_partition))
        written = 0
        for part, part_rows in sorted(by_partition.items()):
            written += self.write_rows(name, part_rows, batch_bytes=batch_bytes, partition=part)
        return written

    # ---------------------------------------------------------------- deletes
    def delete_ids(
        self, name: str, ids: Sequence[str], batch: int = 1000, *, partition: str | None = None
    ) -> int:
        """Delete rows by primary key (in one partition, or all); returns how many ids were
        asked to go."""
        total = 0
        kwargs: dict[str, Any] = {"partition_name": partition} if partition else {}
        for i in range(0, len(ids), batch):
            part = list(ids[i : i + batch])
            self._call(
                f"delete {len(part)} rows from {name!r}",
                lambda p=part: self.client.delete(name, ids=p, **kwargs),
            )
            total += len(part)
        return total

    def delete_where(self, name: str, filter: str) -> None:
        """Delete every row of ``name`` that matches ``filter`` (a Milvus expression)."""
        if not filter.strip():
            raise InputError("delete_where needs a filter; drop the collection to empty it")
        self._call(
            f"delete rows of {name!r} where {filter}",
            lambda: self.client.delete(name, filter=filter),
        )

    def flush(self, name: str) -> None:
        self._call(f"flush {name!r}", lambda: self.client.flush(name))

    def commit(self, name: str) -> None:
        """Make the writes to ``name`` durable: a flush on Milvus Lite, nothing on a server,
        which already holds every acknowledged write (``Capabilities.durable_writes``)."""
        if not self.capabilities.durable_writes:
            self.flush(name)


__all__ = [
    "CLUSTER_PARTITION_PREFIX",
    "DEFAULT_OUTPUT_FIELDS",
    "DEFAULT_PARTITION",
    "SCALAR_FIELD_NAMES",
    "ConnectionFailedError",
    "MilvusStore",
    "byte_batches",
    "chunk_row",
    "cluster_partition",
    "lite_file_holder",
    "row_bytes",
    "truncate_utf8",
]

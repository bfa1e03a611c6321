"""What the connected Milvus can do, decided once at open from its kind and version.

:func:`capabilities_for` probes a Milvus into a :class:`~ragsilo.models.ServerInfo`;
:func:`capabilities_of` turns any :class:`ServerInfo` into the named
:class:`Capabilities` the store code branches on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from ragsilo.models import ServerInfo

LITE_INDEX_TYPES = ("AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW")
SERVER_INDEX_TYPES = (
    "AUTOINDEX",
    "FLAT",
    "IVF_FLAT",
    "IVF_SQ8",
    "IVF_PQ",
    "HNSW",
    "DISKANN",
    "SCANN",
)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int]:
    """``'v2.3.5-lite'`` → ``(2, 3, 5)``; unknown → ``(0, 0, 0)``."""
    m = _VERSION_RE.search(text or "")
    if not m:
        return (0, 0, 0)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def capabilities_for(kind: str, version: str, uri: str) -> ServerInfo:
    """The feature set of a Milvus of this kind and version.

    Milvus Lite (the embedded engine) has BM25, sparse vectors and hybrid search
    but no RBAC and only the in-memory CPU index types. A server gains sparse
    vectors and hybrid search in 2.4, the BM25 function and INVERTED on VARCHAR
    in 2.5 (INVERTED on numbers in 2.4).
    """
    if kind == "lite":
        return ServerInfo(
            kind="lite",
            version=version,
            uri=uri,
            bm25=True,
            sparse=True,
            hybrid_search=True,
            rbac=False,
            inverted_index=True,
            index_types=LITE_INDEX_TYPES,
        )
    v = parse_version(version)
    return ServerInfo(
        kind="server",
        version=version,
        uri=uri,
        bm25=v >= (2, 5, 0),
        sparse=v >= (2, 4, 0),
        hybrid_search=v >= (2, 4, 0),
        rbac=True,
        inverted_index=v >= (2, 4, 0),
        index_types=SERVER_INDEX_TYPES,
    )


@dataclass(frozen=True)
class Capabilities:
    """What the store behind a :class:`ServerInfo` does differently, by name.

    Computed once when a store opens (:func:`capabilities_of`); code that would
    branch on ``info.kind`` or the version reads one of these instead, so each
    difference between Milvus Lite, a server and the in-memory store is decided
    in one place.
    """

    #: Milvus's BM25 function (Milvus Lite, a server from 2.5).
    bm25_function: bool
    #: The ``english`` and ``chinese`` analyzers are built in (a server). Where not,
    #: ragsilo stems English itself into ``bm25_text`` (see ``schema.bm25_spec``).
    builtin_analyzers: bool
    #: Index build parameters are read only under one JSON ``params`` key (Milvus Lite
    #: silently builds with its defaults otherwise).
    nested_index_params: bool
    #: Partitions are loaded and released one by one (a server); Milvus Lite loads the
    #: whole collection, new partitions included.
    loads_partitions: bool
    #: A collection can be loaded with more than one in-memory replica, and replicas are
    #: described by the server (on Lite there is one in-process copy).
    replicas: bool
    #: An upsert lands in the partition of its partition key. Milvus 2.3 does not route
    #: upserted rows by their key, so upserts into a tenant collection are written as
    #: delete + insert there.
    upsert_routes_partition_key: bool
    #: A GPU index may exist (a server; whether it is a GPU build is ``index.gpu``'s say).
    gpu_indexes: bool
    #: Routed searches pay off with a partition per cluster (measured on Milvus Lite: 16x
    #: faster than searching everything at 100k chunks); on a server a partition per
    #: cluster made every search slower, so a ``cluster_id`` filter routes there.
    routes_by_partition: bool
    #: A write is durable once the call returns: a server holds every acknowledged write in
    #: its log (its WAL) and seals segments on its own, so ragsilo does not flush there (a
    #: flush waits for the seal in 0.5 s steps: 1-3 s per ingest). Milvus Lite keeps writes
    #: in memory until a flush.
    durable_writes: bool
    #: An upserted row's old copy stays in its file, and every search walks past it, until
    #: a compaction merges the file (Milvus Lite: its compaction is size-tiered and does not
    #: merge for replaced rows, so a first clustering that rewrites every chunk left
    #: searches 29-43 % slower for good). A server's compaction drops replaced rows itself.
    keeps_replaced_rows: bool
    #: A query iterator gets a session timestamp from Milvus (a server). Milvus Lite has
    #: none; pymilvus then warns on every iterator and uses a client-side one, as it should.
    session_timestamps: bool

    def to_dict(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}


def capabilities_of(info: ServerInfo) -> Capabilities:
    """The :class:`Capabilities` of the store ``info`` describes (``lite``, ``server`` or the
    in-memory store, ``memory``)."""
    server = info.kind == "server"
    return Capabilities(
        bm25_function=info.bm25,
        builtin_analyzers=server,
        nested_index_params=info.kind == "lite",
        loads_partitions=server,
        replicas=server,
        upsert_routes_partition_key=not server or parse_version(info.version) >= (2, 4, 0),
        gpu_indexes=server,
        routes_by_partition=info.kind == "lite",
        durable_writes=server,
        keeps_replaced_rows=info.kind == "lite",
        session_timestamps=server,
    )

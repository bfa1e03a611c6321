"""MilvusStore: the only place that talks to Milvus (through ``MilvusClient``)."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
from pymilvus import MilvusClient

from ragsilo.errors import (
    AuthenticationError,
    CapabilityError,
    CollectionNotFoundError,
    ConnectionFailedError,
    DimensionMismatchError,
    InputError,
    StoreError,
    StoreInUseError,
)
from ragsilo.models import HIT_ROW_FIELDS, Chunk, CollectionStats, ServerInfo
from ragsilo.settings import MilvusSettings
from ragsilo.store.analysis import EnglishTerms
from ragsilo.store.capabilities import capabilities_for
from ragsilo.store.errors import RetryPolicy, call_with_retry, connection_error
from ragsilo.store.indexes import IndexPlan
from ragsilo.store.rows import (
    byte_batches,
    chunk_row,
    chunk_rows,
    row_bytes,
    row_terms,
    truncate_utf8,
)
from ragsilo.store.schema import (
    MAX_LENGTHS,
    SCALAR_FIELD_NAMES,
    SPARSE_FIELD,
    TENANT_FIELD,
    TERMS_FIELD,
    VECTOR_FIELD,
    BM25Spec,
    build_index_params,
    build_schema,
    check_schema,
    has_bm25,
    has_tenant_field,
    has_terms_field,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

GRPC_MESSAGE_CAP = 64 * 1024 * 1024
# Milvus caps offset + limit of one query at 16384 rows.
QUERY_WINDOW = 16384
_LOAD_WAIT_SECONDS = 120.0
DEFAULT_OUTPUT_FIELDS = HIT_ROW_FIELDS
DEFAULT_PARTITION = "_default"
CLUSTER_PARTITION_PREFIX = "cluster_"


def cluster_partition(cluster_id: int) -> str:
    """The partition that holds cluster ``cluster_id`` when clusters are stored by partition."""
    if cluster_id < 0:
        return DEFAULT_PARTITION
    return f"{CLUSTER_PARTITION_PREFIX}{cluster_id}"


class MilvusStore:
    """A connection to one Milvus (Lite file or server), probed for its capabilities.

    Use :meth:`connect`; the constructor does no I/O. Every call that reaches
    Milvus is retried on transient errors and raises :mod:`ragsilo.errors`
    types, never pymilvus exceptions.
    """

    def __init__(self, settings: MilvusSettings, retry: RetryPolicy | None = None) -> None:
        self._settings = settings
        self._retry = retry or RetryPolicy()
        self._client: MilvusClient | None = None
        self._info: ServerInfo | None = None
        self._plans: dict[str, IndexPlan] = {}
        self._dims: dict[str, int] = {}
        self._bm25: dict[str, bool] = {}
        self._terms: dict[str, bool] = {}
        self._tenants: dict[str, bool] = {}
        self._english: EnglishTerms | None = None

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def connect(cls, settings: MilvusSettings, retry: RetryPolicy | None = None) -> MilvusStore:
        store = cls(settings, retry)
        store._open()
        return store

    def _open(self) -> None:
        s = self._settings
        kwargs: dict[str, Any] = {"uri": s.uri, "timeout": s.timeout}
        if s.is_lite:
            parent = Path(s.uri).expanduser().resolve().parent
            if not parent.is_dir():
                raise InputError(
                    f"cannot create the Milvus Lite file {s.uri!r}: "
                    f"folder {str(parent)!r} does not exist"
                )
            kwargs["uri"] = str(Path(s.uri).expanduser())
        token = s.resolved_token()
        if token:
            kwargs["token"] = token
        if s.db_name:
            kwargs["db_name"] = s.db_name
        kwargs.update(s.tls_options())
        try:
            self._client = MilvusClient(**kwargs)
            version = str(self._client.get_server_version())
        except Exception as exc:  # noqa: BLE001 - classified below
            raise self._connect_failure(exc) from None
        kind = "lite" if s.is_lite or "milvus_lite" in version else "server"
        self._info = capabilities_for(kind, version, s.display_uri)
        log.info("connected to Milvus %s %s at %s", kind, version, s.display_uri)

    def _connect_failure(self, exc: BaseException) -> Exception:
        s = self._settings
        if s.is_lite:
            holder = lite_file_holder(Path(s.uri).expanduser())
            if holder is not None:
                by = f" (process {holder})" if holder > 0 else ""
                return StoreInUseError(
                    f"the Milvus Lite file {s.uri!r} is in use by another process{by}",
                    hint="Milvus Lite lets one process open a file at a time: stop the other "
                    "process (a running `ragsilo serve` or ingest), use another file "
                    "(--uri other.db), or use a Milvus server (http://host:19530) to share "
                    "one collection between processes",
                )
            return StoreError(f"cannot open Milvus Lite file {s.uri!r}: {exc}")
        reachable = _tcp_reachable(s.uri)
        text = str(exc).lower()
        if reachable and (
            "illegal connection params" in text or "auth" in text or "credential" in text
        ):
            user = s.login_user
            if user is None:
                return AuthenticationError(
                    f"authentication failed at {s.display_uri}: the server requires a login",
                    hint="set milvus.token (user:password) or milvus.user and milvus.password",
                )
            return AuthenticationError(
                f"authentication failed for user {user!r} at {s.display_uri}",
                hint="check the user name and password (milvus.token or milvus.user/password)",
            )
        return connection_error(s.display_uri, exc)

    @property
    def info(self) -> ServerInfo:
        if self._info is None:
            raise StoreError("the store is not connected; call MilvusStore.connect()")
        return self._info

    @property
    def client(self) -> MilvusClient:
        if self._client is None:
            raise StoreError("the store is closed")
        return self._client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def _call(self, op: str, fn: Callable[..., Any]) -> Any:
        return call_with_retry(
            fn, op, self._retry, uri=self._settings.display_uri, user=self._settings.login_user
        )

    # ---------------------------------------------------------------- collections
    def list_collections(self) -> list[str]:
        return sorted(self._call("list collections", self.client.list_collections))

    def has_collection(self, name: str) -> bool:
        return bool(
            self._call(f"check collection {name!r}", lambda: self.client.has_collection(name))
        )

    def drop_collection(self, name: str) -> bool:
        """Drop ``name``; ``False`` when it did not exist."""
        if not self.has_collection(name):
            return False
        self._call(f"drop collection {name!r}", lambda: self.client.drop_collection(name))
        self._plans.pop(name, None)
        self._dims.pop(name, None)
        self._bm25.pop(name, None)
        self._terms.pop(name, None)
        self._tenants.pop(name, None)
        return True

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
    ) -> bool:
        """Create the chunk collection, or check that the existing one matches.

        With ``tenants`` a new collection gets the ``tenant`` partition key
        (hashed into ``tenant_partitions`` partitions); an existing one must
        have it exactly when ``tenants`` is set. ``replicas`` is the number of
        in-memory replicas it is loaded with when it is not loaded yet.

        With ``bm25`` and a Milvus that has the BM25 function, a new collection
        gets the analysed text and BM25 sparse field; without either it gets
        none. An existing collection is accepted with or without it. Either way
        the collection ends indexed and loaded, which is verified. Returns
        ``True`` when it was created.
        """
        created = False
        if self.has_collection(name):
            described = self.describe(name)
            check_schema(name, described, dimension, bm25, tenants=tenants)
            self._check_metric(name, plan)
            plan = self._stored_plan(name, plan)
            self._bm25[name] = has_bm25(described)
            self._terms[name] = has_terms_field(described)
            self._tenants[name] = has_tenant_field(described)
        else:
            spec = bm25 if self.info.bm25 else None
            schema = build_schema(dimension, description, spec, tenants=tenants)
            index_params = build_index_params(plan, self.info, spec)
            extra: dict[str, Any] = {"num_partitions": tenant_partitions} if tenants else {}
            self._call(
                f"create collection {name!r}",
                lambda: self.client.create_collection(
                    name,
                    schema=schema,
                    index_params=index_params,
                    consistency_level=consistency_level,
                    num_shards=shards,
                    **extra,
                ),
            )
            created = True
            self._bm25[name] = spec is not None
            self._terms[name] = spec is not None and spec.input_field == TERMS_FIELD
            self._tenants[name] = tenants
        self._plans[name] = plan
        self._dims[name] = dimension
        self.ensure_loaded(name, replicas=replicas)
        return created

    def _stored_plan(self, name: str, plan: IndexPlan) -> IndexPlan:
        """``plan``, or the plan of the index ``name`` really has when that is another type
        (after ``ragsilo index set``): searches use the parameters of the index there is."""
        from ragsilo.store.indexes import CATALOGUE

        try:
            described = self.vector_index(name)
        except StoreError:
            return plan
        kind = str(described.get("index_type", ""))
        if not kind or kind == plan.type or kind not in CATALOGUE:
            return plan
        stored = _plan_from_described(described)
        if stored is None:
            return plan
        log.info("collection %r has a %s index; searching it as such", name, kind)
        search = dict(CATALOGUE[kind].search)
        if "nprobe" in search and isinstance(stored.build.get("nlist"), int):
            search["nprobe"] = max(1, min(int(search["nprobe"]), stored.build["nlist"]))
        return IndexPlan(kind, plan.metric, stored.build, search, "the collection's index")

    def plan_of(self, name: str) -> IndexPlan | None:
        """The index plan searches of ``name`` use (``None`` before it was opened)."""
        return self._plans.get(name)

    def has_tenants(self, name: str) -> bool:
        """Whether ``name`` has the tenant partition key."""
        if name not in self._tenants:
            self._tenants[name] = has_tenant_field(self.describe(name))
        return self._tenants[name]

    def has_bm25(self, name: str) -> bool:
        """Whether collection ``name`` has the BM25 field (and so answers bm25 queries)."""
        if name not in self._bm25:
            self._bm25[name] = has_bm25(self.describe(name))
        return self._bm25[name]

    def has_terms(self, name: str) -> bool:
        """Whether ``name`` keeps ragsilo-made BM25 terms (English on Milvus Lite)."""
        if name not in self._terms:
            self._terms[name] = has_terms_field(self.describe(name))
        return self._terms[name]

    def row_fields(self, name: str) -> list[str]:
        """Every field a whole row of ``name`` is written with (the vector included)."""
        extra = [TERMS_FIELD] if self.has_terms(name) else []
        if self.has_tenants(name):
            extra.append(TENANT_FIELD)
        return [*SCALAR_FIELD_NAMES, *extra, VECTOR_FIELD]

    def bm25_terms(self, text: str) -> str:
        """``text`` as the English BM25 terms ragsilo stores in ``bm25_text``."""
        if self._english is None:
            self._english = EnglishTerms()
        return self._english(text)

    def require_bm25(self, name: str, mode: str) -> None:
        """Raise :class:`CapabilityError` unless ``name`` can answer a ``mode`` query."""
        if not self.info.bm25:
            raise CapabilityError(
                f"{mode} search needs Milvus's BM25 function, which {self.info.kind} "
                f"{self.info.version} does not have (it came in Milvus 2.5; Milvus Lite has it)",
                hint="use --mode dense, or connect to Milvus 2.5 or later",
            )
        if not self.has_bm25(name):
            raise CapabilityError(
                f"{mode} search needs a BM25 field, and collection {name!r} was created "
                "without one",
                hint="drop the collection and ingest again to add it",
            )

    def _check_metric(self, name: str, plan: IndexPlan) -> None:
        try:
            idx = self._call(
                f"describe index of {name!r}",
                lambda: self.client.describe_index(name, index_name=VECTOR_FIELD),
            )
        except StoreError:
            return  # no vector index yet: ensure_loaded will report it
        metric = (idx or {}).get("metric_type")
        if metric and metric != plan.metric:
            from ragsilo.errors import SchemaMismatchError

            raise SchemaMismatchError(
                f"collection {name!r} uses metric {metric} but index.metric is {plan.metric}",
                hint=f"set index.metric: {metric}, or use another collection.name",
            )

    def ensure_loaded(self, name: str, *, replicas: int | None = None) -> None:
        """Load ``name`` if needed (with ``replicas`` in-memory replicas, on a server) and wait
        until Milvus reports it loaded."""
        state = self._load_state(name)
        if state == "Loaded":
            return
        self._load(name, replicas)

    def _load(self, name: str, replicas: int | None) -> None:
        kwargs: dict[str, Any] = {}
        if replicas is not None and replicas != 1:
            self._require_replicas(replicas)
            kwargs["replica_number"] = replicas
        try:
            self._call(
                f"load collection {name!r}", lambda: self.client.load_collection(name, **kwargs)
            )
        except StoreError as e:
            if not kwargs or isinstance(e, (AuthenticationError, CapabilityError)):
                raise
            raise CapabilityError(
                f"cannot load collection {name!r} with {replicas} replicas: {e.message}",
                hint="a replica needs its own query node: add query nodes, or lower "
                "collection.replicas",
            ) from None
        deadline = time.monotonic() + _LOAD_WAIT_SECONDS
        state = ""
        while time.monotonic() < deadline:
            state = self._load_state(name)
            if state == "Loaded":
                return
            time.sleep(0.2)
        raise StoreError(f"collection {name!r} did not finish loading (state {state})")

    def _require_replicas(self, replicas: int) -> None:
        if self.info.kind == "lite" and replicas != 1:
            raise CapabilityError(
                f"Milvus Lite holds one in-process copy of a collection; it cannot load "
                f"{replicas} replicas",
                hint="set collection.replicas: 1, or use a Milvus cluster",
            )

    # ------------------------------------------------------------------- replicas
    def replicas(self, name: str) -> list[dict[str, Any]]:
        """The in-memory replicas of loaded collection ``name``: id, query nodes, shards."""
        if self.info.kind == "lite":
            return [{"id": 0, "nodes": ["in-process"], "shards": 1, "resource_group": ""}]
        if self._load_state(name) != "Loaded":
            return []
        res = self._call(
            f"describe replicas of {name!r}", lambda: self.client.describe_replica(name)
        )
        return [
            {
                "id": int(getattr(r, "replica_id", 0) or 0),
                "nodes": [str(n) for n in (getattr(r, "node_ids", None) or ())],
                "shards": len(getattr(r, "shards", None) or ()),
                "resource_group": str(getattr(r, "resource_group", "") or ""),
            }
            for r in res or []
        ]

    def set_replicas(self, name: str, replicas: int) -> int:
        """Load ``name`` with ``replicas`` in-memory replicas; returns the count before.

        Milvus changes the replica count of a loaded collection only by releasing
        and loading it again. When the cluster cannot host that many (not enough
        query nodes), the collection is loaded again as it was and
        :class:`CapabilityError` says so.
        """
        if replicas < 1:
            raise InputError(f"replicas must be at least 1, not {replicas}")
        self._require_replicas(replicas)
        before = len(self.replicas(name)) or 1
        if self.info.kind == "lite" or (before == replicas and self._load_state(name) == "Loaded"):
            return before
        self._call(f"release collection {name!r}", lambda: self.client.release_collection(name))
        try:
            self._load(name, replicas)
        except StoreError as e:
            with contextlib.suppress(StoreError):
                self._call(
                    f"release collection {name!r}",
                    lambda: self.client.release_collection(name),
                )
            self._load(name, before)
            raise CapabilityError(
                f"{e.message}; it is loaded again with {before}",
                hint="a replica needs its own query node: add query nodes, or ask for fewer",
            ) from None
        return before

    # --------------------------------------------------------------------- index
    def vector_index(self, name: str) -> dict[str, Any]:
        """The vector index of ``name`` as Milvus describes it (type, metric, parameters)."""
        res = self._call(
            f"describe index of {name!r}",
            lambda: self.client.describe_index(name, index_name=VECTOR_FIELD),
        )
        return dict(res or {})

    def replace_vector_index(self, name: str, plan: IndexPlan) -> None:
        """Build ``plan`` as the vector index of ``name``, keeping every row.

        Release, drop the vector index, create the new one, load again (with
        the replicas it had), and check that the row count did not change. If the
        new index cannot be built, the old one is built again before the error
        is raised.
        """
        from ragsilo.store.schema import vector_index_params

        replicas = len(self.replicas(name)) or 1
        rows = self.count(name)
        old = self.vector_index(name)
        self._call(f"release collection {name!r}", lambda: self.client.release_collection(name))
        self._call(
            f"drop the vector index of {name!r}",
            lambda: self.client.drop_index(name, index_name=VECTOR_FIELD),
        )
        try:
            self._call(
                f"build a {plan.type} index on {name!r}",
                lambda: self.client.create_index(name, vector_index_params(plan, self.info)),
            )
        except StoreError:
            restore = _plan_from_described(old)
            if restore is not None:
                self._call(
                    f"rebuild the previous index of {name!r}",
                    lambda: self.client.create_index(name, vector_index_params(restore, self.info)),
                )
            self._load(name, replicas)
            raise
        self._load(name, replicas)
        self._plans[name] = plan
        after = self.count(name)
        if after != rows:
            raise StoreError(
                f"collection {name!r} held {rows} rows before the index was rebuilt and {after} "
                "after"
            )

    def _load_state(self, name: str) -> str:
        res = self._call(f"get load state of {name!r}", lambda: self.client.get_load_state(name))
        state = res.get("state") if isinstance(res, dict) else res
        return str(getattr(state, "name", state))

    def describe(self, name: str) -> dict[str, Any]:
        return dict(
            self._call(
                f"describe collection {name!r}", lambda: self.client.describe_collection(name)
            )
        )

    def dimension_of(self, name: str) -> int:
        for f in self.describe(name).get("fields", []):
            if f["name"] == VECTOR_FIELD:
                return int(f.get("params", {}).get("dim", 0))
        raise CollectionNotFoundError(f"collection {name!r} has no vector field {VECTOR_FIELD!r}")

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
        if name not in self._dims:
            self._dims[name] = self.dimension_of(name)
        if dim != self._dims[name]:
            raise DimensionMismatchError(
                f"vectors have dimension {dim} but collection {name!r} holds {self._dims[name]}"
            )
        if tenant is not None:
            from ragsilo.store.filters import check_tenant

            check_tenant(tenant)
        if self.has_terms(name):
            if terms is None:
                if self._english is None:
                    self._english = EnglishTerms()
                terms = [row_terms(c.text, self._english) for c in chunks]
        else:
            terms = None
        rows = chunk_rows(chunks, vectors, cluster_ids, terms=terms, tenant=tenant)
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
        """Upsert (or, with ``insert``, insert) whole rows in byte-bounded batches."""
        written = 0
        op = "insert" if insert else "upsert"
        kwargs: dict[str, Any] = {"partition_name": partition} if partition else {}
        replace = not insert and self._upsert_misroutes(name)
        for batch in byte_batches(list(rows), min(batch_bytes, GRPC_MESSAGE_CAP // 2)):
            if replace:
                # delete + insert: the same rows as an upsert, each in its tenant's partition
                self.delete_ids(name, [str(r["id"]) for r in batch])
            fn = self.client.insert if insert or replace else self.client.upsert
            self._call(
                f"{op} {len(batch)} rows into {name!r}",
                lambda b=batch, f=fn: f(name, b, **kwargs),
            )
            written += len(batch)
        return written

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

    # ---------------------------------------------------------- image vectors
    def ensure_vector_collection(
        self, name: str, *, dimension: int, metric: str = "COSINE"
    ) -> None:
        """A side collection of one vector per chunk id (``id``, ``doc_id``, ``source``,
        ``vector``), created if needed and loaded; the image vectors of a silo live in one."""
        from pymilvus import DataType

        if self.has_collection(name):
            got = self.dimension_of(name)
            if got != dimension:
                raise DimensionMismatchError(
                    f"collection {name!r} holds vectors of dimension {got}, "
                    f"but the image model gives {dimension}",
                    hint=f"drop {name!r} (ragsilo collections drop {name}) and ingest again",
                )
        else:
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
            schema.add_field("source", DataType.VARCHAR, max_length=MAX_LENGTHS["source"])
            schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dimension)
            index = MilvusClient.prepare_index_params()
            index.add_index(field_name=VECTOR_FIELD, index_type="FLAT", metric_type=metric)
            self._call(
                f"create collection {name!r}",
                lambda: self.client.create_collection(
                    name, schema=schema, index_params=index, consistency_level="Strong"
                ),
            )
        self._dims[name] = dimension
        self.ensure_loaded(name)

    def rename_collection(self, old: str, new: str) -> None:
        self._call(
            f"rename collection {old!r} to {new!r}",
            lambda: self.client.rename_collection(old, new),
        )
        for cache in (self._plans, self._dims, self._bm25, self._terms, self._tenants):
            if old in cache:
                cache[new] = cache.pop(old)  # type: ignore[assignment]

    # ------------------------------------------------------------------ partitions
    def list_partitions(self, name: str) -> list[str]:
        return sorted(
            self._call(f"list partitions of {name!r}", lambda: self.client.list_partitions(name))
        )

    def ensure_partitions(self, name: str, partitions: Sequence[str]) -> list[str]:
        """Create the partitions that do not exist yet, loaded; returns those created."""
        existing = set(self.list_partitions(name))
        created = [p for p in partitions if p not in existing]
        for part in created:
            self._call(
                f"create partition {part!r} of {name!r}",
                lambda p=part: self.client.create_partition(name, p),
            )
        if created and self.info.kind == "server":
            # Milvus Lite loads the whole collection, new partitions included
            self._call(
                f"load partitions of {name!r}",
                lambda: self.client.load_partitions(name, list(created)),
            )
        return created

    def drop_partitions(self, name: str, partitions: Sequence[str]) -> int:
        """Release and drop partitions (never ``_default``); returns how many were dropped."""
        dropped = 0
        for part in partitions:
            if part == DEFAULT_PARTITION:
                continue
            if self.info.kind == "server":
                self._call(
                    f"release partition {part!r} of {name!r}",
                    lambda p=part: self.client.release_partitions(name, [p]),
                )
            self._call(
                f"drop partition {part!r} of {name!r}",
                lambda p=part: self.client.drop_partition(name, p),
            )
            dropped += 1
        return dropped

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

    def query(
        self, name: str, filter: str, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """All rows matching ``filter``.

        One plain query answers small results (a document's chunks); only when it
        comes back full does this page through a query iterator, which costs far
        more per call (about 100 ms against 5 ms on Milvus Lite).
        """
        window = QUERY_WINDOW if limit is None else min(limit, QUERY_WINDOW)
        rows = self._call(
            f"query {name!r}",
            lambda: self.client.query(
                name, filter=filter, output_fields=list(fields), limit=window
            ),
        )
        if len(rows) < window or (limit is not None and limit <= QUERY_WINDOW):
            return [dict(r) for r in rows]
        return list(self.iter_rows(name, filter, fields, limit=limit))

    def iter_rows(
        self,
        name: str,
        filter: str,
        fields: Sequence[str],
        *,
        batch_size: int = 1000,
        limit: int | None = None,
        partitions: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stream the rows matching ``filter``, with ``fields`` (the vector field included
        when asked), page by page.

        A collection with a partition per cluster is read partition by partition: a
        query iterator across hundreds of partitions pages slowly (on Milvus 2.3 about
        200 rows/s for 320 partitions, its pages shrinking to a few rows), while one
        plain query per partition answers in milliseconds.
        """
        if partitions is None and limit is None and not self.has_tenants(name):
            # (Milvus refuses partition names on a partition-key collection)
            parts = self.list_partitions(name)
            if len(parts) > 1:
                for part in parts:
                    yield from self._partition_rows(name, filter, fields, batch_size, part)
                return
        yield from self._iterate(name, filter, fields, batch_size, limit, partitions)

    def _partition_rows(
        self, name: str, filter: str, fields: Sequence[str], batch_size: int, partition: str
    ) -> Iterator[dict[str, Any]]:
        window = max(batch_size, 1)
        rows = self._call(
            f"query {name!r}",
            lambda: self.client.query(
                name,
                filter=filter,
                output_fields=list(fields),
                limit=window,
                partition_names=[partition],
            ),
        )
        if len(rows) < window:
            yield from (dict(r) for r in rows)
            return
        yield from self._iterate(name, filter, fields, batch_size, None, [partition])

    def _iterate(
        self,
        name: str,
        filter: str,
        fields: Sequence[str],
        batch_size: int,
        limit: int | None,
        partitions: Sequence[str] | None,
    ) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "batch_size": batch_size,
            "filter": filter,
            "output_fields": list(fields),
        }
        if limit is not None:
            kwargs["limit"] = limit
        if partitions:
            kwargs["partition_names"] = list(partitions)
        it = self._call(f"query {name!r}", lambda: self.client.query_iterator(name, **kwargs))
        try:
            while True:
                page = self._call(f"query {name!r}", it.next)
                if not page:
                    return
                yield from page
        finally:
            with contextlib.suppress(Exception):  # closing a finished iterator may fail
                it.close()

    def count(self, name: str, filter: str = "", partitions: Sequence[str] | None = None) -> int:
        kwargs: dict[str, Any] = {"partition_names": list(partitions)} if partitions else {}
        res = self._call(
            f"count rows of {name!r}",
            lambda: self.client.query(name, filter=filter, output_fields=["count(*)"], **kwargs),
        )
        return int(res[0]["count(*)"]) if res else 0

    def get_rows(
        self, name: str, ids: Sequence[str], fields: Sequence[str], batch: int = 1000
    ) -> list[dict[str, Any]]:
        """The stored rows with these primary keys (in no particular order)."""
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), batch):
            part = list(ids[i : i + batch])
            out.extend(
                self._call(
                    f"query {name!r}",
                    lambda p=part: self.client.query(
                        name, filter=f"id in {_id_list(p)}", output_fields=list(fields)
                    ),
                )
            )
        return out

    def search(
        self,
        name: str,
        vectors: np.ndarray,
        *,
        k: int,
        filter: str = "",
        output_fields: Sequence[str] = DEFAULT_OUTPUT_FIELDS,
        consistency_level: str | None = None,
        partitions: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Top-``k`` dense search for each query vector (in ``partitions`` only, when given)."""
        plan = self._plans.get(name)
        params = plan.search_params(k) if plan else {}
        kwargs: dict[str, Any] = {}
        if consistency_level:
            kwargs["consistency_level"] = consistency_level
        if partitions:
            kwargs["partition_names"] = list(partitions)
        data = [v.tolist() for v in np.asarray(vectors, dtype=np.float32)]
        res = self._call(
            f"search {name!r}",
            lambda: self.client.search(
                name,
                data=data,
                limit=k,
                filter=filter,
                output_fields=list(output_fields),
                search_params=params,
                anns_field=VECTOR_FIELD,
                **kwargs,
            ),
        )
        return [[_flatten_hit(h) for h in hits] for hits in res]

    def search_bm25(
        self,
        name: str,
        texts: Sequence[str],
        *,
        k: int,
        filter: str = "",
        output_fields: Sequence[str] = DEFAULT_OUTPUT_FIELDS,
        consistency_level: str | None = None,
        partitions: Sequence[str] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Top-``k`` BM25 full-text search for each query text; ``distance`` is the BM25 score.

        Raises :class:`CapabilityError` where the server or collection has no BM25.
        """
        self.require_bm25(name, "bm25")
        if self.has_terms(name):
            texts = [self.bm25_terms(t) for t in texts]
        if not all(t.strip() for t in texts):
            # nothing left to match (only stop words): no hits, as Milvus would give
            return [[] for _ in texts]
        kwargs: dict[str, Any] = {}
        if consistency_level:
            kwargs["consistency_level"] = consistency_level
        if partitions:
            kwargs["partition_names"] = list(partitions)
        res = self._call(
            f"full-text search {name!r}",
            lambda: self.client.search(
                name,
                data=list(texts),
                limit=k,
                filter=filter,
                output_fields=list(output_fields),
                search_params={"metric_type": "BM25"},
                anns_field=SPARSE_FIELD,
                **kwargs,
            ),
        )
        # Milvus reports the BM25 score; Milvus Lite reports it negated (a distance).
        out = []
        for hits in res:
            flat = [_flatten_hit(h) for h in hits]
            for h in flat:
                h["distance"] = abs(h["distance"])
            out.append(flat)
        return out

    def flush(self, name: str) -> None:
        self._call(f"flush {name!r}", lambda: self.client.flush(name))

    def stats(self, name: str) -> CollectionStats:
        if not self.has_collection(name):
            raise CollectionNotFoundError(
                f"collection {name!r} does not exist", hint="ingest something first"
            )
        self.ensure_loaded(name)  # Milvus Lite opens a collection released
        described = self.describe(name)
        dim = 0
        for f in described.get("fields", []):
            if f["name"] == VECTOR_FIELD:
                dim = int(f.get("params", {}).get("dim", 0))
        idx = (
            self._call(
                f"describe index of {name!r}",
                lambda: self.client.describe_index(name, index_name=VECTOR_FIELD),
            )
            or {}
        )
        docs = {r["doc_id"] for r in self.iter_rows(name, "", ["doc_id"])}
        return CollectionStats(
            name=name,
            rows=self.count(name),
            documents=len(docs),
            dimension=dim,
            index_type=str(idx.get("index_type", "")),
            metric_type=str(idx.get("metric_type", "")),
            consistency_level=str(
                described.get("consistency_level_name") or described.get("consistency_level", "")
            ),
            load_state=self._load_state(name),
        )


def _plan_from_described(described: dict[str, Any]) -> IndexPlan | None:
    """The plan that rebuilds an index Milvus described (``None`` when it says too little)."""
    kind = described.get("index_type")
    metric = described.get("metric_type")
    if not kind or not metric:
        return None
    skip = {
        "index_type",
        "metric_type",
        "field_name",
        "index_name",
        "total_rows",
        "indexed_rows",
        "pending_index_rows",
        "state",
        "params",
    }
    build = {k: _number(v) for k, v in described.items() if k not in skip}
    nested = described.get("params")
    if isinstance(nested, dict):
        build.update(nested)
    elif isinstance(nested, str):
        with contextlib.suppress(ValueError):
            build.update(json.loads(nested))
    return IndexPlan(str(kind), str(metric), build, {}, "the previous index")


def _number(value: Any) -> Any:
    """``'16'`` → ``16`` (Milvus describes index parameters as strings)."""
    if isinstance(value, str):
        for cast in (int, float):
            try:
                return cast(value)
            except ValueError:
                continue
    return value


def _id_list(ids: Sequence[str]) -> str:
    """A Milvus list literal of string ids, each quoted and escaped."""
    from ragsilo.store.filters import quote

    return "[" + ", ".join(quote(str(i)) for i in ids) + "]"


def _flatten_hit(hit: Any) -> dict[str, Any]:
    entity = dict(hit.get("entity") or {})
    entity["id"] = hit.get("id", entity.get("id"))
    entity["distance"] = float(hit.get("distance", 0.0))
    return entity


def _tcp_reachable(uri: str, timeout: float = 2.0) -> bool:
    parsed = urlparse(uri)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or 19530
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


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
    "row_bytes",
    "truncate_utf8",
]


def lite_file_holder(path: Path) -> int | None:
    """Whether another process holds the Milvus Lite file at ``path`` open: None when not
    (or when this cannot be told), else that process's id (0 when it cannot be found).

    Milvus Lite takes an exclusive ``flock`` on ``<file>/LOCK`` while the file is open.
    """
    lock = path / "LOCK"
    try:
        import fcntl
    except ImportError:  # Windows: Lite locks differently; say nothing rather than guess
        return None
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return _flock_owner(os.fstat(fd).st_ino)
    finally:
        os.close(fd)


def _flock_owner(inode: int) -> int:
    """The process holding an ``flock`` on the file with ``inode`` (Linux /proc/locks), or 0."""
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                # 1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].endswith(f":{inode}"):
                    return int(parts[4])
    except (OSError, ValueError):
        pass
    return 0

"""MilvusStore: the only place that talks to Milvus (through ``MilvusClient``)."""

from __future__ import annotations

import json
import logging
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
    CollectionNotFoundError,
    ConnectionFailedError,
    DimensionMismatchError,
    InputError,
    StoreError,
)
from ragsilo.models import Chunk, CollectionStats, ServerInfo
from ragsilo.settings import MilvusSettings
from ragsilo.store.capabilities import capabilities_for
from ragsilo.store.errors import RetryPolicy, call_with_retry, connection_error
from ragsilo.store.indexes import IndexPlan
from ragsilo.store.schema import (
    MAX_LENGTHS,
    SCALAR_FIELD_NAMES,
    VECTOR_FIELD,
    build_index_params,
    build_schema,
    check_schema,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

GRPC_MESSAGE_CAP = 64 * 1024 * 1024
_LOAD_WAIT_SECONDS = 120.0
DEFAULT_OUTPUT_FIELDS = (
    "doc_id",
    "source",
    "title",
    "page",
    "section",
    "chunk_index",
    "text",
    "metadata",
    "mime_type",
)


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
                    f"cannot create the Milvus Lite file {s.uri!r}: folder {str(parent)!r} does not exist"
                )
            kwargs["uri"] = str(Path(s.uri).expanduser())
        token = s.resolved_token()
        if token:
            kwargs["token"] = token
        if s.db_name:
            kwargs["db_name"] = s.db_name
        try:
            self._client = MilvusClient(**kwargs)
            version = str(self._client.get_server_version())
        except Exception as exc:  # noqa: BLE001 - classified below
            raise self._connect_failure(exc) from None
        kind = "lite" if s.is_lite or "milvus_lite" in version else "server"
        self._info = capabilities_for(kind, version, s.uri)
        log.info("connected to Milvus %s %s at %s", kind, version, s.uri)

    def _connect_failure(self, exc: BaseException) -> Exception:
        s = self._settings
        if s.is_lite:
            return StoreError(f"cannot open Milvus Lite file {s.uri!r}: {exc}")
        reachable = _tcp_reachable(s.uri)
        text = str(exc).lower()
        if reachable and (
            "illegal connection params" in text or "auth" in text or "credential" in text
        ):
            user = s.login_user
            if user is None:
                return AuthenticationError(
                    f"authentication failed at {s.uri}: the server requires a login",
                    hint="set milvus.token (user:password) or milvus.user and milvus.password",
                )
            return AuthenticationError(
                f"authentication failed for user {user!r} at {s.uri}",
                hint="check the user name and password (milvus.token or milvus.user/password)",
            )
        return connection_error(s.uri, exc)

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

    def _call(self, op: str, fn: Callable[[], T]) -> T:
        return call_with_retry(
            fn, op, self._retry, uri=self._settings.uri, user=self._settings.login_user
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
    ) -> bool:
        """Create the chunk collection, or check that the existing one matches.

        Either way the collection ends indexed and loaded, which is verified.
        Returns ``True`` when it was created.
        """
        created = False
        if self.has_collection(name):
            described = self.describe(name)
            check_schema(name, described, dimension)
            self._check_metric(name, plan)
        else:
            schema = build_schema(dimension, description)
            index_params = build_index_params(plan, self.info)
            self._call(
                f"create collection {name!r}",
                lambda: self.client.create_collection(
                    name,
                    schema=schema,
                    index_params=index_params,
                    consistency_level=consistency_level,
                    num_shards=shards,
                ),
            )
            created = True
        self._plans[name] = plan
        self._dims[name] = dimension
        self.ensure_loaded(name)
        return created

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

    def ensure_loaded(self, name: str) -> None:
        """Load ``name`` if needed and wait until Milvus reports it loaded."""
        state = self._load_state(name)
        if state == "Loaded":
            return
        self._call(f"load collection {name!r}", lambda: self.client.load_collection(name))
        deadline = time.monotonic() + _LOAD_WAIT_SECONDS
        while time.monotonic() < deadline:
            state = self._load_state(name)
            if state == "Loaded":
                return
            time.sleep(0.2)
        raise StoreError(f"collection {name!r} did not finish loading (state {state})")

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
        self, name: str, chunks: Sequence[Chunk], vectors: np.ndarray, *, batch_bytes: int
    ) -> int:
        """Upsert chunks with their vectors in batches of at most ``batch_bytes``."""
        if len(chunks) != len(vectors):
            raise InputError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if len(chunks) == 0:
            return 0
        dim = int(vectors.shape[1])
        if name not in self._dims:
            self._dims[name] = self.dimension_of(name)
        if dim != self._dims[name]:
            raise DimensionMismatchError(
                f"vectors have dimension {dim} but collection {name!r} holds {self._dims[name]}"
            )
        rows = [chunk_row(c, v) for c, v in zip(chunks, vectors, strict=True)]
        written = 0
        for batch in byte_batches(rows, min(batch_bytes, GRPC_MESSAGE_CAP // 2)):
            self._call(
                f"upsert {len(batch)} rows into {name!r}",
                lambda b=batch: self.client.upsert(name, b),
            )
            written += len(batch)
        return written

    def delete_ids(self, name: str, ids: Sequence[str], batch: int = 1000) -> int:
        """Delete rows by primary key; returns how many ids were asked to go."""
        total = 0
        for i in range(0, len(ids), batch):
            part = list(ids[i : i + batch])
            self._call(
                f"delete {len(part)} rows from {name!r}",
                lambda p=part: self.client.delete(name, ids=p),
            )
            total += len(part)
        return total

    def query(
        self, name: str, filter: str, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """All rows matching ``filter`` (paged through a query iterator)."""
        return list(self.iter_rows(name, filter, fields, limit=limit))

    def iter_rows(
        self,
        name: str,
        filter: str,
        fields: Sequence[str],
        *,
        batch_size: int = 1000,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "batch_size": batch_size,
            "filter": filter,
            "output_fields": list(fields),
        }
        if limit is not None:
            kwargs["limit"] = limit
        it = self._call(f"query {name!r}", lambda: self.client.query_iterator(name, **kwargs))
        try:
            while True:
                page = self._call(f"query {name!r}", it.next)
                if not page:
                    return
                yield from page
        finally:
            try:
                it.close()
            except Exception:  # noqa: BLE001 - closing a finished iterator may fail harmlessly
                pass

    def count(self, name: str, filter: str = "") -> int:
        res = self._call(
            f"count rows of {name!r}",
            lambda: self.client.query(name, filter=filter, output_fields=["count(*)"]),
        )
        return int(res[0]["count(*)"]) if res else 0

    def search(
        self,
        name: str,
        vectors: np.ndarray,
        *,
        k: int,
        filter: str = "",
        output_fields: Sequence[str] = DEFAULT_OUTPUT_FIELDS,
        consistency_level: str | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Top-``k`` dense search for each query vector."""
        plan = self._plans.get(name)
        params = plan.search_params(k) if plan else {}
        kwargs: dict[str, Any] = {}
        if consistency_level:
            kwargs["consistency_level"] = consistency_level
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

    def flush(self, name: str) -> None:
        self._call(f"flush {name!r}", lambda: self.client.flush(name))

    def stats(self, name: str) -> CollectionStats:
        if not self.has_collection(name):
            raise CollectionNotFoundError(
                f"collection {name!r} does not exist", hint="ingest something first"
            )
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


def chunk_row(chunk: Chunk, vector: np.ndarray) -> dict[str, Any]:
    """The Milvus row for one chunk, with VARCHAR values cut to their byte limits."""
    row: dict[str, Any] = {
        "id": chunk.id,
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "file_sha256": chunk.file_sha256,
        "mime_type": chunk.mime_type,
        "title": chunk.title,
        "page": int(chunk.page or 0),
        "section": chunk.section or "",
        "chunk_index": int(chunk.chunk_index),
        "doc_chunks": int(chunk.doc_chunks),
        "text": chunk.text,
        "metadata": chunk.metadata or {},
        VECTOR_FIELD: np.asarray(vector, dtype=np.float32).tolist(),
    }
    for field, limit in MAX_LENGTHS.items():
        value = row[field]
        if len(value) * 4 > limit:  # only measure bytes when it could be over
            row[field] = truncate_utf8(value, limit)
    return row


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def row_bytes(row: dict[str, Any]) -> int:
    """A close upper estimate of a row's size on the wire."""
    size = 64
    for key, value in row.items():
        if key == VECTOR_FIELD:
            size += 4 * len(value) + 16
        elif isinstance(value, str):
            size += len(value.encode("utf-8")) + 8
        elif isinstance(value, dict):
            size += len(json.dumps(value, ensure_ascii=False).encode("utf-8")) + 8
        else:
            size += 8
    return size


def byte_batches(rows: list[dict[str, Any]], max_bytes: int) -> Iterator[list[dict[str, Any]]]:
    """Split rows into consecutive batches whose estimated size stays under ``max_bytes``."""
    batch: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        n = row_bytes(row)
        if batch and size + n > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += n
    if batch:
        yield batch


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
    "DEFAULT_OUTPUT_FIELDS",
    "SCALAR_FIELD_NAMES",
    "ConnectionFailedError",
    "MilvusStore",
    "byte_batches",
    "chunk_row",
    "row_bytes",
    "truncate_utf8",
]

"""InMemoryStore: a :class:`~ragsilo.store.protocol.VectorStore` held in process memory.

Dense search is exact (numpy, brute force) with the collection's metric:
COSINE and IP give the similarity (larger is closer), L2 the squared distance
(smaller is closer), as Milvus reports them. Filters are evaluated over the
rows with the subset of Milvus's expression language ragsilo writes and users
pass: ``== != < <= > >=``, ``in`` / ``not in`` lists, ``like`` (``%`` and
``_``), ``and`` / ``or`` / ``not`` (also ``&& || !``), parentheses, and
``metadata["key"]`` on the JSON field. A filter it cannot parse, or one on a
field the collection does not have, raises :class:`FilterError`.

It has no BM25: ``info.bm25`` is false and BM25 searches raise the same
:class:`CapabilityError` as a Milvus without the BM25 function. Each instance
is its own empty "server"; nothing is persisted. Like Milvus, a primary key is
unique per partition (an upsert replaces the row of that id in the partition it
writes to); unlike Milvus, an insert of a stored id replaces it too, and a collection
with tenants keeps every tenant's rows in ``_default`` (tenant filters still apply).
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragsilo.errors import (
    CapabilityError,
    CollectionNotFoundError,
    DimensionMismatchError,
    FilterError,
    InputError,
    SchemaMismatchError,
    StoreError,
)
from ragsilo.models import HIT_ROW_FIELDS, Chunk, CollectionStats, ServerInfo
from ragsilo.store.capabilities import LITE_INDEX_TYPES, Capabilities, capabilities_of
from ragsilo.store.filters import INT_FIELDS, JSON_FIELD, check_tenant
from ragsilo.store.indexes import IndexPlan
from ragsilo.store.milvus import chunk_row
from ragsilo.store.schema import (
    CENTROID_FIELDS,
    DEFAULT_PARTITION,
    SCALAR_FIELD_NAMES,
    TENANT_FIELD,
    UNASSIGNED,
    VECTOR_FIELD,
    BM25Spec,
    cluster_partition,
)

#: The most rows one search may ask for (Milvus's limit).
MAX_TOP_K = 16384
MEMORY_VERSION = "in-memory"
DEFAULT_OUTPUT_FIELDS = HIT_ROW_FIELDS


def memory_info(uri: str = "memory://") -> ServerInfo:
    """What an :class:`InMemoryStore` can do: exact dense search on the index types
    Milvus Lite has, no BM25, no hybrid search, no RBAC."""
    return ServerInfo(
        kind="memory",
        version=MEMORY_VERSION,
        uri=uri,
        bm25=False,
        sparse=False,
        hybrid_search=False,
        rbac=False,
        inverted_index=True,
        index_types=LITE_INDEX_TYPES,
    )


@dataclass
class _Collection:
    """One collection: its schema facts and its rows, partition by partition."""

    dimension: int
    plan: IndexPlan
    fields: dict[str, str]  # field name -> "str", "int", "json" or "vector"
    consistency_level: str
    tenants: bool = False
    primary: str = "id"
    partitions: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {DEFAULT_PARTITION: {}}
    )

    def rows(self, partitions: Sequence[str] | None = None) -> list[dict[str, Any]]:
        if partitions:
            missing = [p for p in partitions if p not in self.partitions]
            if missing:
                raise StoreError(f"partition {missing[0]!r} does not exist")
            names = list(dict.fromkeys(partitions))
        else:
            names = list(self.partitions)
        return [row for p in names for row in self.partitions[p].values()]


def _chunk_fields(tenants: bool) -> dict[str, str]:
    out = {
        name: "int" if name in INT_FIELDS else "json" if name == JSON_FIELD else "str"
        for name in SCALAR_FIELD_NAMES
    }
    if tenants:
        out[TENANT_FIELD] = "str"
    out[VECTOR_FIELD] = "vector"
    return out


class InMemoryStore:
    """A vector store in process memory, for tests of the code above the store.

    It implements :class:`~ragsilo.store.protocol.VectorStore`; every method
    raises :mod:`ragsilo.errors` types as :class:`~ragsilo.store.MilvusStore`
    does.
    """

    def __init__(self, uri: str = "memory://") -> None:
        self._info = memory_info(uri)
        self._caps = capabilities_of(self._info)
        self._collections: dict[str, _Collection] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._english: Any = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def info(self) -> ServerInfo:
        return self._info

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    def close(self) -> None:
        self._closed = True

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Holds the store's lock: other threads' writes and lookups wait."""
        with self._lock:
            yield

    def _coll(self, name: str) -> _Collection:
        if self._closed:
            raise StoreError("the store is closed")
        coll = self._collections.get(name)
        if coll is None:
            raise CollectionNotFoundError(
                f"collection {name!r} does not exist", hint="ingest something first"
            )
        return coll

    # ---------------------------------------------------------------- collections
    def list_collections(self) -> list[str]:
        return sorted(self._collections)

    def has_collection(self, name: str) -> bool:
        return name in self._collections

    def drop_collection(self, name: str) -> bool:
        with self._lock:
            return self._collections.pop(name, None) is not None

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
        """Create the collection, or check that the stored one has this dimension,
        metric and tenant setting. ``bm25`` and ``codes`` are accepted and ignored (no
        BM25 here, and the vectors are at hand)."""
        if dimension < 1:
            raise InputError(f"the vector dimension must be at least 1, not {dimension}")
        self._require_replicas(replicas)
        with self._lock:
            coll = self._collections.get(name)
            if coll is not None:
                problems = []
                if coll.dimension != dimension:
                    problems.append(
                        f"vector dimension is {coll.dimension} but the embedding model "
                        f"gives {dimension}"
                    )
                if tenants and not coll.tenants:
                    problems.append(
                        "collection.tenants is on but the collection has no tenant field "
                        "(it is fixed when the collection is created)"
                    )
                elif coll.tenants and not tenants:
                    problems.append(
                        "the collection holds tenants; set collection.tenants: true to use it"
                    )
                if problems:
                    raise SchemaMismatchError(
                        f"collection {name!r} does not match the settings: " + "; ".join(problems),
                        hint="use another collection.name, or drop this collection and ingest "
                        "again",
                    )
                if coll.plan.metric != plan.metric:
                    raise SchemaMismatchError(
                        f"collection {name!r} uses metric {coll.plan.metric} but index.metric "
                        f"is {plan.metric}",
                        hint=f"set index.metric: {coll.plan.metric}, or use another "
                        "collection.name",
                    )
                return False
            self._collections[name] = _Collection(
                dimension=dimension,
                plan=plan,
                fields=_chunk_fields(tenants),
                consistency_level=consistency_level,
                tenants=tenants,
            )
            return True

    def ensure_vector_collection(
        self, name: str, *, dimension: int, metric: str = "COSINE"
    ) -> None:
        with self._lock:
            coll = self._collections.get(name)
            if coll is not None:
                if coll.dimension != dimension:
                    raise DimensionMismatchError(
                        f"collection {name!r} holds vectors of dimension {coll.dimension}, "
                        f"but the image model gives {dimension}",
                        hint=f"drop {name!r} (ragsilo collections drop {name}) and ingest again",
                    )
                return
            plan = IndexPlan("FLAT", metric, {}, {}, "a side collection of vectors")
            fields = {"id": "str", "doc_id": "str", "source": "str", VECTOR_FIELD: "vector"}
            self._collections[name] = _Collection(dimension, plan, fields, "Strong")

    def ensure_centroid_collection(self, name: str, *, dimension: int, metric: str) -> bool:
        """One row per cluster, keyed by ``cluster_id``; another dimension is created anew."""
        with self._lock:
            coll = self._collections.get(name)
            if coll is not None and coll.dimension == dimension:
                return False
            plan = IndexPlan("FLAT", metric, {}, {}, "a collection of cluster centroids")
            kinds = {"cluster_id": "int", "size": "int", "detail": "json", "info": "json"}
            fields = {f: kinds.get(f, "vector") for f in CENTROID_FIELDS}
            self._collections[name] = _Collection(
                dimension, plan, fields, "Strong", primary="cluster_id"
            )
            return True

    def ensure_loaded(self, name: str, *, replicas: int | None = None) -> None:
        self._coll(name)
        if replicas is not None:
            self._require_replicas(replicas)

    def _require_replicas(self, replicas: int) -> None:
        if replicas != 1:
            raise CapabilityError(
                f"the in-memory store holds one copy of a collection; it cannot load "
                f"{replicas} replicas",
                hint="set collection.replicas: 1, or use a Milvus cluster",
            )

    def _load_state(self, name: str) -> str:
        self._coll(name)
        return "Loaded"

    def rename_collection(self, old: str, new: str) -> None:
        with self._lock:
            coll = self._coll(old)
            if new in self._collections:
                raise StoreError(f"cannot rename {old!r} to {new!r}: {new!r} exists already")
            self._collections[new] = coll
            del self._collections[old]

    def stats(self, name: str) -> CollectionStats:
        coll = self._coll(name)
        rows = coll.rows()
        return CollectionStats(
            name=name,
            rows=len(rows),
            documents=len({r.get("doc_id") for r in rows}),
            dimension=coll.dimension,
            index_type=coll.plan.type,
            metric_type=coll.plan.metric,
            consistency_level=coll.consistency_level,
            load_state="Loaded",
        )

    def dimension_of(self, name: str) -> int:
        return self._coll(name).dimension

    def plan_of(self, name: str) -> IndexPlan | None:
        coll = self._collections.get(name)
        return coll.plan if coll is not None else None

    def has_bm25(self, name: str) -> bool:
        self._coll(name)
        return False

    def has_terms(self, name: str) -> bool:
        self._coll(name)
        return False

    def has_tenants(self, name: str) -> bool:
        return self._coll(name).tenants

    def has_codes(self, name: str) -> bool:
        self._coll(name)
        return False

    def candidate_vector_field(self, name: str) -> str:
        self._coll(name)
        return VECTOR_FIELD

    def require_bm25(self, name: str, mode: str) -> None:
        raise CapabilityError(
            f"{mode} search needs Milvus's BM25 function, which the in-memory store does not "
            "have (it came in Milvus 2.5; Milvus Lite has it)",
            hint="use --mode dense, or connect to Milvus Lite or Milvus 2.5 or later",
        )

    def bm25_terms(self, text: str) -> str:
        if self._english is None:
            from ragsilo.store.analysis import EnglishTerms

            self._english = EnglishTerms()
        return str(self._english(text))

    def row_fields(self, name: str) -> list[str]:
        return list(self._coll(name).fields)

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
        terms: Sequence[str] | None = None,  # no BM25 here: the terms are not kept
        new: bool = False,  # an upsert costs the same as an insert here
    ) -> int:
        if len(chunks) != len(vectors):
            raise InputError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if cluster_ids is not None and len(cluster_ids) != len(chunks):
            raise InputError(f"{len(chunks)} chunks but {len(cluster_ids)} cluster ids")
        if len(chunks) == 0:
            return 0
        coll = self._coll(name)
        if coll.tenants and tenant is None:
            raise InputError(f"collection {name!r} holds tenants: name the tenant to write to")
        if not coll.tenants and tenant is not None:
            raise InputError(
                f"collection {name!r} has no tenants",
                hint="set collection.tenants: true for a new collection",
            )
        vectors = np.asarray(vectors)
        dim = int(vectors.shape[1])
        if dim != coll.dimension:
            raise DimensionMismatchError(
                f"vectors have dimension {dim} but collection {name!r} holds {coll.dimension}"
            )
        ids = [UNASSIGNED] * len(chunks) if cluster_ids is None else [int(c) for c in cluster_ids]
        rows = [chunk_row(c, v, cid) for c, v, cid in zip(chunks, vectors, ids, strict=True)]
        if tenant is not None:
            check_tenant(tenant)
            for row in rows:
                row[TENANT_FIELD] = tenant
        if partitioned:
            return self.place_rows(name, rows, batch_bytes=batch_bytes)
        return self.write_rows(name, rows, batch_bytes=batch_bytes)

    def write_rows(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        batch_bytes: int = 0,
        partition: str | None = None,
        insert: bool = False,
    ) -> int:
        """Upsert (or insert) whole rows; ``batch_bytes`` is accepted for the seam."""
        coll = self._coll(name)
        part = partition or DEFAULT_PARTITION
        checked = [self._checked_row(name, coll, r) for r in rows]
        with self._lock:
            if part not in coll.partitions:
                raise StoreError(f"partition {part!r} of {name!r} does not exist")
            target = coll.partitions[part]
            for row in checked:
                target[str(row[coll.primary])] = row
        return len(checked)

    def _checked_row(self, name: str, coll: _Collection, row: dict[str, Any]) -> dict[str, Any]:
        missing = [f for f in coll.fields if f not in row]
        if missing:
            raise InputError(f"a row for {name!r} has no {', '.join(map(repr, missing))}")
        extra = sorted(set(row) - set(coll.fields))
        if extra:
            raise InputError(f"collection {name!r} has no field {extra[0]!r}")
        vector = np.asarray(row[VECTOR_FIELD], dtype=np.float32)
        if vector.shape != (coll.dimension,):
            raise DimensionMismatchError(
                f"a vector has dimension {vector.shape[-1] if vector.ndim else 0} but "
                f"collection {name!r} holds {coll.dimension}"
            )
        out = copy.deepcopy({k: v for k, v in row.items() if k != VECTOR_FIELD})
        out[VECTOR_FIELD] = vector.tolist()
        return out

    def place_rows(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        *,
        batch_bytes: int = 0,
    ) -> int:
        """Upsert rows into the partitions of their clusters; an id stored already keeps
        its cluster id and partition (as :meth:`MilvusStore.place_rows`)."""
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
        return sum(
            self.write_rows(name, part_rows, partition=part)
            for part, part_rows in sorted(by_partition.items())
        )

    def list_partitions(self, name: str) -> list[str]:
        return sorted(self._coll(name).partitions)

    def ensure_partitions(self, name: str, partitions: Sequence[str]) -> list[str]:
        coll = self._coll(name)
        with self._lock:
            created = [p for p in dict.fromkeys(partitions) if p not in coll.partitions]
            for part in created:
                coll.partitions[part] = {}
        return created

    def drop_partitions(self, name: str, partitions: Sequence[str]) -> int:
        coll = self._coll(name)
        with self._lock:
            gone = [p for p in partitions if p != DEFAULT_PARTITION and p in coll.partitions]
            for part in gone:
                del coll.partitions[part]
        return len(gone)

    def delete_ids(
        self, name: str, ids: Sequence[str], batch: int = 1000, *, partition: str | None = None
    ) -> int:
        """Delete rows by primary key (in one partition, or all); returns how many ids were
        asked to go."""
        coll = self._coll(name)
        with self._lock:
            parts = [partition] if partition else list(coll.partitions)
            for part in parts:
                rows = coll.partitions.get(part, {})
                for i in ids:
                    rows.pop(str(i), None)
        return len(ids)

    def delete_where(self, name: str, filter: str) -> None:
        if not filter.strip():
            raise InputError("delete_where needs a filter; drop the collection to empty it")
        coll = self._coll(name)
        test = compile_filter(filter, coll.fields)
        with self._lock:
            for rows in coll.partitions.values():
                for key in [k for k, row in rows.items() if test(row)]:
                    del rows[key]

    def flush(self, name: str) -> None:
        self._coll(name)

    def commit(self, name: str) -> None:
        self._coll(name)

    def count(self, name: str, filter: str = "", partitions: Sequence[str] | None = None) -> int:
        return sum(1 for _ in self._matching(name, filter, partitions))

    def query(
        self, name: str, filter: str, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
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
        coll = self._coll(name)
        wanted = self._output_fields(name, coll, fields)
        rows = self._matching(name, filter, partitions)
        if limit is not None:
            rows = rows[: max(limit, 0)]
        return iter([_project(r, wanted) for r in rows])

    def get_rows(
        self, name: str, ids: Sequence[str], fields: Sequence[str], batch: int = 1000
    ) -> list[dict[str, Any]]:
        coll = self._coll(name)
        wanted = self._output_fields(name, coll, fields)
        keys = {str(i) for i in ids}
        return [_project(r, wanted) for r in coll.rows() if str(r[coll.primary]) in keys]

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
        """Exact top-``k`` for each query vector, in ``partitions`` only when given."""
        coll = self._coll(name)
        if not 1 <= k <= MAX_TOP_K:
            raise InputError(f"k must be between 1 and {MAX_TOP_K}, not {k}")
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.shape[1] != coll.dimension:
            raise DimensionMismatchError(
                f"query vectors have dimension {queries.shape[1]} but collection {name!r} "
                f"holds {coll.dimension}"
            )
        wanted = self._output_fields(name, coll, output_fields)
        rows = self._matching(name, filter, partitions)
        if not rows:
            return [[] for _ in range(len(queries))]
        matrix = np.asarray([r[VECTOR_FIELD] for r in rows], dtype=np.float32)
        scores, larger_is_closer = _scores(coll.plan.metric, queries, matrix)
        out: list[list[dict[str, Any]]] = []
        for row_scores in scores:
            order = np.argsort(-row_scores if larger_is_closer else row_scores, kind="stable")
            out.append(
                [{**_project(rows[i], wanted), "distance": float(row_scores[i])} for i in order[:k]]
            )
        return out

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
        """Always :class:`CapabilityError`: the in-memory store has no BM25."""
        self._coll(name)
        self.require_bm25(name, "bm25")
        return []  # pragma: no cover - require_bm25 raises

    # ------------------------------------------------------------------ internals
    def _matching(
        self, name: str, filter: str, partitions: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        coll = self._coll(name)
        test = compile_filter(filter, coll.fields)
        with self._lock:
            rows = coll.rows(partitions)
        return [r for r in rows if test(r)]

    @staticmethod
    def _output_fields(name: str, coll: _Collection, fields: Sequence[str]) -> list[str]:
        unknown = [f for f in fields if f not in coll.fields]
        if unknown:
            raise InputError(f"collection {name!r} has no field {unknown[0]!r}")
        return list(dict.fromkeys([coll.primary, *fields]))


def _project(row: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: copy.deepcopy(row[f]) for f in fields}


def _scores(metric: str, queries: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, bool]:
    """Scores of every row for every query, and whether a larger score is closer."""
    if metric == "COSINE":
        q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        m = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return q @ m.T, True
    if metric == "IP":
        return queries @ matrix.T, True
    if metric == "L2":
        d = (queries**2).sum(1)[:, None] - 2 * queries @ matrix.T + (matrix**2).sum(1)[None, :]
        return np.maximum(d, 0.0), False
    raise CapabilityError(
        f"the in-memory store searches with COSINE, IP or L2, not {metric}",
        hint="set index.metric to COSINE, IP or L2",
    )


# ---------------------------------------------------------------------- filters
Predicate = Callable[[dict[str, Any]], bool]
_MISSING = object()

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<op>==|!=|<=|>=|&&|\|\||[<>()\[\],!])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "like", "true", "false"}


def _tokenize(expr: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(expr, pos)
        if m is None or m.end() == pos:
            raise FilterError(
                f"the filter expression is invalid: cannot read {expr[pos:].strip()[:20]!r}",
                hint='use ==, !=, <, <=, >, >=, in [...], like "...", and, or, not',
            )
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "str":
            tokens.append(("lit", _unquote(text)))
        elif kind == "num":
            tokens.append(("lit", float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "name" and text.lower() in _KEYWORDS:
            low = text.lower()
            if low in ("true", "false"):
                tokens.append(("lit", low == "true"))
            else:
                tokens.append(("op", low))
        elif kind == "op":
            tokens.append(("op", {"&&": "and", "||": "or", "!": "not"}.get(text, text)))
        else:
            tokens.append((kind, text))
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: m.group(1), body)


class _Parser:
    """Recursive descent over the tokens; builds a predicate over one row."""

    def __init__(self, expr: str, fields: dict[str, str]) -> None:
        self.expr = expr
        self.fields = fields
        self.tokens = _tokenize(expr)
        self.pos = 0

    def fail(self, why: str) -> FilterError:
        return FilterError(
            f"the filter expression is invalid: {why} in {self.expr!r}",
            hint='use ==, !=, <, <=, >, >=, in [...], like "...", and, or, not',
        )

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == kind and (value is None or tok[1] == value):
            self.pos += 1
            return True
        return False

    def expect(self, kind: str, value: Any, what: str) -> None:
        if not self.take(kind, value):
            raise self.fail(f"expected {what}")

    def parse(self) -> Predicate:
        pred = self.or_()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def or_(self) -> Predicate:
        parts = [self.and_()]
        while self.take("op", "or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_(self) -> Predicate:
        parts = [self.not_()]
        while self.take("op", "and"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def not_(self) -> Predicate:
        if self.take("op", "not"):
            inner = self.not_()
            return lambda r: not inner(r)
        if self.take("op", "("):
            inner = self.or_()
            self.expect("op", ")", "')'")
            return inner
        return self.comparison()

    def operand(self) -> tuple[str, Any]:
        """``("field", (name, key | None, type))`` or ``("lit", value)``."""
        tok = self.peek()
        if tok is None:
            raise self.fail("the expression ends early")
        if tok[0] == "lit":
            self.pos += 1
            return tok
        if tok[0] != "name":
            raise self.fail(f"expected a field or a value, not {tok[1]!r}")
        self.pos += 1
        name = tok[1]
        kind = self.fields.get(name)
        if kind is None or kind == "vector":
            known = ", ".join(f for f, k in self.fields.items() if k != "vector")
            raise FilterError(
                f"the filter expression is invalid: field {name!r} does not exist",
                hint=f"filterable fields are: {known}",
            )
        key = None
        if self.take("op", "["):
            lit = self.peek()
            if kind != "json" or lit is None or lit[0] != "lit" or not isinstance(lit[1], str):
                raise self.fail(f"{name}[...] needs a JSON field and a quoted key")
            self.pos += 1
            key = lit[1]
            self.expect("op", "]", "']'")
        elif kind == "json":
            raise self.fail(f'compare a key of {name}, as {name}["key"]')
        return ("field", (name, key, "any" if key is not None else kind))

    def literal_list(self) -> list[Any]:
        self.expect("op", "[", "'[' after in")
        values: list[Any] = []
        if self.take("op", "]"):
            return values
        while True:
            tok = self.peek()
            if tok is None or tok[0] != "lit":
                raise self.fail("expected a value in the list")
            self.pos += 1
            values.append(tok[1])
            if self.take("op", "]"):
                return values
            self.expect("op", ",", "',' or ']'")

    def comparison(self) -> Predicate:
        left = self.operand()
        tok = self.peek()
        if tok is None or tok[0] != "op":
            raise self.fail("expected a comparison")
        self.pos += 1
        op = tok[1]
        if op == "not":
            self.expect("op", "in", "'in' after not")
            op = "not in"
        if op in ("in", "not in"):
            values = self.literal_list()
            if left[0] != "field":
                raise self.fail("in needs a field on its left")
            for v in values:
                self._check_type(left, v)
            getter = _getter(left)
            if op == "in":
                return lambda r: _in(getter(r), values)
            return lambda r: (v := getter(r)) is not _MISSING and not _in(v, values)
        if op == "like":
            pattern = self.peek()
            if pattern is None or pattern[0] != "lit" or not isinstance(pattern[1], str):
                raise self.fail("like needs a quoted pattern")
            self.pos += 1
            if left[0] != "field":
                raise self.fail("like needs a field on its left")
            self._check_type(left, pattern[1])
            regex = re.compile(_like_regex(pattern[1]), re.DOTALL)
            getter = _getter(left)
            return lambda r: isinstance(v := getter(r), str) and regex.fullmatch(v) is not None
        if op not in ("==", "!=", "<", "<=", ">", ">="):
            raise self.fail(f"{op!r} is not a comparison")
        right = self.operand()
        if left[0] == "field" and right[0] == "lit":
            self._check_type(left, right[1])
        if right[0] == "field" and left[0] == "lit":
            self._check_type(right, left[1])
        lget, rget = _getter(left), _getter(right)
        return lambda r: _compare(op, lget(r), rget(r))

    def _check_type(self, operand: tuple[str, Any], value: Any) -> None:
        kind = operand[1][2]
        if kind == "str" and not isinstance(value, str):
            raise self.fail(f"field {operand[1][0]!r} holds text; quote the value")
        if kind == "int" and (isinstance(value, (str, bool))):
            raise self.fail(f"field {operand[1][0]!r} holds numbers; do not quote the value")


def _getter(operand: tuple[str, Any]) -> Callable[[dict[str, Any]], Any]:
    if operand[0] == "lit":
        value = operand[1]
        return lambda r: value
    name, key, _ = operand[1]
    if key is None:
        return lambda r: r.get(name, _MISSING)

    def json_value(r: dict[str, Any]) -> Any:
        doc = r.get(name)
        return doc.get(key, _MISSING) if isinstance(doc, dict) else _MISSING

    return json_value


def _same_kind(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return True
    return isinstance(a, str) and isinstance(b, str)


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING or a is None or b is None or not _same_kind(a, b):
        return False
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _in(value: Any, values: list[Any]) -> bool:
    return any(_compare("==", value, v) for v in values)


def _like_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "".join(out)


def compile_filter(expr: str, fields: dict[str, str]) -> Predicate:
    """A predicate over rows for a Milvus filter expression (empty: every row); fields maps
    each field name to ``"str"``, ``"int"``, ``"json"`` or ``"vector"``."""
    if not expr or not expr.strip():
        return lambda r: True
    return _Parser(expr, fields).parse()


__all__ = ["MEMORY_VERSION", "InMemoryStore", "compile_filter", "memory_info"]

"""Reading a Milvus collection: counts, queries, row streams and dense and BM25 searches."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from pymilvus import DataType

from ragsilo.models import HIT_ROW_FIELDS
from ragsilo.store.catalog import MilvusCatalog
from ragsilo.store.codes import decode_codes
from ragsilo.store.schema import CODE_FIELD, SPARSE_FIELD, VECTOR_FIELD

# Milvus caps offset + limit of one query at 16384 rows.
QUERY_WINDOW = 16384
_ITERATOR_LOG = "pymilvus.client.iterator.query_iterator"
DEFAULT_OUTPUT_FIELDS = HIT_ROW_FIELDS


class MilvusReads(MilvusCatalog):
    """Counts, queries and searches; a search uses the collection's index plan
    (:meth:`plan_of`) and BM25 terms where the collection keeps them."""

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
                        name, filter=f"id in {id_list(p)}", output_fields=list(fields)
                    ),
                )
            )
        return out

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
        with _no_timestamp_notice(not self.capabilities.session_timestamps):
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
        plan = self.plan_of(name)
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
        return self._decode_codes(name, flatten_result(res), output_fields)

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
        out = self._decode_codes(name, flatten_result(res), output_fields)
        for flat in out:
            for h in flat:
                h["distance"] = abs(h["distance"])
        return out

    def _decode_codes(
        self, name: str, results: list[list[dict[str, Any]]], output_fields: Sequence[str]
    ) -> list[list[dict[str, Any]]]:
        """Search results with each hit's vector code (when fetched, see
        :meth:`candidate_vector_field`) decoded into a float32 vector."""
        if CODE_FIELD not in output_fields:
            return results
        dimension = self._state(name).dimension
        for rows in results:
            vectors = decode_codes([r.get(CODE_FIELD) for r in rows], dimension)
            for row, vector in zip(rows, vectors, strict=True):
                row[CODE_FIELD] = vector
        return results


class _NoSessionTimestampNotice(logging.Filter):
    """Drops pymilvus's warning that it "failed to get mvccTs" for a query iterator:
    Milvus Lite has no session timestamps, and the client-side one pymilvus falls back to
    is what it should use, so the warning (on every iterator) only alarms."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mvccTs" not in record.getMessage()


@contextlib.contextmanager
def _no_timestamp_notice(drop: bool) -> Iterator[None]:
    if not drop:
        yield
        return
    logger, notice = logging.getLogger(_ITERATOR_LOG), _NoSessionTimestampNotice()
    logger.addFilter(notice)
    try:
        yield
    finally:
        logger.removeFilter(notice)


def id_list(ids: Sequence[str]) -> str:
    """A Milvus list literal of string ids, each quoted and escaped."""
    from ragsilo.store.filters import quote

    return "[" + ", ".join(quote(str(i)) for i in ids) + "]"


def flatten_result(result: Any) -> list[list[dict[str, Any]]]:
    """A search result (one list of hits per query) as lists of flat rows (see
    :func:`flatten_hit`).

    Float vector fields come as rows of one float32 matrix per field, decoded from the
    reply in one pass: pymilvus would otherwise build a list of Python floats for each
    hit, which costs more than the rest of a 50-hit search's decoding together. Hits of
    any other shape take pymilvus's own decoding.
    """
    decoded: dict[int, np.ndarray] = {}  # one decode per reply column, shared by the queries
    out = []
    for hits in result:
        vectors = _take_float_vectors(hits, decoded)
        rows = [flatten_hit(h) for h in hits]
        for name, matrix in vectors.items():
            for row, vector in zip(rows, matrix, strict=True):
                row[name] = vector
        out.append(rows)
    return out


def _take_float_vectors(hits: Any, decoded: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    """The float vector columns of one query's hits as ``{field: matrix}``, each taken out
    of the hits' lazily decoded fields so that iterating the hits skips them. Empty for
    anything but pymilvus's lazily decoded hits of non-nullable float vectors."""
    lazy = getattr(hits, "lazy_field_data", None)
    start = getattr(hits, "start", None)
    if (
        not isinstance(lazy, list)
        or not isinstance(start, int)
        or getattr(hits, "has_materialized", True)
    ):
        return {}
    n = len(getattr(hits, "ids", ()))
    taken: dict[str, np.ndarray] = {}
    kept = []
    for field in lazy:
        matrix = None
        if getattr(field, "type", None) == DataType.FLOAT_VECTOR and not len(field.valid_data):
            matrix = _float_matrix(field, decoded)
        if matrix is not None and len(matrix) >= start + n:
            taken[field.field_name] = matrix[start : start + n]
        else:
            kept.append(field)
    hits.lazy_field_data = kept
    return taken


def _float_matrix(field: Any, decoded: dict[int, np.ndarray]) -> np.ndarray | None:
    key = id(field)
    if key not in decoded:
        dim = int(field.vectors.dim)
        flat = np.asarray(field.vectors.float_vector.data, dtype=np.float32)
        if dim <= 0 or flat.size % dim:
            return None
        decoded[key] = flat.reshape(-1, dim)
    return decoded[key]


def flatten_hit(hit: Any) -> dict[str, Any]:
    """One search hit as a flat row: its entity's fields, ``id`` and ``distance``."""
    entity = dict(hit.get("entity") or {})
    entity["id"] = hit.get("id", entity.get("id"))
    entity["distance"] = float(hit.get("distance", 0.0))
    return entity


__all__ = [
    "DEFAULT_OUTPUT_FIELDS",
    "QUERY_WINDOW",
    "MilvusReads",
    "flatten_hit",
    "flatten_result",
    "id_list",
]

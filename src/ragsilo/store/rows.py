"""Milvus rows of chunks: built column by column, with VARCHAR values cut to their limits.

What a row needs besides its chunk and vector (the chunk text's BM25 terms on
Milvus Lite, its content hash) can be made ahead, where the chunk is made (in a
parse worker), so that the one process that writes only assembles rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ragsilo.models import Chunk
from ragsilo.sources import escape_surrogates, is_utf8
from ragsilo.store.codes import encode_codes
from ragsilo.store.schema import (
    CODE_FIELD,
    MAX_LENGTHS,
    TENANT_FIELD,
    TERMS_FIELD,
    UNASSIGNED,
    VECTOR_FIELD,
)

_TEXT_LIMIT = MAX_LENGTHS["text"]


def chunk_row(chunk: Chunk, vector: np.ndarray, cluster_id: int = UNASSIGNED) -> dict[str, Any]:
    """The Milvus row for one chunk, with VARCHAR values cut to their byte limits."""
    return _row(chunk, np.asarray(vector, dtype=np.float32).tolist(), int(cluster_id))


def chunk_rows(
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    cluster_ids: Sequence[int] | np.ndarray | None = None,
    *,
    terms: Sequence[str] | None = None,
    tenant: str | None = None,
    codes: bool = False,
) -> list[dict[str, Any]]:
    """The rows of ``chunks`` (one vector each), as :func:`chunk_row` makes them.

    ``terms`` (one per chunk, from :func:`row_terms`) fills the BM25 terms field;
    ``tenant`` the tenant field of every row; ``codes`` adds each vector's code
    (:mod:`ragsilo.store.codes`). The vectors are converted once, as a matrix, not row
    by row.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    lists = matrix.tolist()
    ids = [UNASSIGNED] * len(chunks) if cluster_ids is None else [int(c) for c in cluster_ids]
    rows = [_row(c, v, cid) for c, v, cid in zip(chunks, lists, ids, strict=True)]
    if terms is not None:
        for row, t in zip(rows, terms, strict=True):
            row[TERMS_FIELD] = t
    if tenant is not None:
        for row in rows:
            row[TENANT_FIELD] = tenant
    if codes and rows:
        for row, code in zip(rows, encode_codes(matrix), strict=True):
            row[CODE_FIELD] = code
    return rows


def fit_codes(rows: Sequence[dict[str, Any]], codes: bool) -> list[dict[str, Any]]:
    """``rows`` as a collection with (``codes``) or without vector codes takes them: a
    row without a code gets one made from its vector, and a code the collection has no
    field for is left out (rows copied from one collection to another)."""
    if not codes:
        return [_without(r, CODE_FIELD) if CODE_FIELD in r else r for r in rows]
    need = [i for i, r in enumerate(rows) if CODE_FIELD not in r and VECTOR_FIELD in r]
    out = list(rows)
    if need:
        made = encode_codes(np.asarray([rows[i][VECTOR_FIELD] for i in need], dtype=np.float32))
        for i, code in zip(need, made, strict=True):
            out[i] = {**rows[i], CODE_FIELD: code}
    return out


def _without(row: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != field}


def row_text(text: str) -> str:
    """A chunk's text as its row stores it (valid UTF-8, within the field's byte limit)."""
    if not is_utf8(text):
        text = escape_surrogates(text)
    if len(text) * 4 > _TEXT_LIMIT:
        text = truncate_utf8(text, _TEXT_LIMIT)
    return text


def row_terms(text: str, analyzer: Any) -> str:
    """The BM25 terms field of the row of a chunk with ``text``: ``analyzer`` (English
    terms) of the stored text, cut to the field's byte limit."""
    return truncate_utf8(analyzer(row_text(text)), _TEXT_LIMIT)


def _row(chunk: Chunk, vector: list[float], cluster_id: int) -> dict[str, Any]:
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
        "cluster_id": cluster_id,
        VECTOR_FIELD: vector,
    }
    for field, value in row.items():
        if isinstance(value, str) and not is_utf8(value):
            row[field] = escape_surrogates(value)
    if not _is_utf8_json(row["metadata"]):
        row["metadata"] = _escape_json(row["metadata"])
    for field, limit in MAX_LENGTHS.items():
        value = row[field]
        if len(value) * 4 > limit:  # only measure bytes when it could be over
            row[field] = truncate_utf8(value, limit)
    return row


def _is_utf8_json(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    except (TypeError, ValueError):
        return True  # not this check's business
    return True


def _escape_json(value: Any) -> Any:
    if isinstance(value, str):
        return escape_surrogates(value)
    if isinstance(value, dict):
        return {escape_surrogates(str(k)): _escape_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escape_json(v) for v in value]
    return value


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, on a character boundary."""
    if len(text) * 4 <= max_bytes:
        return text  # short enough whatever its characters
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
            size += len(value.encode("utf-8", "surrogatepass")) + 8
        elif isinstance(value, dict):
            size += len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")) + 8
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

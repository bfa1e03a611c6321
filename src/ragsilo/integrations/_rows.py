"""What the framework adapters share: texts written one row each under ids the caller
chooses, rows read back and deleted by id, and a framework's embedding model as the
silo's embedder.

A framework hands over texts its own splitter has cut already, each with an id of its
own, and expects to find them again under that id; so these rows are not chunked, not
quality-scored and not journalled (``Silo.ingest`` and ``Silo.ingest_texts`` do that
for documents). They are embedded by the silo's embedder (or come with vectors), get
their cluster as ingested chunks do, belong to the silo's tenant when it has tenants,
and are found by every search mode, filter and reranker of the silo.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ragsilo.errors import InputError
from ragsilo.models import Chunk, Hit

if TYPE_CHECKING:
    from ragsilo.silo import Silo

#: Sources of the rows a framework adapter writes: ``<prefix><id>``.
ADAPTER_PREFIXES = ("langchain://", "llamaindex://")
MAX_ID_BYTES = 64  # the primary key's VARCHAR length
_TITLE_CHARS = 80


def check_ids(ids: Sequence[Any] | None, n: int, what: str = "texts") -> list[str]:
    """``ids`` checked (strings of 1 to 64 bytes), with a new UUID for each missing one."""
    if ids is None:
        return [str(uuid.uuid4()) for _ in range(n)]
    ids = list(ids)
    if len(ids) != n:
        raise InputError(f"{len(ids)} ids for {n} {what}: give one id per text, or none")
    out = []
    for i, value in enumerate(ids):
        if value is None or value == "":
            out.append(str(uuid.uuid4()))
            continue
        if not isinstance(value, str):
            raise InputError(f"id {i} is a {type(value).__name__}; ids are strings")
        if len(value.encode("utf-8")) > MAX_ID_BYTES:
            raise InputError(f"id {value[:20]!r}... is longer than {MAX_ID_BYTES} bytes")
        out.append(value)
    return out


def check_metadata(metadata: Any, i: int) -> dict[str, Any]:
    """A copy of one text's metadata; it must be a mapping that JSON can store."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InputError(f"the metadata of text {i} is a {type(metadata).__name__}, not a dict")
    out = dict(metadata)
    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InputError(
            f"the metadata of text {i} cannot be stored as JSON ({e})",
            hint="keep metadata values to strings, numbers, booleans, lists and dicts",
        ) from None
    return out


def write_texts(
    silo: Silo,
    texts: Sequence[str],
    metadatas: Sequence[Mapping[str, Any] | None] | None,
    ids: Sequence[str | None] | None,
    *,
    source_prefix: str,
    vectors: np.ndarray | Sequence[Sequence[float]] | None = None,
    tenant: str | None = None,
    doc_ids: Sequence[str] | None = None,
) -> list[str]:
    """Upsert each text as one row under its id (a new UUID where none is given); returns
    the ids in the order of ``texts``. A text written again under the same id replaces
    the old one. ``vectors`` are the texts' embeddings when the caller has them;
    ``doc_ids`` group rows into documents (default: each row its own)."""
    if isinstance(texts, str):
        raise InputError("give a list of texts, not one string")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"text {i} is a {type(t).__name__}, not a string")
    n = len(texts)
    if metadatas is not None and len(metadatas) != n:
        raise InputError(f"{len(metadatas)} metadatas for {n} texts: give one per text")
    metas = [check_metadata(m, i) for i, m in enumerate(metadatas or [None] * n)]
    keys = check_ids(ids, n)
    if doc_ids is not None and len(doc_ids) != n:
        raise InputError(f"{len(doc_ids)} document ids for {n} texts")
    docs = keys if doc_ids is None else check_ids(doc_ids, n, "document ids")
    tenant = silo._tenant(tenant)
    if n == 0:
        return []
    if vectors is None:
        matrix = embed_in_batches(silo, texts)
    else:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != n:
            raise InputError(f"give one vector per text: {n} texts, vectors of {matrix.shape}")
        matrix = unit_rows(matrix)
    silo._ensure_collection(create=True)
    # one row per id: the last text given for an id wins
    last = {key: i for i, key in enumerate(keys)}
    order = sorted(last.values())
    chunks = [
        Chunk(
            id=keys[i],
            doc_id=docs[i],
            source=source_prefix + keys[i],
            file_sha256=hashlib.sha256(texts[i].encode("utf-8", "surrogatepass")).hexdigest(),
            mime_type="text/plain",
            title=_title(metas[i]),
            page=None,
            section=None,
            chunk_index=0,
            text=texts[i],
            metadata=metas[i],
            doc_chunks=1,
        )
        for i in order
    ]
    rows = matrix[order]
    clusters: dict[str, Any] = {}
    model = silo._cluster_assigner()
    if model is not None:
        clusters = {"cluster_ids": model.assign(rows), "partitioned": model.partitioned}
    store = silo.store
    with silo._writes.call():  # not beside a recluster, whose copy would miss them
        store.upsert_chunks(
            silo.collection,
            chunks,
            rows,
            batch_bytes=int(silo.settings.ingest.batch_mb * 1024 * 1024),
            tenant=tenant,
            **clusters,
        )
        store.commit(silo.collection)
    return keys


def embed_in_batches(silo: Silo, texts: Sequence[str]) -> np.ndarray:
    size = max(1, silo.settings.embedding.batch_size)
    parts = [silo.embedder.embed(texts[i : i + size]) for i in range(0, len(texts), size)]
    return np.vstack(parts).astype(np.float32, copy=False)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero), as ragsilo's embedders give them."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _title(metadata: Mapping[str, Any]) -> str:
    title = metadata.get("title")
    return title[:1024] if isinstance(title, str) else ""


def _id_filter(ids: Sequence[str]) -> str:
    from ragsilo.store.filters import quote

    return f"id in [{', '.join(quote(i) for i in ids)}]"


def get_hits(silo: Silo, ids: Sequence[str], *, tenant: str | None = None) -> list[Hit]:
    """The stored rows with these ids, as hits (score 0), in the order of ``ids``; ids
    not stored (or of another tenant) are left out."""
    from ragsilo.silo import _to_hit
    from ragsilo.store import DEFAULT_OUTPUT_FIELDS
    from ragsilo.store.schema import TENANT_FIELD

    tenant = silo._tenant(tenant)
    wanted = list(dict.fromkeys(str(i) for i in ids))
    if not wanted or not silo.store.has_collection(silo.collection):
        return []
    silo._ensure_collection(create=False)
    fields = list(DEFAULT_OUTPUT_FIELDS)
    extra = [] if tenant is None else [TENANT_FIELD]
    rows = silo.store.get_rows(silo.collection, wanted, ["id", *fields, *extra])
    if tenant is not None:
        rows = [r for r in rows if r.get(TENANT_FIELD) == tenant]
    by_id = {str(r["id"]): _to_hit({**r, "distance": 0.0}, fields) for r in rows}
    return [by_id[i] for i in wanted if i in by_id]


def delete_ids(silo: Silo, ids: Sequence[str], *, tenant: str | None = None) -> int:
    """Delete the rows with these ids (of ``tenant`` only, when the silo has tenants);
    ids not stored are no error. Returns how many ids were asked to go."""
    tenant = silo._tenant(tenant)
    wanted = list(dict.fromkeys(str(i) for i in ids))
    if not wanted or not silo.store.has_collection(silo.collection):
        return 0
    silo._ensure_collection(create=False)
    if tenant is not None:
        expr = silo._scoped(_id_filter(wanted), tenant)
        wanted = [str(r["id"]) for r in silo.store.query(silo.collection, expr, ["id"])]
        if not wanted:
            return 0
    with silo._writes.call():
        n = silo.store.delete_ids(silo.collection, wanted)
        silo.store.commit(silo.collection)
    return n


def provenance(hit: Hit) -> dict[str, Any]:
    """A hit's metadata as a framework shows it: for a row an adapter wrote, exactly the
    metadata it was given; for an ingested chunk, its metadata with where it comes from
    (``source``, ``title``, ``page``, ``section``, ``chunk_index``, ``doc_id``)."""
    if hit.source.startswith(ADAPTER_PREFIXES):
        return dict(hit.metadata)
    out = dict(hit.metadata)
    for key, value in (
        ("source", hit.source),
        ("title", hit.title),
        ("page", hit.page),
        ("section", hit.section),
        ("chunk_index", hit.chunk_index),
        ("doc_id", hit.doc_id),
    ):
        if value not in (None, "") and key not in out:
            out[key] = value
    return out


def where_of(filter: Any) -> tuple[dict[str, object] | None, str | None]:
    """A framework's ``filter`` as ragsilo's ``(where, filter)``: a dict is equality
    filters (a key that is no ragsilo field means ``metadata.<key>``), a string is a raw
    Milvus expression."""
    from ragsilo.store.filters import INT_FIELDS, JSON_FIELD, STRING_FIELDS

    if filter is None:
        return None, None
    if isinstance(filter, str):
        return None, filter
    if isinstance(filter, Mapping):
        where: dict[str, object] = {}
        for key, value in filter.items():
            key = str(key)
            named = key in STRING_FIELDS or key in INT_FIELDS or key.startswith(JSON_FIELD + ".")
            where[key if named else f"{JSON_FIELD}.{key}"] = value
        return where, None
    raise InputError(
        f"filter is a {type(filter).__name__}; give a dict of field=value filters "
        'or a Milvus expression such as \'metadata["lang"] == "en"\''
    )


class FrameworkEmbedder:
    """A framework's embedding model as a ragsilo :class:`~ragsilo.embedding.Embedder`:
    ``embed_documents(texts)`` embeds stored texts, ``embed_query(text)`` a query.

    ``dimension`` is asked of the model once (by embedding a probe text) unless given.
    Tokens are counted as words: the framework's model may have no tokenizer to ask.
    """

    def __init__(
        self,
        embed_documents: Callable[[list[str]], Sequence[Sequence[float]]],
        embed_query: Callable[[str], Sequence[float]],
        *,
        name: str,
        dimension: int | None = None,
        source: Any = None,
    ) -> None:
        self._documents = embed_documents
        self._query = embed_query
        self.name = name
        self._dimension = dimension
        self.source = source  # the framework's own object

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self._query("dimension"))
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = unit_rows(np.asarray(self._documents(list(texts)), dtype=np.float32))
        self._dimension = self._dimension or out.shape[1]
        return out

    def embed_query_vector(self, text: str) -> np.ndarray:
        return unit_rows(np.asarray([self._query(text)], dtype=np.float32))[0]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

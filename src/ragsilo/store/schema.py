"""The chunk collection's schema, and the check that an existing collection matches it.

Two variants exist. Where the connected Milvus has the BM25 function (Milvus
Lite, Milvus 2.5 and later), a BM25 function turns the analysed text into a
sparse vector field (``sparse``) with an inverted index, so the collection can
answer ``bm25`` and ``hybrid`` queries. The function reads ``text`` with
Milvus's own analyzer, or, for English on Milvus Lite (which cannot stem), a
hidden ``bm25_text`` field that ragsilo fills with the stemmed terms (see
:mod:`ragsilo.store.analysis`). Elsewhere (Milvus 2.3 and 2.4) the collection
has no sparse field. Both variants carry ``cluster_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient
from pymilvus.milvus_client import IndexParams

from ragsilo.errors import MissingDependencyError, SchemaMismatchError
from ragsilo.models import ServerInfo
from ragsilo.store.capabilities import capabilities_of
from ragsilo.store.codes import code_length
from ragsilo.store.indexes import IndexPlan

VECTOR_FIELD = "vector"
SPARSE_FIELD = "sparse"
TERMS_FIELD = "bm25_text"
#: A compact copy of each row's vector, for reranking (see :mod:`ragsilo.store.codes`).
CODE_FIELD = "vector_code"
#: The partition-key field of a multi-tenant collection.
TENANT_FIELD = "tenant"
TENANT_MAX_LENGTH = 128
BM25_FUNCTION = "text_bm25"
#: ``cluster_id`` of a chunk that no clustering has assigned yet.
UNASSIGNED = -1
DEFAULT_PARTITION = "_default"
CLUSTER_PARTITION_PREFIX = "cluster_"


def cluster_partition(cluster_id: int) -> str:
    """The partition that holds cluster ``cluster_id`` when clusters are stored by partition."""
    if cluster_id < 0:
        return DEFAULT_PARTITION
    return f"{CLUSTER_PARTITION_PREFIX}{cluster_id}"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    dtype: DataType
    max_length: int | None = None


# Byte limits for VARCHAR fields; values are cut to fit on a UTF-8 boundary.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", DataType.VARCHAR, 64),
    FieldSpec("doc_id", DataType.VARCHAR, 64),
    FieldSpec("source", DataType.VARCHAR, 2048),
    FieldSpec("file_sha256", DataType.VARCHAR, 64),
    FieldSpec("mime_type", DataType.VARCHAR, 128),
    FieldSpec("title", DataType.VARCHAR, 1024),
    FieldSpec("page", DataType.INT64),
    FieldSpec("section", DataType.VARCHAR, 1024),
    FieldSpec("chunk_index", DataType.INT64),
    FieldSpec("doc_chunks", DataType.INT64),
    FieldSpec("text", DataType.VARCHAR, 65535),
    FieldSpec("metadata", DataType.JSON),
    FieldSpec("cluster_id", DataType.INT64),
)
SCALAR_FIELD_NAMES = tuple(f.name for f in FIELDS)
MAX_LENGTHS = {f.name: f.max_length for f in FIELDS if f.max_length}
# Fields that filters and idempotency checks hit often.
SCALAR_INDEXED = ("doc_id", "source")


@dataclass(frozen=True)
class BM25Spec:
    """The BM25 pieces of a collection: which field the BM25 function reads, with which
    Milvus analyzer, and the scoring constants."""

    analyzer_params: dict[str, Any]
    k1: float = 1.2
    b: float = 0.75
    input_field: str = "text"


def bm25_spec(
    analyzer: str | dict[str, Any], info: ServerInfo, *, k1: float = 1.2, b: float = 0.75
) -> BM25Spec:
    """The BM25 field for an analyzer name on this kind of Milvus.

    A Milvus server (2.5+) has the built-in ``english`` (standard tokenizer,
    lowercase, English stop words, Snowball stemmer) and ``chinese`` (jieba)
    analyzers, used on ``text``. Milvus Lite knows only the ``standard`` and
    ``jieba`` tokenizers: ``english`` there means ragsilo's own analysis into
    ``bm25_text`` (the same steps as Milvus's), and ``chinese`` is jieba, which
    needs the ``jieba`` package. A mapping is taken as Milvus ``analyzer_params``
    for ``text``.
    """
    if isinstance(analyzer, dict):
        return BM25Spec(dict(analyzer), k1, b)
    if analyzer == "standard":
        return BM25Spec({"tokenizer": "standard"}, k1, b)
    if capabilities_of(info).builtin_analyzers:
        return BM25Spec({"type": analyzer}, k1, b)
    if analyzer == "english":
        return BM25Spec({"tokenizer": "standard"}, k1, b, input_field=TERMS_FIELD)
    if analyzer == "chinese":
        try:
            import jieba  # noqa: F401
        except ImportError:
            raise MissingDependencyError(
                "jieba", "chinese", "the chinese analyzer on Milvus Lite"
            ) from None
        return BM25Spec({"tokenizer": "jieba"}, k1, b)
    raise SchemaMismatchError(f"analyzer {analyzer!r} is unknown")


def build_schema(
    dimension: int,
    description: str,
    bm25: BM25Spec | None = None,
    *,
    tenants: bool = False,
    codes: bool = False,
) -> Any:
    """The chunk schema; with ``tenants``, a ``tenant`` VARCHAR field that is the partition
    key (Milvus routes each tenant's rows to a partition by its hash); with ``codes``, the
    ``vector_code`` field (:mod:`ragsilo.store.codes`)."""
    schema = MilvusClient.create_schema(
        auto_id=False, enable_dynamic_field=False, description=description
    )
    for f in FIELDS:
        kwargs: dict[str, Any] = {}
        if f.max_length:
            kwargs["max_length"] = f.max_length
        if bm25 is not None and f.name == bm25.input_field:
            kwargs["enable_analyzer"] = True
            kwargs["analyzer_params"] = bm25.analyzer_params
        schema.add_field(f.name, f.dtype, is_primary=(f.name == "id"), **kwargs)
    if tenants:
        schema.add_field(
            TENANT_FIELD, DataType.VARCHAR, max_length=TENANT_MAX_LENGTH, is_partition_key=True
        )
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dimension)
    if codes:
        schema.add_field(CODE_FIELD, DataType.VARCHAR, max_length=code_length(dimension))
    if bm25 is not None:
        if bm25.input_field == TERMS_FIELD:
            schema.add_field(
                TERMS_FIELD,
                DataType.VARCHAR,
                max_length=MAX_LENGTHS["text"],
                enable_analyzer=True,
                analyzer_params=bm25.analyzer_params,
            )
        schema.add_field(SPARSE_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name=BM25_FUNCTION,
                function_type=FunctionType.BM25,
                input_field_names=[bm25.input_field],
                output_field_names=[SPARSE_FIELD],
            )
        )
    return schema


def build_index_params(
    plan: IndexPlan, info: ServerInfo, bm25: BM25Spec | None = None
) -> IndexParams:
    params = MilvusClient.prepare_index_params()
    params.add_index(
        field_name=VECTOR_FIELD,
        index_type=plan.type,
        metric_type=plan.metric,
        params=_build_params(dict(plan.build), info),
    )
    scalar_type = "INVERTED" if info.inverted_index else "Trie"
    for name in SCALAR_INDEXED:
        params.add_index(field_name=name, index_type=scalar_type, index_name=f"{name}_idx")
    if bm25 is not None:
        params.add_index(
            field_name=SPARSE_FIELD,
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params=_build_params({"bm25_k1": bm25.k1, "bm25_b": bm25.b}, info),
        )
    return params


def vector_index_params(plan: IndexPlan, info: ServerInfo) -> IndexParams:
    """Index parameters for the vector field alone (to rebuild it in place)."""
    params = MilvusClient.prepare_index_params()
    params.add_index(
        field_name=VECTOR_FIELD,
        index_type=plan.type,
        metric_type=plan.metric,
        index_name=VECTOR_FIELD,
        params=_build_params(dict(plan.build), info),
    )
    return params


def _build_params(build: dict[str, Any], info: ServerInfo) -> dict[str, Any]:
    """Index build parameters as this Milvus reads them.

    pymilvus sends each parameter as its own key; Milvus Lite reads only a JSON
    ``params`` key and would silently build with its defaults (for BM25, k1 = 1.5
    whatever ``retrieval.bm25_k1`` says), so on Lite they are nested under it.
    """
    if build and capabilities_of(info).nested_index_params:
        return {"params": build}
    return build


#: The fields of a collection's centroid collection, one row per cluster.
CENTROID_FIELDS = ("cluster_id", VECTOR_FIELD, "size", "detail", "info")


def build_centroid_schema(dimension: int) -> Any:
    """The schema of a centroid collection: ``cluster_id`` (the primary key), the centroid
    ``vector``, the cluster's ``size``, and JSON ``detail`` and ``info``."""
    schema = MilvusClient.create_schema(
        auto_id=False, enable_dynamic_field=False, description="ragsilo cluster centroids"
    )
    schema.add_field("cluster_id", DataType.INT64, is_primary=True)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("size", DataType.INT64)
    schema.add_field("detail", DataType.JSON)
    schema.add_field("info", DataType.JSON)
    return schema


def build_side_vector_schema(dimension: int, source_max_length: int) -> Any:
    """The schema of a side collection of one vector per chunk id (``id``, ``doc_id``,
    ``source``, ``vector``), as the image vectors of a silo are kept."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=source_max_length)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def flat_index_params(metric: str) -> IndexParams:
    """A FLAT index on ``vector`` (exact search) for a small side collection."""
    params = MilvusClient.prepare_index_params()
    params.add_index(field_name=VECTOR_FIELD, index_type="FLAT", metric_type=metric)
    return params


def has_bm25(described: dict[str, Any]) -> bool:
    """Whether a described collection has the BM25 sparse field."""
    return any(f["name"] == SPARSE_FIELD for f in described.get("fields", []))


def has_terms_field(described: dict[str, Any]) -> bool:
    """Whether a described collection keeps ragsilo-made BM25 terms in ``bm25_text``."""
    return any(f["name"] == TERMS_FIELD for f in described.get("fields", []))


def has_code_field(described: dict[str, Any]) -> bool:
    """Whether a described collection keeps vector codes in ``vector_code``."""
    return any(f["name"] == CODE_FIELD for f in described.get("fields", []))


def has_tenant_field(described: dict[str, Any]) -> bool:
    """Whether a described collection has the tenant partition key."""
    return any(f["name"] == TENANT_FIELD for f in described.get("fields", []))


def check_schema(
    name: str,
    described: dict[str, Any],
    dimension: int,
    bm25: BM25Spec | None = None,
    *,
    tenants: bool | None = None,
) -> None:
    """Raise :class:`SchemaMismatchError` naming every difference from the expected schema.

    A collection with or without the BM25 field is accepted either way (one made
    on Milvus 2.3 has none); when it has one and ``bm25`` is given, the analyzer
    must be the one the settings ask for, because the terms were cut with it.
    """
    have = {f["name"]: f for f in described.get("fields", [])}
    problems: list[str] = []
    for f in FIELDS:
        got = have.get(f.name)
        if got is None:
            problems.append(f"field {f.name!r} is missing")
        elif got.get("type") != f.dtype:
            problems.append(
                f"field {f.name!r} is {_type_name(got.get('type'))}, expected {f.dtype.name}"
            )
    vec = have.get(VECTOR_FIELD)
    if vec is None:
        problems.append(f"vector field {VECTOR_FIELD!r} is missing")
    else:
        got_dim = int(vec.get("params", {}).get("dim", 0))
        if got_dim != dimension:
            problems.append(
                f"vector dimension is {got_dim} but the embedding model gives {dimension}"
            )
    sparse = have.get(SPARSE_FIELD)
    if sparse is not None:
        if sparse.get("type") != DataType.SPARSE_FLOAT_VECTOR:
            problems.append(
                f"field {SPARSE_FIELD!r} is {_type_name(sparse.get('type'))}, "
                "expected SPARSE_FLOAT_VECTOR"
            )
        elif bm25 is not None:
            source = TERMS_FIELD if TERMS_FIELD in have else "text"
            stored = _stored_analyzer(have.get(source, {}))
            if source != bm25.input_field or (
                stored is not None and stored != bm25.analyzer_params
            ):
                problems.append(
                    f"the BM25 analyzer is {_describe_analyzer(source, stored)} but the settings "
                    f"ask for {_describe_analyzer(bm25.input_field, bm25.analyzer_params)} "
                    "(retrieval.analyzer)"
                )
    code = have.get(CODE_FIELD)
    if code is not None and code.get("type") != DataType.VARCHAR:
        problems.append(f"field {CODE_FIELD!r} is {_type_name(code.get('type'))}, expected VARCHAR")
    tenant = have.get(TENANT_FIELD)
    if tenants is True and tenant is None:
        problems.append(
            "collection.tenants is on but the collection has no tenant field "
            "(it is fixed when the collection is created)"
        )
    elif tenants is False and tenant is not None:
        problems.append("the collection holds tenants; set collection.tenants: true to use it")
    elif tenant is not None and not tenant.get("is_partition_key"):
        problems.append(f"field {TENANT_FIELD!r} is not the partition key")
    extra = sorted(
        set(have)
        - set(SCALAR_FIELD_NAMES)
        - {VECTOR_FIELD, SPARSE_FIELD, TERMS_FIELD, TENANT_FIELD, CODE_FIELD}
    )
    if extra and not problems:
        problems.append(f"unexpected fields {extra}")
    if problems:
        raise SchemaMismatchError(
            f"collection {name!r} does not match the settings: " + "; ".join(problems),
            hint=(
                "use another collection.name, or drop it with "
                f"`ragsilo collections drop {name}` and ingest again"
            ),
        )


def _describe_analyzer(field: str, params: dict[str, Any] | None) -> str:
    what = json.dumps(params, sort_keys=True) if params is not None else "unknown"
    if field == TERMS_FIELD:
        return f"ragsilo's english terms ({field}, {what})"
    return f"{what} on {field}"


def _stored_analyzer(text_field: dict[str, Any]) -> dict[str, Any] | None:
    raw = text_field.get("params", {}).get("analyzer_params")
    if raw is None:
        return None
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _type_name(t: Any) -> str:
    return getattr(t, "name", str(t))

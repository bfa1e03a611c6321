"""The chunk collection's schema, and the check that an existing collection matches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymilvus import DataType, MilvusClient
from pymilvus.milvus_client import IndexParams

from ragsilo.errors import SchemaMismatchError
from ragsilo.models import ServerInfo
from ragsilo.store.indexes import IndexPlan

VECTOR_FIELD = "vector"


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
)
SCALAR_FIELD_NAMES = tuple(f.name for f in FIELDS)
MAX_LENGTHS = {f.name: f.max_length for f in FIELDS if f.max_length}
# Fields that filters and idempotency checks hit often.
SCALAR_INDEXED = ("doc_id", "source")


def build_schema(dimension: int, description: str) -> Any:
    schema = MilvusClient.create_schema(
        auto_id=False, enable_dynamic_field=False, description=description
    )
    for f in FIELDS:
        kwargs: dict[str, Any] = {}
        if f.max_length:
            kwargs["max_length"] = f.max_length
        schema.add_field(f.name, f.dtype, is_primary=(f.name == "id"), **kwargs)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def build_index_params(plan: IndexPlan, info: ServerInfo) -> IndexParams:
    params = MilvusClient.prepare_index_params()
    params.add_index(
        field_name=VECTOR_FIELD,
        index_type=plan.type,
        metric_type=plan.metric,
        params=dict(plan.build),
    )
    scalar_type = "INVERTED" if info.inverted_index else "Trie"
    for name in SCALAR_INDEXED:
        params.add_index(field_name=name, index_type=scalar_type, index_name=f"{name}_idx")
    return params


def check_schema(name: str, described: dict[str, Any], dimension: int) -> None:
    """Raise :class:`SchemaMismatchError` naming every difference from the expected schema."""
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
    extra = sorted(set(have) - set(SCALAR_FIELD_NAMES) - {VECTOR_FIELD})
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


def _type_name(t: Any) -> str:
    return getattr(t, "name", str(t))

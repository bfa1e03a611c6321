"""Rows written as columns: one packing pass per field, not one per row and field.

``MilvusClient.insert`` and ``upsert`` take a dict per row and pack each value of each
row into the request on its own, checking its type each time. For a chunk row (16
fields, a 384-float vector) that is about 115 us a row, paid with the GIL held, beside
the rest of the ingest. The same rows packed as columns (pymilvus's column-based insert,
the one its ``Collection.insert`` uses) take a third of that, and the field data sent is
the same, byte for byte. Measured on 1,342 SciFact chunk rows: 152 ms as rows, 46 ms as
columns.

The column path is taken when the rows fit the collection's schema exactly (every
input field, nothing more) and this pymilvus has it; otherwise :func:`write_columns`
says so and the caller writes rows, with pymilvus's own checks and messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymilvus.exceptions import DataNotMatchException, SchemaMismatchRetryableException


def write_columns(
    client: Any,
    name: str,
    rows: Sequence[dict[str, Any]],
    *,
    upsert: bool,
    partition: str | None = None,
) -> bool:
    """Insert (or upsert) ``rows`` into collection ``name`` as columns. False, having
    written nothing, when the rows do not fit the schema's input fields exactly or the
    client has no column path: then write them as rows."""
    get_connection = getattr(client, "_get_connection", None)
    call_context = getattr(client, "_generate_call_context", None)
    if not rows or get_connection is None or call_context is None:
        return False
    conn = get_connection()
    context = call_context()
    get_schema = getattr(conn, "_get_schema", None)
    send = getattr(conn, "upsert" if upsert else "batch_insert", None)
    if get_schema is None or send is None:
        return False
    invalidate = getattr(conn, "_invalidate_schema", None)
    for attempt in (0, 1):
        # a second time only when the cached schema may be an older collection's of this name
        schema, _ = get_schema(name, context=context)
        columns = as_columns(schema, rows)
        if columns is not None:
            try:
                send(name, columns, partition_name=partition or "", context=context, schema=schema)
                return True
            except (DataNotMatchException, SchemaMismatchRetryableException):
                if attempt or invalidate is None:
                    raise
        elif attempt or invalidate is None:
            return False
        invalidate(name, db_name=context.get_db_name())
    return False  # pragma: no cover - the loop returns or raises


def as_columns(
    schema: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """pymilvus's column-based entities (``name``, ``type``, ``values``) for ``rows``, one
    per input field of ``schema`` (function outputs and auto ids are the server's); None
    when a row has other fields than those, or the schema has dynamic, struct, nullable
    or defaulted fields (rows handle those)."""
    if schema.get("enable_dynamic_field") or schema.get("struct_array_fields"):
        return None
    fields = [
        f
        for f in schema.get("fields", ())
        if not f.get("is_function_output") and not (f.get("is_primary") and f.get("auto_id"))
    ]
    if any(f.get("nullable") or "default_value" in f for f in fields):
        return None
    names = {f["name"] for f in fields}
    if len(names) != len(fields) or any(r.keys() != names for r in rows):
        return None
    return [
        {"name": f["name"], "type": f["type"], "values": [r[f["name"]] for r in rows]}
        for f in fields
    ]


__all__ = ["as_columns", "write_columns"]

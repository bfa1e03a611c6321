"""Safe Milvus filter expressions from ``field=value`` pairs.

Values are always emitted as literals (strings quoted and escaped, numbers
checked), so a value such as ``x" or 1==1 or "`` stays one string and can never
widen the filter. Field names are checked against the schema's scalar fields;
``metadata.<key>`` reaches into the JSON metadata field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from ragsilo.errors import FilterError

STRING_FIELDS = ("id", "doc_id", "source", "file_sha256", "mime_type", "title", "section")
INT_FIELDS = ("page", "chunk_index", "doc_chunks", "cluster_id")
JSON_FIELD = "metadata"

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
_MAX_VALUE_CHARS = 4096


def quote(value: str) -> str:
    """A Milvus string literal for ``value``: double-quoted, with ``\\`` and ``"`` escaped."""
    if not isinstance(value, str):
        raise FilterError(f"expected a string value, got {type(value).__name__}")
    if len(value) > _MAX_VALUE_CHARS:
        raise FilterError(
            f"filter value is {len(value)} characters; the limit is {_MAX_VALUE_CHARS}"
        )
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise FilterError("filter values may not contain control characters such as newlines")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_where(items: Iterable[str]) -> dict[str, list[str]]:
    """``["source=a.md", "page=2", "page=3"]`` → ``{"source": ["a.md"], "page": ["2", "3"]}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FilterError(f"--where {item!r} is not of the form field=value")
        out.setdefault(key, []).append(value)
    return out


def build_filter(
    where: Mapping[str, object] | None = None,
    expr: str | None = None,
    *,
    string_fields: Sequence[str] = STRING_FIELDS,
    int_fields: Sequence[str] = INT_FIELDS,
) -> str:
    """One Milvus boolean expression from equality filters and an optional raw expression.

    Each ``where`` value may be a scalar or a list (meaning "any of"). Different
    fields are joined with ``and``; the raw ``expr`` is parenthesised and added
    with ``and``. An empty result means "no filter".
    """
    clauses: list[str] = []
    for field, raw in (where or {}).items():
        values = list(raw) if isinstance(raw, (list, tuple, set, frozenset)) else [raw]
        if not values:
            raise FilterError(f"filter on {field!r} has no values")
        clauses.append(_clause(field, values, string_fields, int_fields))
    if expr is not None and expr.strip():
        clauses.append(f"({expr.strip()})")
    return " and ".join(clauses)


def _clause(
    field: str, values: list[object], string_fields: Sequence[str], int_fields: Sequence[str]
) -> str:
    if field in string_fields:
        lits = [quote(str(v)) for v in values]
        return _eq_or_in(field, lits)
    if field in int_fields:
        lits = [str(_as_int(field, v)) for v in values]
        return _eq_or_in(field, lits)
    if field.startswith(JSON_FIELD + "."):
        key = field[len(JSON_FIELD) + 1 :]
        if not _KEY_RE.match(key):
            raise FilterError(
                f"metadata key {key!r} is invalid: use letters, digits, '_' or '-' (at most 128)"
            )
        ref = f"{JSON_FIELD}[{quote(key)}]"
        parts: list[str] = []
        for v in values:
            parts.extend(_json_literals(ref, v))
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"
    known = ", ".join([*string_fields, *int_fields, "metadata.<key>"])
    raise FilterError(f"cannot filter on {field!r}; filterable fields are: {known}")


def _eq_or_in(field: str, lits: list[str]) -> str:
    if len(lits) == 1:
        return f"{field} == {lits[0]}"
    return f"{field} in [{', '.join(lits)}]"


def _as_int(field: str, v: object) -> int:
    if isinstance(v, bool):
        raise FilterError(f"{field} takes a whole number, not {v!r}")
    if isinstance(v, int):
        return v
    try:
        return int(str(v).strip())
    except ValueError:
        raise FilterError(f"{field} takes a whole number, not {str(v)!r}") from None


def _json_literals(ref: str, v: object) -> list[str]:
    """Metadata from CSV/JSON may hold a number as text or as a number: match both."""
    if isinstance(v, bool):
        return [f"{ref} == {'true' if v else 'false'}"]
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise FilterError("metadata filters take finite numbers only")
        return [f"{ref} == {v!r}", f"{ref} == {quote(str(v))}"]
    s = str(v)
    out = [f"{ref} == {quote(s)}"]
    if re.fullmatch(r"-?\d{1,18}", s.strip()):
        out.append(f"{ref} == {int(s)}")
    elif re.fullmatch(r"-?\d+\.\d+", s.strip()):
        out.append(f"{ref} == {float(s)!r}")
    elif s in ("true", "false"):
        out.append(f"{ref} == {s}")
    return out


_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$")


def check_tenant(tenant: object) -> str:
    """``tenant`` when it is a valid tenant name: 1 to 128 characters, letters, digits and
    ``_ . : @ -``, starting with a letter or digit; else :class:`FilterError`."""
    if not isinstance(tenant, str) or not _TENANT_RE.match(tenant):
        raise FilterError(
            f"tenant {tenant!r} is invalid: use 1 to 128 letters, digits or _ . : @ -, "
            "starting with a letter or digit"
        )
    return tenant


def with_tenant(expr: str, tenant: str, field: str = "tenant") -> str:
    """``expr`` narrowed to one tenant: ``tenant == "<quoted>" and (expr)``."""
    clause = f"{field} == {quote(check_tenant(tenant))}"
    return f"{clause} and ({expr})" if expr.strip() else clause

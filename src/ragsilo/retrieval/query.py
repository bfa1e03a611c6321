"""One search request, checked once: :class:`Query`.

The CLI, the HTTP service, the integrations and :class:`ragsilo.Silo` build a
``Query`` and pass it along instead of repeating the same keyword arguments.
The checks that need nothing but the query (mode, route, consistency level,
output fields) run when it is made; :meth:`Query.options` adds the ones that
need the settings (``k`` against ``search.max_k``, the text against
``search.max_query_chars``, the tenant against ``collection.tenants``) and fills
the defaults. Whether the store can answer a BM25 query is checked by the
searcher, before any work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragsilo.errors import ConfigError, InputError
from ragsilo.retrieval.modes import check_mode, needs_text_index
from ragsilo.retrieval.searcher import SearchOptions
from ragsilo.settings import SearchSettings, Settings
from ragsilo.store import DEFAULT_OUTPUT_FIELDS, build_filter
from ragsilo.store.filters import check_tenant, with_tenant
from ragsilo.store.schema import SCALAR_FIELD_NAMES

CONSISTENCY_LEVELS = ("Strong", "Bounded", "Session", "Eventually")


@dataclass(frozen=True)
class Query:
    """What to search for and how; every field but ``text`` is optional.

    ``None`` means "the setting's default": ``k`` is ``search.top_k``, ``mode``
    ``retrieval.mode``, ``rerank`` ``retrieval.rerank``, ``route``
    ``retrieval.route_clusters``. ``where`` holds equality filters (a list value
    means any of), ``filter`` a raw Milvus boolean expression; both apply.
    ``vector`` is the text's embedding when the caller already has it (a query
    with a vector and no text searches densely by the vector alone).

    >>> Query("how hot does compost get?", k=3, mode="hybrid")
    Query(text='how hot does compost get?', k=3, mode='hybrid')

    Bad values are refused when the query is made, with :class:`InputError`.
    """

    text: str = ""
    k: int | None = None
    where: Mapping[str, object] | None = field(default=None, hash=False)
    filter: str | None = None
    output_fields: tuple[str, ...] = ()
    consistency_level: str | None = None
    mode: str | None = None
    rerank: str | None = None
    route: int | None = None
    tenant: str | None = None
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InputError(f"the query must be text, not {type(self.text).__name__}")
        if self.k is not None and (not isinstance(self.k, int) or isinstance(self.k, bool)):
            raise InputError(f"k must be a whole number, not {self.k!r}")
        if self.mode is not None:
            check_mode(self.mode)
        if self.rerank is not None and (not isinstance(self.rerank, str) or not self.rerank):
            raise InputError(f"rerank must name a reranker, not {self.rerank!r}")
        if self.route is not None:
            check_route(self.route)
        check_consistency(self.consistency_level)
        if self.where is not None and not isinstance(self.where, Mapping):
            raise InputError(
                f"where must map field names to values, not {type(self.where).__name__}"
            )
        if self.filter is not None and not isinstance(self.filter, str):
            raise InputError(f"filter must be a Milvus expression string, not {self.filter!r}")
        if isinstance(self.output_fields, str):
            raise InputError("output_fields must be a list of field names, not one string")
        object.__setattr__(self, "output_fields", tuple(self.output_fields or ()))
        check_output_fields(self.output_fields)
        if self.vector is not None:
            object.__setattr__(self, "vector", np.asarray(self.vector, dtype=np.float32))
        if self.where is not None:
            object.__setattr__(self, "where", dict(self.where))

    def __repr__(self) -> str:
        shown = [f"text={self.text!r}"]
        for f in dataclasses.fields(self)[1:]:
            value = getattr(self, f.name)
            if f.repr and value not in (None, ()):
                shown.append(f"{f.name}={value!r}")
        return f"Query({', '.join(shown)})"

    @classmethod
    def of(cls, query: str | Query, **options: Any) -> Query:
        """``query`` when it is a :class:`Query` (then no ``options`` may be given), else a
        ``Query`` of the text with ``options`` (keyword arguments left at ``None`` are
        the defaults)."""
        if isinstance(query, Query):
            given = sorted(name for name, value in options.items() if value is not None)
            if given:
                raise InputError(
                    f"give either a Query or keyword options, not both (got {', '.join(given)})",
                    hint="set them on the Query: query.replace(k=...)",
                )
            return query
        return cls(query, **{name: value for name, value in options.items() if value is not None})

    def replace(self, **changes: Any) -> Query:
        """A copy with ``changes`` (checked again)."""
        return dataclasses.replace(self, **changes)

    def options(self, settings: Settings) -> SearchOptions:
        """The checked, complete options of this query under ``settings`` (defaults filled,
        ``k`` and the text in bounds, the filter built and narrowed to the tenant)."""
        r = settings.retrieval
        mode = check_mode(r.mode if self.mode is None else self.mode)
        route = check_route(r.route_clusters if self.route is None else self.route)
        k = check_k(self.k, settings.search)
        fields = output_fields(self.output_fields)
        expr = build_filter(self.where, self.filter)
        tenant = resolve_tenant(settings, self.tenant)
        if tenant is not None:
            expr = with_tenant(expr, tenant)
        if needs_text_index(mode) or self.vector is None:
            check_text(self.text, settings.search)
        return SearchOptions(
            k=k,
            mode=mode,
            rerank=r.rerank if self.rerank is None else self.rerank,
            route=route,
            filter=expr,
            output_fields=tuple(fields),
            consistency_level=self.consistency_level,
            rerank_given=self.rerank is not None,
            route_given=self.route is not None,
        )


def check_k(k: int | None, search: SearchSettings) -> int:
    """``k`` (``search.top_k`` when ``None``) when it is from 1 to ``search.max_k``."""
    k = search.top_k if k is None else k
    max_k = search.max_k
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= max_k:
        raise InputError(f"k must be a whole number from 1 to {max_k} (search.max_k), not {k!r}")
    return k


def check_route(route: object) -> int:
    """``route`` when it is a whole number of clusters (0: all)."""
    if not isinstance(route, int) or isinstance(route, bool) or route < 0:
        raise InputError(f"route must be a whole number of clusters (0: all), not {route!r}")
    return route


def check_text(text: object, search: SearchSettings) -> str:
    """``text`` when it is a non-empty query of at most ``search.max_query_chars``."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("the query is empty")
    limit = search.max_query_chars
    if len(text) > limit:
        raise InputError(
            f"the query is {len(text)} characters; the limit is {limit} (search.max_query_chars)"
        )
    return text


def check_consistency(level: str | None) -> None:
    """Refuse a consistency level Milvus does not know."""
    if level is not None and level not in CONSISTENCY_LEVELS:
        raise InputError(
            f"consistency level {level!r} is unknown; use Strong, Bounded, Session or Eventually"
        )


def check_output_fields(requested: Sequence[str]) -> None:
    """Refuse a field a hit cannot carry."""
    for f in requested:
        if f not in SCALAR_FIELD_NAMES:
            raise InputError(
                f"unknown output field {f!r}; choose from {', '.join(SCALAR_FIELD_NAMES)}"
            )


def output_fields(requested: Sequence[str] | None) -> list[str]:
    """The fields a hit is read with: the default ones, then the ``requested`` extras."""
    check_output_fields(requested or ())
    return list(dict.fromkeys([*DEFAULT_OUTPUT_FIELDS, *(requested or ())]))


def resolve_tenant(settings: Settings, tenant: str | None) -> str | None:
    """The tenant of a call, checked: required when ``collection.tenants`` is on, refused
    when it is off."""
    name = settings.collection.name
    if settings.collection.tenants:
        if tenant is None or tenant == "":
            raise InputError(
                f"collection {name!r} is multi-tenant: name the tenant (--tenant, tenant=...)"
            )
        return check_tenant(tenant)
    if tenant is not None:
        raise ConfigError(
            f"a tenant was given but collection.tenants is off for {name!r}",
            hint="set collection.tenants: true (before the collection is created)",
        )
    return None


__all__ = [
    "CONSISTENCY_LEVELS",
    "Query",
    "check_consistency",
    "check_k",
    "check_output_fields",
    "check_route",
    "check_text",
    "output_fields",
    "resolve_tenant",
]

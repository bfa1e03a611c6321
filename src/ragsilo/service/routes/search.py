"""``POST /search``: dense, BM25 or hybrid top-k search with filters, cluster routing and
reranking."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends

from ragsilo.errors import FilterError, StoreError
from ragsilo.rerank import available_rerankers
from ragsilo.retrieval.modes import SEARCH_MODES
from ragsilo.retrieval.query import Query
from ragsilo.service.auth import Principal
from ragsilo.service.context import (
    ServiceContext,
    get_context,
    require,
    silo_for,
    tenant_for,
)
from ragsilo.service.errors import ServiceError
from ragsilo.service.schemas import ErrorResponse, SearchRequest, SearchResponse
from ragsilo.silo import Silo

router = APIRouter(tags=["search"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 501, 502, 503)
}


def offered_modes(silo: Silo | None) -> list[str]:
    """The search modes this service's Milvus answers: ``bm25`` and ``hybrid`` need its
    BM25 function (Milvus Lite, Milvus 2.5+); unknown (Milvus unreachable) → dense only."""
    if silo is None or not silo.info.bm25:
        return ["dense"]
    return list(SEARCH_MODES)


def offered_rerankers(ctx: ServiceContext) -> list[str]:
    """The built-in rerankers, the installed entry points, and the configured default.

    A ``custom:module:callable`` reranker is accepted from the settings only: a
    request naming an arbitrary module to import is refused.
    """
    names = available_rerankers()
    default = ctx.settings.retrieval.rerank
    if default not in names:
        names.append(default)
    return names


def check_options(ctx: ServiceContext, silo: Silo, mode: str | None, reranker: str | None) -> None:
    """Refuse, with the choices there are, options this service does not offer."""
    modes = offered_modes(silo)
    if mode is not None and mode not in modes:
        raise ServiceError(
            400,
            "unsupported_mode",
            f"search mode {mode!r} is not available here; available modes: {', '.join(modes)}",
        )
    rerankers = offered_rerankers(ctx)
    if reranker is not None and reranker not in rerankers:
        raise ServiceError(
            400,
            "unsupported_reranker",
            f"reranker {reranker!r} is not available; available: {', '.join(rerankers)} "
            "(or leave it out for the default)",
        )


@contextmanager
def blame_raw_filter(expr: str | None) -> Iterator[None]:
    """Report a plain store failure of a query with a raw filter as the caller's bad filter.

    Milvus parses the expression itself and answers a syntax error with an
    ordinary failure; retriable, connection and login failures pass unchanged.
    """
    try:
        yield
    except StoreError as e:
        if expr and expr.strip() and type(e) is StoreError:
            raise FilterError(
                f"Milvus refused the filter expression: {e.message}",
                hint="check the Milvus boolean expression syntax, or use 'where' for equality",
            ) from e
        raise


@router.post("/search", response_model=SearchResponse, responses=ERRORS, summary="Search")
def search(
    body: SearchRequest,
    ctx: ServiceContext = Depends(get_context),
    who: Principal = Depends(require("read")),
    silo: Silo = Depends(silo_for),
) -> dict[str, Any]:
    tenant = tenant_for(who, body.tenant)
    ctx.limits.check_text(body.query, "query")
    ctx.limits.check_k(body.k)
    check_options(ctx, silo, body.mode, body.reranker)
    started = time.perf_counter()
    query = Query.of(
        body.query,
        k=body.k,
        where=body.where,
        filter=body.filter,
        output_fields=body.output_fields,
        mode=body.mode,
        rerank=body.reranker,
        route=body.route,
        consistency_level=body.consistency_level,
        tenant=tenant,
    )
    with blame_raw_filter(body.filter):
        result = silo.retrieve(query)
    hits = []
    for hit, cluster in zip(result.hits, result.cluster_ids, strict=True):
        out = hit.to_dict()
        out["cluster_id"] = cluster if cluster >= 0 else None
        hits.append(out)
    return {
        "query": body.query,
        "k": body.k,
        "mode": result.mode,
        "reranker": result.reranker,
        "routed_to": list(result.routed_to),
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "hits": hits,
    }

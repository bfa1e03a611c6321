"""``POST /search``: dense top-k search with filters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends

from ragsilo.errors import FilterError, StoreError
from ragsilo.service.auth import Principal
from ragsilo.service.context import ServiceContext, get_context, require, silo_for
from ragsilo.service.errors import ServiceError
from ragsilo.service.schemas import ErrorResponse, SearchRequest, SearchResponse
from ragsilo.silo import Silo

router = APIRouter(tags=["search"])

MODES = ("dense",)
RERANKERS = ("none",)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 502, 503)
}


def check_options(mode: str, reranker: str | None) -> None:
    """Refuse, with the choices there are, options this version does not have."""
    if mode not in MODES:
        raise ServiceError(
            400,
            "unsupported_mode",
            f"search mode {mode!r} is not available; available modes: {', '.join(MODES)}",
        )
    if reranker is not None and reranker not in RERANKERS:
        raise ServiceError(
            400,
            "unsupported_reranker",
            f"reranker {reranker!r} is not available; available: {', '.join(RERANKERS)} "
            "(or leave it out)",
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
    _: Principal = Depends(require("read")),
    silo: Silo = Depends(silo_for),
) -> dict[str, Any]:
    ctx.limits.check_text(body.query, "query")
    ctx.limits.check_k(body.k)
    check_options(body.mode, body.reranker)
    started = time.perf_counter()
    with blame_raw_filter(body.filter):
        hits = silo.search(
            body.query,
            k=body.k,
            where=body.where,
            filter=body.filter,
            output_fields=body.output_fields,
            consistency_level=body.consistency_level,
            tenant=body.tenant,
        )
    return {
        "query": body.query,
        "k": body.k,
        "mode": body.mode,
        "reranker": None,
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "hits": [h.to_dict() for h in hits],
    }

"""Liveness, readiness, metrics and the service's options (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ragsilo import __version__
from ragsilo.errors import RagsiloError, StoreError
from ragsilo.service.context import ServiceContext, get_context
from ragsilo.service.routes.search import offered_modes, offered_rerankers
from ragsilo.service.schemas import HealthResponse, OptionsResponse, ReadyResponse

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthResponse, summary="The process is alive")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/ready",
    response_model=ReadyResponse,
    summary="Milvus is reachable and the collection is loaded",
    responses={503: {"model": ReadyResponse, "description": "Not ready, and why"}},
)
def ready(ctx: ServiceContext = Depends(get_context)) -> JSONResponse:
    name = ctx.settings.collection.name
    try:
        ctx.prepare()
        silo = ctx.main_silo()
        silo.store.ensure_loaded(silo.collection)
        info = silo.info
    except RagsiloError as e:
        if isinstance(e, StoreError):
            ctx.metrics.milvus_error(e.code)
        body = {"ready": False, "collection": name, "error": e.code, "message": str(e)}
        return JSONResponse(body, status_code=503)
    milvus = {"kind": info.kind, "version": info.version}
    return JSONResponse({"ready": True, "collection": name, "milvus": milvus})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(ctx: ServiceContext = Depends(get_context)) -> Response:
    body = await run_in_threadpool(ctx.metrics.render)
    return Response(body, media_type=ctx.metrics.content_type)


@router.get("/options", response_model=OptionsResponse, summary="What this service offers")
def options(ctx: ServiceContext = Depends(get_context)) -> dict[str, object]:
    limits = ctx.limits
    try:
        silo = ctx.main_silo()
    except RagsiloError:
        silo = None  # Milvus unreachable: offer what every Milvus has
    r = ctx.settings.retrieval
    return {
        "modes": offered_modes(silo),
        "rerankers": offered_rerankers(ctx),
        "default_mode": r.mode,
        "default_reranker": r.rerank,
        "answer_mode": "llm" if ctx.settings.llm.configured else "extractive",
        "auth_required": ctx.auth.enabled,
        "limits": {
            "max_k": limits.max_k,
            "max_query_chars": limits.max_query_chars,
            "max_files": limits.max_files,
            "max_upload_mb": ctx.service.max_upload_mb,
            "max_body_mb": ctx.service.max_body_mb,
        },
    }

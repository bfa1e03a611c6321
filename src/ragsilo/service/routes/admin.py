"""Collections, statistics and the effective settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ragsilo.service.auth import Principal
from ragsilo.service.context import ServiceContext, get_context, require, silo_for
from ragsilo.service.routes.search import ERRORS
from ragsilo.service.schemas import CollectionsResponse
from ragsilo.silo import Silo

router = APIRouter(tags=["collections"])


@router.get(
    "/collections",
    response_model=CollectionsResponse,
    responses=ERRORS,
    summary="The collections in the Milvus database",
)
def collections(
    _: Principal = Depends(require("read")), silo: Silo = Depends(silo_for)
) -> dict[str, Any]:
    return {"collections": silo.collections(), "current": silo.collection}


@router.get("/stats", responses=ERRORS, summary="Size, index and load state of the collection")
def stats(
    _: Principal = Depends(require("read")), silo: Silo = Depends(silo_for)
) -> dict[str, Any]:
    return {**silo.stats().to_dict(), "server": silo.info.to_dict()}


@router.get("/settings", responses=ERRORS, summary="The effective settings, secrets masked (admin)")
def settings(
    ctx: ServiceContext = Depends(get_context), _: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    return ctx.settings.redacted()

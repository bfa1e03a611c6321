"""The FastAPI app: a thin HTTP layer over :class:`ragsilo.Silo`.

>>> from ragsilo.service.app import create_app
>>> app = create_app(load_settings("ragsilo.yaml"))        # doctest: +SKIP

Routes: ``/health``, ``/ready``, ``/metrics``, ``/options`` (open);
``/search``, ``/ask``, ``/collections``, ``/stats`` (role ``read``);
``/ingest`` (role ``write``); ``/settings`` (role ``admin``); the web page at
``/``; the OpenAPI schema at ``/openapi.json`` and its docs at ``/docs`` (Swagger UI) and
``/redoc``, with their scripts served from here (``/docs/static``), so they work offline.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ragsilo import __version__
from ragsilo.errors import ConfigError, ConnectionFailedError, RetriableStoreError
from ragsilo.service.auth import ApiKeyAuth, KeyFile
from ragsilo.service.context import MILVUS_TOKEN_HEADER, LoginSilos, ServiceContext
from ragsilo.service.errors import install_error_handlers
from ragsilo.service.limits import BodySizeLimit, ServiceLimits
from ragsilo.service.metrics import ServiceMetrics
from ragsilo.service.middleware import REQUEST_ID_HEADER, ApiKeyGate, RequestContextMiddleware
from ragsilo.service.routes import admin, ask, health, ingest, search, web
from ragsilo.settings import Settings
from ragsilo.silo import Silo

log = logging.getLogger("ragsilo.service")

DESCRIPTION = f"""\
Search, ingest and question answering over a ragsilo collection in Milvus.

**API keys.** When the service requires keys, send one as
`Authorization: Bearer <key>` or `X-API-Key: <key>`. Roles: `read` (search,
ask, collections, stats), `write` (ingest), `admin` (settings). A missing or
wrong key answers 401, a key without the role 403.

**Errors** are JSON: `{{"error": code, "message": text}}`.

**Request ids.** Send `{REQUEST_ID_HEADER}` to choose one; every response
carries it, and so does every log line written for the request.

**Milvus logins.** With `service.milvus_passthrough` on, a request may carry
`{MILVUS_TOKEN_HEADER}: user:password`; it is then served with that Milvus login.
"""


def create_app(settings: Settings, silo: Silo | None = None) -> FastAPI:
    """The app for ``settings``; serves ``silo`` when given (its owner closes it),
    else opens one at start-up and closes it at shutdown."""
    service = settings.service
    if service.milvus_passthrough and settings.milvus.is_lite:
        raise ConfigError(
            "service.milvus_passthrough needs a Milvus server: Milvus Lite has no logins",
            hint="turn it off, or set milvus.uri to http://host:19530",
        )
    metrics = ServiceMetrics()
    ctx = ServiceContext(
        settings=settings,
        service=service,
        metrics=metrics,
        auth=ApiKeyAuth(KeyFile(service.api_keys_file), require=service.require_api_key),
        limits=ServiceLimits.from_settings(service),
        silo=silo,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(ctx.main_silo)
        except (ConnectionFailedError, RetriableStoreError) as e:
            # Serve /health and let /ready say why; requests retry the connection.
            log.error("Milvus is not reachable at start-up: %s", e)
        if ctx.silo is not None:
            if service.milvus_passthrough:
                ctx.logins = LoginSilos(ctx.silo)
            await run_in_threadpool(ctx.prepare_quietly)
        log.info(
            "ragsilo service ready for collection %s (answers: %s, API keys %s)",
            settings.collection.name,
            "llm" if settings.llm.configured else "extractive",
            "required" if ctx.auth.enabled else "off",
        )
        try:
            yield
        finally:
            await run_in_threadpool(ctx.close)

    app = FastAPI(
        title="ragsilo",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    _install_docs(app)
    app.state.ctx = ctx
    install_error_handlers(app, metrics)
    for module in (health, search, ask, ingest, admin, web):
        app.include_router(module.router)
    # Added innermost first: the request context wraps everything, so even a
    # refused body is logged, counted and carries its request id.
    app.add_middleware(BodySizeLimit, max_bytes=ctx.limits.max_body_bytes)
    # the API key is checked before anything reads the body
    app.add_middleware(ApiKeyGate, auth=ctx.auth)
    if service.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=service.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics, collection=settings.collection.name
    )
    return app


# Swagger UI and ReDoc come from the ``fastapi-offline`` package (part of the ``http`` extra),
# served by the app itself: no CDN, so /docs works on a machine without internet access.
DOCS_STATIC = "/docs/static"
_DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}


def _docs_asset(name: str) -> bytes | None:
    from importlib import resources

    try:
        return (resources.files("fastapi_offline") / "static" / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return None


def _install_docs(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and their assets under ``/docs/static``, all from this server."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    from ragsilo.service.errors import ServiceError

    if _docs_asset("swagger-ui-bundle.js") is None:
        log.warning(
            "fastapi-offline is not installed: /docs and /redoc are off "
            '(pip install "ragsilo[http]"); /openapi.json still works'
        )
        return
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title="ragsilo API",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
            # no badge that sends the schema to validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title="ragsilo API",
            redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_STATIC}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(DOCS_STATIC + "/{name}", include_in_schema=False)
    def docs_static(name: str) -> Response:
        media_type = _DOCS_ASSETS.get(name)
        body = _docs_asset(name) if media_type is not None else None
        if media_type is None or body is None:
            raise ServiceError(404, "not_found", f"there is no {DOCS_STATIC}/{name}")
        return Response(
            body,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

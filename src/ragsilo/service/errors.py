"""Every error answer of the service is JSON: ``{"error": code, "message": text}``.

:class:`ragsilo.errors.RagsiloError` brings its own code and HTTP status;
:class:`ServiceError` covers what only the HTTP layer knows (a missing API
key, an oversized body); request validation failures answer 422 with
``invalid_request`` and the list of problems under ``details``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ragsilo.errors import RagsiloError, StoreError
from ragsilo.service.metrics import ServiceMetrics

log = logging.getLogger("ragsilo.service")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


class ServiceError(StarletteHTTPException):
    """An error of the HTTP layer, with its machine-readable ``code``."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def install_error_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Answer every expected failure with the JSON error shape."""

    async def ragsilo_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RagsiloError)
        if isinstance(exc, StoreError):
            metrics.milvus_error(exc.code)
            log.warning("milvus error: %s", exc)
        elif exc.http_status >= 500:
            log.error("%s: %s", exc.code, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = getattr(exc, "code", None) or _CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and not isinstance(exc, ServiceError):
            message = f"there is no {request.url.path}; see /docs for the API"
        elif exc.status_code == 405 and not isinstance(exc, ServiceError):
            message = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            {
                "where": ".".join(str(p) for p in e.get("loc", ())),
                "problem": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{d['where']}: {d['problem']}" for d in details[:5])
        return JSONResponse(
            error_body("invalid_request", f"the request is invalid: {summary}", details=details),
            status_code=422,
        )

    app.add_exception_handler(RagsiloError, ragsilo_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)

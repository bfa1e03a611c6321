"""Per-request bookkeeping: request id, access log, metrics, and a JSON 500 for surprises."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragsilo.service.logging import ACCESS_LOGGER, request_id_var
from ragsilo.service.metrics import ServiceMetrics

REQUEST_ID_HEADER = "X-Request-ID"
_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})

log = logging.getLogger("ragsilo.service")
access = logging.getLogger(ACCESS_LOGGER)


def _incoming_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _ID_RE.match(text) else None
    return None


def _route_label(scope: Scope) -> str:
    """The route template ("/search"), never the raw path, so label values stay few."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Gives each request an id (its ``X-Request-ID`` when sane, else a new one), echoes it
    in the response, counts and times the request, and writes one access log line.

    An exception no handler turned into a response becomes a JSON 500 here, with
    the request id, and is logged with its traceback.
    """

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, collection: str) -> None:
        self.app = app
        self.metrics = metrics
        self.collection = collection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if response_started:
                raise
            status = 500
            await _send_internal_error(send, request_id)
        finally:
            self.metrics.in_flight.dec()
            seconds = time.perf_counter() - started
            route = _route_label(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe_request(method, route, status, seconds)
            state = scope.get("state") or {}
            client = scope.get("client")
            access.log(
                logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO,
                "%s %s %d",
                method,
                scope.get("path", ""),
                status,
                extra={
                    "method": method,
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "latency_ms": round(seconds * 1000, 2),
                    "collection": self.collection,
                    "client": client[0] if client else None,
                    "api_key_id": state.get("api_key_id") if isinstance(state, dict) else None,
                },
            )
            request_id_var.reset(token)


async def _send_internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "error": "internal_error",
            "message": f"an unexpected error occurred; the service log has the details "
            f"(request id {request_id})",
        }
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

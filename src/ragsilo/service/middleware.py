"""Per-request bookkeeping: request id, access log, metrics, and a JSON 500 for surprises;
and the API key check that runs before a request body is read."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragsilo.errors import ConfigError
from ragsilo.service.auth import ApiKeyAuth, AuthFailure
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


_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented_key(scope: Scope) -> str | None:
    """The API key a request carries: ``Authorization: Bearer <key>``, else ``X-API-Key``."""
    bearer = api_key = None
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                bearer = credentials.strip()
        elif key == b"x-api-key":
            api_key = value.decode("latin-1")
    return bearer if bearer is not None else api_key


class ApiKeyGate:
    """Refuses a request with a body (POST and the like) whose API key is missing or wrong
    before anything reads that body: a 90 MB upload without a valid key costs one header
    check, not 90 MB. Each route still checks the role it needs (the verified key is
    remembered, so that second check is cheap)."""

    def __init__(self, app: ASGIApp, *, auth: ApiKeyAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in _BODYLESS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            await run_in_threadpool(
                self.auth.authenticate,
                presented_key(scope),
                "read",
                client=client[0] if client else None,
            )
        except AuthFailure as e:
            body = {"error": e.code, "message": e.message}
            await _send_json(send, e.status, body, e.headers() or {})
            return
        except ConfigError:
            pass  # a broken key file: the route's own check answers 500 and logs it
        await self.app(scope, receive, send)


async def _send_json(
    send: Send, status: int, data: dict[str, str], headers: dict[str, str]
) -> None:
    body = json.dumps(data).encode("utf-8")
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *raw,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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

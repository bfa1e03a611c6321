"""Structured logs: one JSON object a line, ready for Loki (or any log shipper).

Every line has ``timestamp`` (UTC, ISO 8601), ``level``, ``logger`` and
``message``; lines written while a request is served carry its
``request_id``; the access line of each request adds ``method``, ``route``,
``path``, ``status``, ``latency_ms``, ``collection`` and ``client``.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import IO

from ragsilo.redact import install_log_masking

#: The id of the request being served in this context (None outside requests).
request_id_var: ContextVar[str | None] = ContextVar("ragsilo_request_id", default=None)

ACCESS_LOGGER = "ragsilo.service.access"

_EXTRA_FIELDS = (
    "method",
    "route",
    "path",
    "status",
    "latency_ms",
    "collection",
    "client",
    "api_key_id",
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            out["request_id"] = request_id
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_json_logging(level: str = "info", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record, as JSON lines, to ``stream`` (standard error by default).

    Called by ``ragsilo serve`` at start-up, never on import. Returns the handler.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    install_log_masking(handler)  # a login inside a Milvus URI never reaches the log
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers go through the root handler; its access log is
    # replaced by ours, which knows the route and the request id.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # pymilvus logs each failed RPC with a traceback; the service reports errors itself.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
    # Milvus Lite's vector library reports each CPU feature it probes for.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    return handler

"""Request limits: body size, uploads, ``k``, query length, and safe upload names.

The body limit is enforced as the bytes arrive (and up front from
``Content-Length``), so an oversized request is refused without being
buffered. Upload names are reduced to a plain file name: no folders, no
``..``, no control characters, no leading dot.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragsilo.service.errors import ServiceError
from ragsilo.settings_sections import ServiceSettings

MIB = 1024 * 1024
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,=@]+", re.UNICODE)


@dataclass(frozen=True)
class ServiceLimits:
    """The limits one app enforces (from the ``service`` settings)."""

    max_body_bytes: int
    max_upload_bytes: int
    max_files: int
    max_k: int
    max_query_chars: int

    @classmethod
    def from_settings(cls, s: ServiceSettings) -> ServiceLimits:
        return cls(
            max_body_bytes=int(s.max_body_mb * MIB),
            max_upload_bytes=int(s.max_upload_mb * MIB),
            max_files=s.max_files,
            max_k=s.max_k,
            max_query_chars=s.max_query_chars,
        )

    def check_text(self, text: str, what: str) -> None:
        """A query or question: not blank, not longer than ``max_query_chars``."""
        if not text.strip():
            raise ServiceError(400, "invalid_input", f"the {what} is empty")
        if len(text) > self.max_query_chars:
            raise ServiceError(
                400,
                "invalid_input",
                f"the {what} is {len(text)} characters; the limit is {self.max_query_chars} "
                "(service.max_query_chars)",
            )

    def check_k(self, k: int) -> None:
        if not 1 <= k <= self.max_k:
            raise ServiceError(
                400, "invalid_input", f"k must be from 1 to {self.max_k} (service.max_k), not {k}"
            )

    def check_count(self, n: int, what: str) -> None:
        if n > self.max_files:
            raise ServiceError(
                413,
                "too_many_files",
                f"{n} {what} in one request; the limit is {self.max_files} (service.max_files)",
            )


def sanitize_filename(name: str | None, fallback: str = "upload") -> str:
    """A safe plain file name for an uploaded file's claimed name.

    Only the last path component is kept (``/`` and ``\\`` both separate),
    characters other than letters, digits and ``._-()+,=@`` and spaces become
    ``_``, leading dots and spaces go, and the name is cut to 120 characters
    keeping its extension. Nothing is left: ``fallback``.
    """
    raw = unicodedata.normalize("NFC", name or "")
    raw = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    base = raw.replace("\\", "/").rstrip("/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip(" ._")
    if not base or set(base) <= {"_"}:
        return fallback
    if len(base) > MAX_NAME_CHARS:
        suffix = PurePosixPath(base).suffix[:16]
        base = base[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix
    return base


class BodyTooLarge(ServiceError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "request_too_large",
            f"the request body is over the {limit / MIB:.3g} MB limit (service.max_body_mb)",
        )


class BodySizeLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes``.

    A ``Content-Length`` over the limit is answered 413 before reading; a body
    that turns out longer while streaming raises :class:`BodyTooLarge` (an
    HTTP 413 error) into the app that reads it.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await _send_too_large(send, self.max_bytes)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


async def _send_too_large(send: Send, limit: int) -> None:
    err = BodyTooLarge(limit)
    body = json.dumps({"error": err.code, "message": err.message}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Request limits: body size, uploads, ``k``, query length, and safe upload names.

The body limit is enforced as the bytes arrive (and up front from
``Content-Length``), so an oversized request is refused without being
buffered. Upload names keep their relative folders (``a/notes.txt`` and
``b/notes.txt`` are two documents), each part made safe: no control
characters, no leading dots, no absolute paths; a name with a ``..`` part is
refused. What each file costs to read is bounded by the ``parsing`` budgets
the parsers enforce, the same for uploads as for files on disk.
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
MAX_PATH_CHARS = 255
MAX_PATH_PARTS = 16
_UNSAFE = re.compile(r"[^\w.\- ()+,=@]+", re.UNICODE)
_DRIVE = re.compile(r"^[A-Za-z]:$")


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
    raw = _printable(name)
    base = raw.replace("\\", "/").rstrip("/").split("/")[-1]
    return _safe_part(base) or fallback


def sanitize_upload_path(name: str | None, fallback: str = "upload") -> str:
    """A safe relative path for an uploaded file's claimed name, folders kept.

    ``/`` and ``\\`` separate folders. Each part is made safe as
    :func:`sanitize_filename` makes a name (empty and ``.`` parts vanish); a
    leading ``/`` or drive letter (``C:``) is dropped, so the path is always
    relative; a file name with nothing left becomes ``fallback``. So
    ``a/notes.txt`` and ``b/notes.txt`` stay two documents, while
    ``/home/me/notes.txt`` is stored as ``home/me/notes.txt``.

    Raises:
        ServiceError: (400) the name has a ``..`` part, more than 16 parts, or
            is longer than 255 characters once made safe.
    """
    raw = _printable(name)
    parts = raw.replace("\\", "/").split("/")
    if any(part.strip() == ".." for part in parts):
        raise ServiceError(
            400,
            "invalid_input",
            f"the upload name {_shown(raw)} has a '..' part; send a relative name "
            "without '..' (such as reports/notes.txt)",
        )
    if parts and _DRIVE.match(parts[0].strip()):
        parts = parts[1:]
    folders = [safe for safe in (_safe_part(p) for p in parts[:-1]) if safe]
    path = "/".join([*folders, _safe_part(parts[-1]) or fallback])
    if len(folders) >= MAX_PATH_PARTS or len(path) > MAX_PATH_CHARS:
        raise ServiceError(
            400,
            "invalid_input",
            f"the upload name {_shown(raw)} is too long: upload names may have at most "
            f"{MAX_PATH_PARTS} parts and {MAX_PATH_CHARS} characters; send a shorter name",
        )
    return path


def _printable(name: str | None) -> str:
    """``name`` in NFC without control, format or surrogate characters."""
    raw = unicodedata.normalize("NFC", name or "")
    return "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")


def _safe_part(part: str) -> str:
    """One part of a path made safe ("" when nothing is left)."""
    safe = _UNSAFE.sub("_", part).strip(" ._")
    if not safe or set(safe) <= {"_"}:
        return ""
    if len(safe) > MAX_NAME_CHARS:
        suffix = PurePosixPath(safe).suffix[:16]
        safe = safe[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix
    return safe


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 80 else raw[:79] + "…")


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

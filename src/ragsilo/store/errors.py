"""Turning pymilvus and gRPC failures into ragsilo errors, and retrying the transient ones."""

from __future__ import annotations

import errno
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pymilvus.exceptions import MilvusException

from ragsilo.errors import (
    AuthenticationError,
    CollectionNotFoundError,
    ConnectionFailedError,
    FilterError,
    PermissionDeniedError,
    RagsiloError,
    RetriableStoreError,
    StoreError,
    StoreFullError,
)
from ragsilo.redact import mask_uri, scrub

log = logging.getLogger(__name__)

T = TypeVar("T")

# Milvus status codes (milvus/pkg/util/merr) that mean "try again later".
_RETRIABLE_CODES = {
    2,  # connect failed (legacy code)
    8,  # rate limit
    1,  # unexpected / unavailable reported by older servers; narrowed by message below
}
_RETRIABLE_WORDS = (
    "unavailable",
    "deadline exceeded",
    "rate limit",
    "too many requests",
    "connection refused",
    "not ready",
    "service not ready",
    "node not found",
    "channel not available",
    "fail to connect",
    "failed to connect",
    "server is not healthy",
    "timeout",
)
_AUTH_WORDS = ("auth", "credential", "password", "permission denied", "unauthenticated")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for retriable store errors."""

    retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(cap / 2, cap)


def translate(
    exc: BaseException, op: str, *, uri: str = "", user: str | None = None
) -> RagsiloError:
    """Map a pymilvus/gRPC exception to the matching :class:`RagsiloError`.

    ``op`` names what was being done ("search in 'docs'"); ``uri`` and
    ``user`` let authentication errors say who failed where (never a password).
    """
    if isinstance(exc, RagsiloError):
        return exc
    text = _message(exc)
    low = text.lower()
    code = getattr(exc, "code", None)
    if _is_permission_denied(exc, low):
        who = f"user {user!r}" if user else "this login"
        privilege = _privilege_named(text)
        what = f" (it needs the privilege {privilege})" if privilege else ""
        return PermissionDeniedError(
            f"{op}: {who} is not allowed to do this{what}",
            hint="log in as a user whose role grants it, or have an administrator grant it "
            "with `ragsilo roles grant`",
        )
    if code == 100 or "collection not found" in low or "can't find collection" in low:
        return CollectionNotFoundError(f"{op}: collection does not exist ({text})")
    if (
        code in (1800, 2)
        and any(w in low for w in _AUTH_WORDS)
        or "unauthenticated" in low
        or ("auth" in low and ("fail" in low or "invalid" in low))
    ):
        who = f"user {user!r}" if user else "the given credentials"
        return AuthenticationError(
            f"authentication failed for {who} at {uri}",
            hint="check milvus.token or milvus.user/password",
        )
    if is_disk_full(exc, low):
        return disk_full_error(op, text)
    if _is_filter_error(low):
        return FilterError(f"{op}: the filter expression is invalid: {text}")
    if _is_retriable(exc, code, low):
        return RetriableStoreError(f"{op}: Milvus is unavailable or busy: {text}")
    return StoreError(f"{op} failed: {text}")


# How a full disk reads: errno 28 (ENOSPC) or 122 (EDQUOT) from Milvus Lite, SQLite's
# wording, and a Milvus server's etcd or object store.
_DISK_FULL_MARKERS = (
    "no space left on device",
    "errno 28]",
    "disk quota exceeded",
    "database or disk is full",
    "database space exceeded",
    "xminiostorageful",
    "storage backend has reached its minimum free drive threshold",
)


def is_disk_full(exc: BaseException, low: str | None = None) -> bool:
    """Whether ``exc`` (or its text, lower-cased, ``low``) says the disk is full."""
    if isinstance(exc, StoreFullError):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    low = _message(exc).lower() if low is None else low
    return any(m in low for m in _DISK_FULL_MARKERS)


def disk_full_error(op: str, text: str) -> StoreFullError:
    """The one error for 'the disk under Milvus is full'."""
    return StoreFullError(
        f"{op}: the disk under Milvus is full ({text})",
        hint="free space on the disk that holds the Milvus data (or the Lite file), then run "
        "the same command again: what is already stored is kept and skipped",
    )


def _is_permission_denied(exc: BaseException, low: str) -> bool:
    grpc_code = getattr(exc, "code", None)
    if callable(grpc_code):
        try:
            if str(grpc_code().name) == "PERMISSION_DENIED":
                return True
        except Exception:  # noqa: BLE001 - a broken RpcError is still an error
            pass
    return "permission deny" in low or "permission denied" in low


def _privilege_named(text: str) -> str:
    """``'PrivilegeInsert: permission deny to bob'`` → ``'Insert'`` ('' when not named)."""
    import re

    m = re.search(r"Privilege([A-Za-z]+)", text)
    return m.group(1) if m else ""


# How Milvus Lite and the servers word a malformed boolean expression.
_FILTER_MARKERS = (
    "cannot parse expression",
    "unexpected character",
    "unexpected end of expression",
    "unterminated string",
    "unknown field",
    "list elements must be",
    "mismatched input",
    "extraneous input",
    "no viable alternative",
    "syntax error",
    "expected ')'",
    "expected ']'",
)


def _is_filter_error(low: str) -> bool:
    if any(m in low for m in _FILTER_MARKERS):
        return True
    return "expression" in low and any(w in low for w in ("invalid", "unexpected", "cannot"))


def _is_retriable(exc: BaseException, code: object, low: str) -> bool:
    grpc_code = getattr(exc, "code", None)
    if callable(grpc_code):  # grpc.RpcError
        try:
            name = str(grpc_code().name)
        except Exception:  # noqa: BLE001 - a broken RpcError is still an error
            name = ""
        return name in {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"}
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if code in _RETRIABLE_CODES and code != 1:
        return True
    return any(w in low for w in _RETRIABLE_WORDS)


def _message(exc: BaseException) -> str:
    """The text of a pymilvus/gRPC failure, with any login inside a URL masked."""
    return scrub(_raw_message(exc))


def _raw_message(exc: BaseException) -> str:
    if isinstance(exc, MilvusException):
        return str(getattr(exc, "message", "") or exc)
    details = getattr(exc, "details", None)
    if callable(details):
        try:
            return str(details())
        except Exception:  # noqa: BLE001
            pass
    return str(exc) or type(exc).__name__


def call_with_retry(
    fn: Callable[[], T],
    op: str,
    policy: RetryPolicy,
    *,
    uri: str = "",
    user: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn``; retry retriable failures with backoff; raise a translated error."""
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - everything is translated below
            err = translate(exc, op, uri=uri, user=user)
            if not err.retriable or attempt >= policy.retries:
                if err.retriable and attempt:
                    err = type(err)(f"{err.message} (gave up after {attempt + 1} attempts)")
                raise err from exc
            delay = policy.delay(attempt)
            log.warning(
                "%s: transient error, retry %d/%d in %.2fs: %s",
                op,
                attempt + 1,
                policy.retries,
                delay,
                err.message,
            )
            sleep(delay)
            attempt += 1


def connection_error(uri: str, exc: BaseException) -> ConnectionFailedError:
    """The error for 'could not connect at all' (a password in ``uri`` is masked)."""
    return ConnectionFailedError(
        f"cannot connect to Milvus at {mask_uri(uri)}: {_message(exc)}",
        hint="is the server running and the URI right? `ragsilo doctor` checks the connection",
    )

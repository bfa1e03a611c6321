"""Opening a Milvus (a Lite file or a server) and classifying why it could not be opened.

:class:`MilvusConnection` is the base of :class:`~ragsilo.store.MilvusStore`:
it holds the ``MilvusClient``, the probed :class:`~ragsilo.models.ServerInfo`
and its :class:`~ragsilo.store.capabilities.Capabilities`, and runs every call
through the retry policy (:meth:`MilvusConnection._call`).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from pymilvus import MilvusClient

from ragsilo.errors import AuthenticationError, InputError, StoreError, StoreInUseError
from ragsilo.models import ServerInfo
from ragsilo.settings import MilvusSettings
from ragsilo.store.capabilities import Capabilities, capabilities_for, capabilities_of
from ragsilo.store.errors import RetryPolicy, call_with_retry, connection_error
from ragsilo.store.gate import SwapGate

log = logging.getLogger(__name__)
T = TypeVar("T")
C = TypeVar("C", bound="MilvusConnection")


class MilvusConnection:
    """A connection to one Milvus, probed for its capabilities.

    Use :meth:`connect`; the constructor does no I/O. Every call that reaches
    Milvus is retried on transient errors and raises :mod:`ragsilo.errors`
    types, never pymilvus exceptions.
    """

    def __init__(self, settings: MilvusSettings, retry: RetryPolicy | None = None) -> None:
        self._settings = settings
        self._retry = retry or RetryPolicy()
        self._client: MilvusClient | None = None
        self._info: ServerInfo | None = None
        self._caps: Capabilities | None = None
        self._gate = SwapGate()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def connect(cls: type[C], settings: MilvusSettings, retry: RetryPolicy | None = None) -> C:
        store = cls(settings, retry)
        store._open()
        return store

    def _open(self) -> None:
        s = self._settings
        kwargs: dict[str, Any] = {"uri": s.uri, "timeout": s.timeout}
        if s.is_lite:
            parent = Path(s.uri).expanduser().resolve().parent
            if not parent.is_dir():
                raise InputError(
                    f"cannot create the Milvus Lite file {s.uri!r}: "
                    f"folder {str(parent)!r} does not exist"
                )
            kwargs["uri"] = str(Path(s.uri).expanduser())
        token = s.resolved_token()
        if token:
            kwargs["token"] = token
        if s.db_name:
            kwargs["db_name"] = s.db_name
        kwargs.update(s.tls_options())
        try:
            self._client = MilvusClient(**kwargs)
            version = str(self._client.get_server_version())
        except Exception as exc:  # noqa: BLE001 - classified below
            raise self._connect_failure(exc) from None
        kind = "lite" if s.is_lite or "milvus_lite" in version else "server"
        self._info = capabilities_for(kind, version, s.display_uri)
        self._caps = capabilities_of(self._info)
        log.info("connected to Milvus %s %s at %s", kind, version, s.display_uri)

    def _connect_failure(self, exc: BaseException) -> Exception:
        s = self._settings
        if s.is_lite:
            holder = lite_file_holder(Path(s.uri).expanduser())
            if holder is not None:
                by = f" (process {holder})" if holder > 0 else ""
                return StoreInUseError(
                    f"the Milvus Lite file {s.uri!r} is in use by another process{by}",
                    hint="Milvus Lite lets one process open a file at a time: stop the other "
                    "process (a running `ragsilo serve` or ingest), use another file "
                    "(--uri other.db), or use a Milvus server (http://host:19530) to share "
                    "one collection between processes",
                )
            return StoreError(f"cannot open Milvus Lite file {s.uri!r}: {exc}")
        reachable = _tcp_reachable(s.uri)
        text = str(exc).lower()
        if reachable and (
            "illegal connection params" in text or "auth" in text or "credential" in text
        ):
            user = s.login_user
            if user is None:
                return AuthenticationError(
                    f"authentication failed at {s.display_uri}: the server requires a login",
                    hint="set milvus.token (user:password) or milvus.user and milvus.password",
                )
            return AuthenticationError(
                f"authentication failed for user {user!r} at {s.display_uri}",
                hint="check the user name and password (milvus.token or milvus.user/password)",
            )
        return connection_error(s.display_uri, exc)

    @property
    def info(self) -> ServerInfo:
        if self._info is None:
            raise StoreError("the store is not connected; call MilvusStore.connect()")
        return self._info

    @property
    def capabilities(self) -> Capabilities:
        """What this Milvus does differently from the others, by name (from :attr:`info`)."""
        if self._caps is None:
            self._caps = capabilities_of(self.info)
        return self._caps

    @property
    def client(self) -> MilvusClient:
        if self._client is None:
            raise StoreError("the store is closed")
        return self._client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def _call(self, op: str, fn: Callable[..., Any]) -> Any:
        with self._gate.call():
            return call_with_retry(
                fn, op, self._retry, uri=self._settings.display_uri, user=self._settings.login_user
            )

    def exclusive(self) -> AbstractContextManager[None]:
        """A block in which this store's calls from other threads wait (after the calls
        already under way end): for swapping one collection for another, which no search
        should see half done (see :mod:`ragsilo.store.gate`)."""
        return self._gate.exclusive()

    def call(self, op: str, fn: Callable[[MilvusClient], T]) -> T:
        """``fn(client)``, retried and with its errors translated as every store call is.

        For Milvus administration that is not part of the store seam (users and
        roles, :mod:`ragsilo.store.rbac`); ``op`` names the call in errors.
        """
        client = self.client
        result: T = self._call(op, lambda: fn(client))
        return result


def _tcp_reachable(uri: str, timeout: float = 2.0) -> bool:
    parsed = urlparse(uri)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or 19530
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def lite_file_holder(path: Path) -> int | None:
    """Whether another process holds the Milvus Lite file at ``path`` open: None when not
    (or when this cannot be told), else that process's id (0 when it cannot be found).

    Milvus Lite takes an exclusive ``flock`` on ``<file>/LOCK`` while the file is open.
    """
    lock = path / "LOCK"
    try:
        import fcntl
    except ImportError:  # Windows: Lite locks differently; say nothing rather than guess
        return None
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return _flock_owner(os.fstat(fd).st_ino)
    finally:
        os.close(fd)


def _flock_owner(inode: int) -> int:
    """The process holding an ``flock`` on the file with ``inode`` (Linux /proc/locks), or 0."""
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                # 1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].endswith(f":{inode}"):
                    return int(parts[4])
    except (OSError, ValueError):
        pass
    return 0


__all__ = ["MilvusConnection", "lite_file_holder"]

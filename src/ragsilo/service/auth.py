"""API keys with roles, stored as salted scrypt hashes in a JSON file.

A key looks like ``rs_<id>_<secret>``: the id finds the record, the secret
is checked against its hash. The file holds only the salt and the hash, so
a leaked file gives no usable key; the full key is shown once, when it is
created (``ragsilo keys create``).

Roles are ordered: ``read`` (search, ask, stats) < ``write`` (ingest) <
``admin`` (everything, including the effective settings). Keys are required
when ``service.require_api_key`` is true or the key file holds an active key.

A key may be bound to one tenant (``ragsilo keys create NAME --tenant acme``):
it then acts on that tenant only, and a request that names no tenant is that
tenant's.

A failed login costs the same whether the key id exists or not (both run the
slow hash), and a client that fails :class:`LoginLimit` times in a row is
answered 429 until the window passes, before any hash is computed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, cast

from ragsilo.errors import ConfigError, InputError, NotFoundError

Role = Literal["read", "write", "admin"]
ROLES: tuple[Role, ...] = ("read", "write", "admin")

KEY_PREFIX = "rs"
_KEY_RE = re.compile(r"^rs_([0-9a-f]{12})_([A-Za-z0-9_-]{20,128})$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_FILE_VERSION = 1
_CACHE_SIZE = 1024


@dataclass(frozen=True)
class ApiKeyRecord:
    """One stored key: never the key itself, only its salted hash."""

    id: str
    name: str
    role: Role
    salt: str
    hash: str
    kdf: str
    created_at: str
    revoked_at: str | None = None
    tenant: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, Any]:
        """The record without salt and hash, for listings."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "tenant": self.tenant,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "active": self.active,
        }


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name, role and bound tenant (``anonymous`` when keys
    are off)."""

    key_id: str | None
    name: str
    role: Role
    tenant: str | None = None

    def tenant_for(self, requested: str | None) -> str | None:
        """The tenant a request acts on: the bound tenant when the key has one (naming
        another is :class:`AuthFailure` 403), else the one requested."""
        if self.tenant is None:
            return requested
        if requested is None or requested == "" or requested == self.tenant:
            return self.tenant
        raise AuthFailure(
            403,
            "forbidden",
            f"the API key {self.key_id!r} is bound to tenant {self.tenant!r} and cannot act "
            f"on tenant {requested!r}; leave the tenant out or use a key of that tenant",
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _hash(secret: str, salt: bytes, kdf: str) -> bytes:
    name, n, r, p = kdf.split(":")
    if name != "scrypt":
        raise ConfigError(f"API key hash {kdf!r} is unknown; this version reads scrypt")
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=32, maxmem=64 << 20
    )


def role_allows(have: Role, need: Role) -> bool:
    return ROLES.index(have) >= ROLES.index(need)


class KeyFile:
    """The JSON file of API key records; written atomically, readable only by its owner."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()

    def load(self) -> list[ApiKeyRecord]:
        """The records (none when the file does not exist)."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as e:
            raise ConfigError(f"cannot read the API key file {str(self.path)!r}: {e}") from e
        try:
            data = json.loads(raw)
            records = [ApiKeyRecord(**item) for item in data["keys"]]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ConfigError(
                f"the API key file {str(self.path)!r} is not a ragsilo key file: {e}"
            ) from None
        for r in records:
            if r.role not in ROLES:
                raise ConfigError(
                    f"the API key file {str(self.path)!r} gives key {r.id!r} the unknown role "
                    f"{r.role!r}; roles are {', '.join(ROLES)}"
                )
        return records

    def _save(self, records: list[ApiKeyRecord]) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {"version": _FILE_VERSION, "keys": [asdict(r) for r in records]}, indent=2
        )
        fd, tmp = tempfile.mkstemp(prefix=".ragsilo-keys-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body + "\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def create(self, name: str, role: str, tenant: str | None = None) -> tuple[str, ApiKeyRecord]:
        """A new key: returns the full key (shown once) and its stored record. With
        ``tenant`` the key is bound to that tenant."""
        if role not in ROLES:
            raise InputError(f"role {role!r} is unknown; choose {', '.join(ROLES)}")
        if tenant is not None:
            from ragsilo.store.filters import check_tenant

            tenant = check_tenant(tenant)
        name = name.strip()
        if not name or len(name) > 100:
            raise InputError("a key needs a name of 1 to 100 characters")
        records = self.load()
        key_id = secrets.token_hex(6)
        while any(r.id == key_id for r in records):
            key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        kdf = f"scrypt:{_SCRYPT_N}:{_SCRYPT_R}:{_SCRYPT_P}"
        record = ApiKeyRecord(
            id=key_id,
            name=name,
            role=cast(Role, role),
            salt=salt.hex(),
            hash=_hash(secret, salt, kdf).hex(),
            kdf=kdf,
            created_at=_now(),
            tenant=tenant,
        )
        self._save([*records, record])
        return f"{KEY_PREFIX}_{key_id}_{secret}", record

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Mark a key revoked (it stays listed, so its history is kept)."""
        records = self.load()
        for i, r in enumerate(records):
            if r.id == key_id:
                if not r.active:
                    return r
                records[i] = replace(r, revoked_at=_now())
                self._save(records)
                return records[i]
        raise NotFoundError(f"no API key with id {key_id!r} in {str(self.path)!r}")


class AuthFailure(Exception):
    """Why a request was refused: 401 (no or bad key), 403 (key lacks the role or the
    tenant) or 429 (too many failed logins; ``retry_after`` seconds)."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        if self.status == 401:
            return {"WWW-Authenticate": "Bearer"}
        if self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        return None


@dataclass(frozen=True)
class LoginLimit:
    """At most ``failures`` failed logins per client within ``window_s`` seconds; after
    that the client's unverified keys are refused (429) until the oldest failure ages out.
    Keys already verified still pass, so one bad client behind a shared address does not
    lock out the others' working keys."""

    failures: int = 10
    window_s: float = 60.0
    max_clients: int = 10_000


class FailedLogins:
    """Failed login times per client (an address), the oldest clients forgotten first."""

    def __init__(self, limit: LoginLimit, clock: Any = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._by_client: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it may now."""
        now = self._clock()
        with self._lock:
            times = self._by_client.get(client)
            if times is None:
                return None
            while times and times[0] <= now - self.limit.window_s:
                times.popleft()
            if not times:
                del self._by_client[client]
                return None
            if len(times) < self.limit.failures:
                return None
            return max(1, int(times[0] + self.limit.window_s - now + 0.999))

    def record(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            times = self._by_client.setdefault(client, deque())
            self._by_client.move_to_end(client)
            times.append(now)
            while len(times) > self.limit.failures:
                times.popleft()
            while len(self._by_client) > self.limit.max_clients:
                self._by_client.popitem(last=False)


class ApiKeyAuth:
    """Checks presented keys against the key file, which it re-reads when it changes.

    A verified key is remembered (by a keyed digest, in memory) so the slow
    hash runs once per key, not once per request; any change to the file
    forgets them all, so a revoked key stops working at once.
    """

    def __init__(
        self, key_file: KeyFile, *, require: bool = False, limit: LoginLimit | None = None
    ) -> None:
        self.key_file = key_file
        self.require = require
        self.failed = FailedLogins(limit or LoginLimit())
        kdf = f"scrypt:{_SCRYPT_N}:{_SCRYPT_R}:{_SCRYPT_P}"
        # what an unknown or malformed key is checked against, so it costs what a known
        # key with a wrong secret costs (and says nothing about which ids exist)
        self._decoy = (secrets.token_bytes(16), secrets.token_bytes(32), kdf)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._records: dict[str, ApiKeyRecord] = {}
        self._verified: OrderedDict[bytes, str] = OrderedDict()
        self._pepper = secrets.token_bytes(32)

    def _refresh(self) -> None:
        try:
            st = self.key_file.path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = (0, 0, 0)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            self._records = {r.id: r for r in self.key_file.load()}
            self._verified.clear()
            self._stamp = stamp

    @property
    def enabled(self) -> bool:
        """Whether requests must carry a key."""
        self._refresh()
        return self.require or any(r.active for r in self._records.values())

    def authenticate(
        self, presented: str | None, need: Role, *, client: str | None = None
    ) -> Principal:
        """The caller's principal, or :class:`AuthFailure`. ``client`` (the caller's
        address) is counted against :class:`LoginLimit` when its key is wrong."""
        self._refresh()
        if not (self.require or any(r.active for r in self._records.values())):
            return Principal(None, "anonymous", "admin")
        if not presented:
            hint = "" if self._records else "; create one with: ragsilo keys create NAME"
            raise AuthFailure(
                401,
                "unauthorized",
                "this service needs an API key: send 'Authorization: Bearer <key>' or "
                f"'X-API-Key: <key>'{hint}",
            )
        presented = presented.strip()
        record = self._cached(presented)
        if record is None:
            wait = None if client is None else self.failed.retry_after(client)
            if wait is not None:
                raise AuthFailure(
                    429,
                    "too_many_failed_logins",
                    f"too many wrong API keys from this client; try again in {wait} s",
                    retry_after=wait,
                )
            record = self._verify(presented)
        if record is None:
            if client is not None:
                self.failed.record(client)
            raise AuthFailure(401, "unauthorized", "the API key is wrong or has been revoked")
        if not role_allows(record.role, need):
            raise AuthFailure(
                403,
                "forbidden",
                f"the API key {record.id!r} has the role {record.role!r}; this needs {need!r}",
            )
        return Principal(record.id, record.name, record.role, record.tenant)

    def _digest(self, presented: str) -> bytes:
        return hmac.new(self._pepper, presented.encode("utf-8", "replace"), "sha256").digest()

    def _cached(self, presented: str) -> ApiKeyRecord | None:
        """The record of a key verified before (no slow hash), else None."""
        digest = self._digest(presented)
        with self._lock:
            known = self._verified.get(digest)
            if known is not None:
                self._verified.move_to_end(digest)
        if known is None:
            return None
        record = self._records.get(known)
        return record if record is not None and record.active else None

    def _verify(self, presented: str) -> ApiKeyRecord | None:
        """Check a key not verified before: always one slow hash, whatever is wrong."""
        digest = self._digest(presented)
        m = _KEY_RE.match(presented)
        record = None if m is None else self._records.get(m.group(1))
        if m is None or record is None or not record.active:
            salt, expected, kdf = self._decoy
            secret = m.group(2) if m is not None else presented[:128]
            hmac.compare_digest(expected, _hash(secret, salt, kdf))
            return None
        expected = bytes.fromhex(record.hash)
        actual = _hash(m.group(2), bytes.fromhex(record.salt), record.kdf)
        if not hmac.compare_digest(expected, actual):
            return None
        with self._lock:
            self._verified[digest] = record.id
            while len(self._verified) > _CACHE_SIZE:
                self._verified.popitem(last=False)
        return record

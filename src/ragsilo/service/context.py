"""What the routes share: the silo, settings, limits, metrics and API keys of one app."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from ragsilo.errors import ConfigError, RagsiloError
from ragsilo.service.auth import ApiKeyAuth, AuthFailure, Principal, Role
from ragsilo.service.errors import ServiceError
from ragsilo.service.limits import ServiceLimits
from ragsilo.service.metrics import ServiceMetrics
from ragsilo.settings import Settings
from ragsilo.settings_sections import ServiceSettings
from ragsilo.silo import Silo

log = logging.getLogger("ragsilo.service")

MILVUS_TOKEN_HEADER = "X-Milvus-Token"
_MAX_LOGIN_SILOS = 16


class LoginSilos:
    """Silos opened with Milvus credentials passed through by callers, least recently used out.

    They share the main silo's embedder; each has its own Milvus connection,
    so Milvus's own access control (RBAC) decides what each caller may see.
    """

    def __init__(self, base: Silo, max_open: int = _MAX_LOGIN_SILOS) -> None:
        self._base = base
        self._max_open = max_open
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Silo] = OrderedDict()

    def get(self, token: str) -> Silo:
        key = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
        with self._lock:
            silo = self._open.get(key)
            if silo is not None:
                self._open.move_to_end(key)
                return silo
        base = self._base.settings
        milvus = base.milvus.model_copy(
            update={
                "token": SecretStr(token),
                "token_file": None,
                "user": None,
                "password": None,
                "password_file": None,
            }
        )
        silo = Silo.open(base.model_copy(update={"milvus": milvus}), embedder=self._base.embedder)
        evicted: list[Silo] = []
        with self._lock:
            existing = self._open.get(key)
            if existing is not None:  # another request opened it meanwhile
                evicted.append(silo)
                silo = existing
            else:
                self._open[key] = silo
                while len(self._open) > self._max_open:
                    evicted.append(self._open.popitem(last=False)[1])
        for old in evicted:
            old.close()
        return silo

    def close(self) -> None:
        with self._lock:
            silos, self._open = list(self._open.values()), OrderedDict()
        for s in silos:
            s.close()


@dataclass
class ServiceContext:
    """The state of one app (kept on ``app.state.ctx``; nothing is global)."""

    settings: Settings
    service: ServiceSettings
    metrics: ServiceMetrics
    auth: ApiKeyAuth
    limits: ServiceLimits
    silo: Silo | None = None
    owns_silo: bool = False
    logins: LoginSilos | None = None
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    _open_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _prepared: bool = field(default=False, init=False)

    def main_silo(self) -> Silo:
        """The service's silo, opened now if Milvus was unreachable at start-up."""
        if self.silo is None:
            with self._open_lock:
                if self.silo is None:
                    self.silo = Silo.open(self.settings)
                    self.owns_silo = True
        return self.silo

    def prepare(self) -> None:
        """Load the embedding model and make sure the collection exists and is loaded.

        The service owns its collection: creating it up front lets ``/ready``
        report a loaded collection before anything has been ingested.
        """
        if self._prepared:
            return
        silo = self.main_silo()
        silo.embedder.embed(["warm up"])
        silo._ensure_collection(create=True)
        self._prepared = True

    def prepare_quietly(self) -> None:
        """:meth:`prepare`, logging instead of raising (``/ready`` reports the problem)."""
        try:
            self.prepare()
        except RagsiloError as e:
            log.error("the service is not ready: %s", e)

    def close(self) -> None:
        if self.logins is not None:
            self.logins.close()
        if self.owns_silo and self.silo is not None:
            self.silo.close()


def get_context(request: Request) -> ServiceContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ServiceContext)
    return ctx


_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token")
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (alternative to Authorization)"
)


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers whose key has ``role`` (or more)."""

    def check(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        api_key: str | None = Depends(_api_key_header),
        ctx: ServiceContext = Depends(get_context),
    ) -> Principal:
        presented = bearer.credentials if bearer is not None else api_key
        client = request.client.host if request.client is not None else None
        try:
            principal = ctx.auth.authenticate(presented, role, client=client)
        except AuthFailure as e:
            raise ServiceError(e.status, e.code, e.message, headers=e.headers()) from None
        except ConfigError as e:
            # A broken key file is the operator's problem, not the caller's.
            log.error("cannot check API keys: %s", e)
            raise ServiceError(
                500, "server_misconfigured", "the service cannot check API keys; see its log"
            ) from None
        request.state.api_key_id = principal.key_id
        request.state.principal = principal
        return principal

    return check


def tenant_for(principal: Principal, requested: str | None) -> str | None:
    """The tenant a request acts on: a tenant-bound key's own (naming another is 403),
    else the one the request names."""
    try:
        return principal.tenant_for(requested)
    except AuthFailure as e:
        raise ServiceError(e.status, e.code, e.message) from None


def silo_for(request: Request, ctx: ServiceContext = Depends(get_context)) -> Silo:
    """The silo to serve this request with: the service's own, or one opened with the
    caller's Milvus credentials (``X-Milvus-Token``) when pass-through is on."""
    token = request.headers.get(MILVUS_TOKEN_HEADER)
    if token is None:
        return ctx.main_silo()
    if ctx.logins is None:
        raise ServiceError(
            400,
            "passthrough_disabled",
            f"this service does not pass Milvus credentials through; leave out the "
            f"{MILVUS_TOKEN_HEADER} header (or set service.milvus_passthrough)",
        )
    token = token.strip()
    if not token or len(token) > 1024:
        raise ServiceError(
            400, "invalid_input", f"{MILVUS_TOKEN_HEADER} must be 'user:password' or a token"
        )
    return ctx.logins.get(token)

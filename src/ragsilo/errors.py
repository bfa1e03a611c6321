"""The one exception tree of ragsilo.

Every error knows its machine-readable ``code``, the HTTP status a service
should answer with, the CLI exit code, and whether retrying can help::

    RagsiloError                      code=error            http=500 exit=1
    ├── ConfigError                   code=config_error     http=400 exit=2
    ├── InputError                    code=invalid_input    http=400 exit=2
    │   ├── FilterError               code=invalid_filter   http=400 exit=2
    │   ├── PolicyError               code=policy_violation http=400 exit=2
    │   └── DocumentError             code=document_error   http=422 exit=2
    │       ├── UnsupportedFormatError code=unsupported_format
    │       ├── FileTooLargeError     code=file_too_large   http=413
    │       ├── FileOverBudgetError   code=file_over_budget http=413
    │       └── ParseError            code=parse_error
    ├── MissingDependencyError        code=missing_dependency http=500 exit=3
    ├── EmbeddingError                code=embedding_error  http=500 exit=4
    │   └── DimensionMismatchError    code=dimension_mismatch http=409
    ├── StoreError                    code=store_error      http=502 exit=5
    │   ├── ConnectionFailedError     code=connection_failed http=503 (retriable)
    │   ├── AuthenticationError       code=authentication_failed http=401
    │   ├── PermissionDeniedError     code=permission_denied http=403
    │   ├── CapabilityError           code=capability_missing http=501
    │   ├── SchemaMismatchError       code=schema_mismatch  http=409
    │   ├── CollectionNotFoundError   code=collection_not_found http=404
    │   ├── StoreFullError            code=store_full       http=507
    │   ├── StoreInUseError           code=store_in_use     http=409
    │   └── RetriableStoreError       code=store_unavailable http=503 (retriable)
    ├── NotFoundError                 code=not_found        http=404 exit=6
    ├── AnswerError                   code=answer_error     http=502 exit=7
    └── RerankError                   code=rerank_error     http=500 exit=8

Messages are written for the person at the keyboard: they say what went wrong
and what to do. They never contain secrets.
"""

from __future__ import annotations


class RagsiloError(Exception):
    """Base of every error ragsilo raises on purpose."""

    code = "error"
    http_status = 500
    exit_code = 1
    retriable = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")

    def to_dict(self) -> dict[str, str]:
        """The error as a JSON-able body: ``{"error": code, "message": text}``."""
        return {"error": self.code, "message": str(self)}


class ConfigError(RagsiloError):
    """Settings are invalid or contradict each other."""

    code = "config_error"
    http_status = 400
    exit_code = 2


class InputError(RagsiloError):
    """A request or argument is malformed."""

    code = "invalid_input"
    http_status = 400
    exit_code = 2


class FilterError(InputError):
    """A metadata filter cannot be turned into a safe Milvus expression."""

    code = "invalid_filter"


class PolicyError(InputError):
    """A user name, role name or password breaks the account policy; ``rule`` names the rule."""

    code = "policy_violation"

    def __init__(self, message: str, *, rule: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.rule = rule


class DocumentError(InputError):
    """One input file could not be turned into text."""

    code = "document_error"
    http_status = 422


class UnsupportedFormatError(DocumentError):
    """The file's content is of a kind ragsilo does not read."""

    code = "unsupported_format"


class FileTooLargeError(DocumentError):
    """The file is over ``ingest.max_file_mb``."""

    code = "file_too_large"
    http_status = 413


class FileOverBudgetError(DocumentError):
    """Reading the file would cost more than a per-file budget allows (``parsing.*``).

    ``setting`` names the budget (``parsing.max_columns``); the message says
    what the file holds, the limit, and the setting to raise.
    """

    code = "file_over_budget"
    http_status = 413

    def __init__(self, message: str, *, setting: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.setting = setting


class ParseError(DocumentError):
    """The file claims a format but its bytes are corrupt or unreadable."""

    code = "parse_error"


class MissingDependencyError(RagsiloError):
    """An optional dependency is not installed; the message names the extra."""

    code = "missing_dependency"
    exit_code = 3

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the package '{package}', which is not installed",
            hint=f'install it with: pip install "ragsilo[{extra}]"',
        )
        self.package = package
        self.extra = extra


class EmbeddingError(RagsiloError):
    """The embedding model could not be loaded or failed on input."""

    code = "embedding_error"
    exit_code = 4


class DimensionMismatchError(EmbeddingError):
    """Vectors have a dimension other than the one the collection holds."""

    code = "dimension_mismatch"
    http_status = 409


class StoreError(RagsiloError):
    """Milvus refused or failed an operation."""

    code = "store_error"
    http_status = 502
    exit_code = 5


class ConnectionFailedError(StoreError):
    """Milvus could not be reached."""

    code = "connection_failed"
    http_status = 503
    retriable = True


class AuthenticationError(StoreError):
    """Milvus rejected the credentials."""

    code = "authentication_failed"
    http_status = 401


class PermissionDeniedError(StoreError):
    """The login is valid but lacks the privilege for the operation (Milvus RBAC)."""

    code = "permission_denied"
    http_status = 403


class CapabilityError(StoreError):
    """The connected Milvus lacks a feature the settings or request need."""

    code = "capability_missing"
    http_status = 501


class SchemaMismatchError(StoreError):
    """An existing collection does not match what the settings describe."""

    code = "schema_mismatch"
    http_status = 409


class CollectionNotFoundError(StoreError):
    """The collection does not exist."""

    code = "collection_not_found"
    http_status = 404


class StoreFullError(StoreError):
    """The disk under Milvus (or its Lite file) is full: no write can succeed until space is
    freed, so an ingest stops at the first one."""

    code = "store_full"
    http_status = 507


class StoreInUseError(StoreError):
    """The Milvus Lite file is open in another process (Lite allows one process a file)."""

    code = "store_in_use"
    http_status = 409


class RetriableStoreError(StoreError):
    """A transient Milvus failure (unavailable, deadline exceeded, rate limited)."""

    code = "store_unavailable"
    http_status = 503
    retriable = True


class NotFoundError(RagsiloError):
    """A named thing (file, collection, document) does not exist."""

    code = "not_found"
    http_status = 404
    exit_code = 6


class AnswerError(RagsiloError):
    """The language model behind ``ask`` could not be reached or gave no usable answer."""

    code = "answer_error"
    http_status = 502
    exit_code = 7


class RerankError(RagsiloError):
    """A reranker plugged in by the user raised, or gave back something other than the hits."""

    code = "rerank_error"
    http_status = 500
    exit_code = 8

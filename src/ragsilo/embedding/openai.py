"""Text embeddings from an OpenAI-compatible ``/v1/embeddings`` HTTP endpoint.

Works with OpenAI itself and with servers that speak the same protocol
(vLLM, text-embeddings-inference, Ollama, LocalAI, ...). Uses only the
standard library. The API key is sent as a bearer token and never appears in
logs or error messages.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from email.message import Message
from typing import Any

import numpy as np

from ragsilo.embedding._common import (
    TokenCounter,
    check_dimension,
    check_texts,
    l2_normalise,
    load_tokenizer_counter,
)
from ragsilo.errors import EmbeddingError
from ragsilo.settings import EmbeddingSettings

_ATTEMPTS = 3
_MAX_RETRY_AFTER = 30.0
_MESSAGE_LIMIT = 300


class _Retry(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIEmbedder:
    """Embeddings from ``POST {embedding.base_url}/embeddings``.

    Texts are sent in batches of ``embedding.batch_size``; each response's
    rows are put back in order by their ``index`` field and L2-normalised. A
    429, a 5xx, a timeout or a refused connection is retried up to three
    attempts in all, with exponential backoff (``backoff_seconds``, doubled
    each time; a ``Retry-After`` header is honoured up to 30 s). Other
    failures raise :class:`~ragsilo.errors.EmbeddingError` with the HTTP status
    and the server's message.

    The dimension is ``embedding.dimension`` when set (and then checked against
    every response), else learned from the first response; asking for it
    before any call sends one short request.

    ``count_tokens`` uses the MiniLM tokenizer shipped with ragsilo (or
    ``embedding.tokenizer_path``): the remote model's own tokenizer is not
    available offline, so chunk sizes are an approximation of its count.
    """

    def __init__(
        self,
        settings: EmbeddingSettings,
        *,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.base_url:
            raise EmbeddingError(
                "the openai embedding provider needs embedding.base_url (for example "
                "https://api.openai.com/v1)"
            )
        if urllib.parse.urlsplit(settings.base_url).password is not None:
            raise EmbeddingError(
                f"embedding.base_url {_without_userinfo(settings.base_url)!r} must not carry "
                "a user and password",
                hint="put the key in embedding.api_key",
            )
        self._settings = settings
        self.name = settings.model
        self._url = settings.base_url.rstrip("/") + "/embeddings"
        self._key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._lock = threading.Lock()
        self._dimension: int | None = settings.dimension
        self._counter: TokenCounter | None = None

    @property
    def dimension(self) -> int:
        """The vector length: ``embedding.dimension``, else learned from the server."""
        if self._dimension is None:
            self.embed(["dimension"])
        assert self._dimension is not None
        return self._dimension

    @property
    def token_counter(self) -> TokenCounter:
        """The approximate counter ``count_tokens`` uses; loads the tokenizer."""
        if self._counter is None:
            with self._lock:
                if self._counter is None:
                    self._counter = load_tokenizer_counter(self._settings.tokenizer_path)
        return self._counter

    @property
    def tokens_additive(self) -> bool:
        """Whether counts add up over whitespace-joined texts (see :class:`TokenCounter`)."""
        return self.token_counter.tokens_additive

    def count_tokens(self, text: str) -> int:
        """Approximate tokens in ``text`` (MiniLM tokenizer, no special tokens)."""
        return (self._counter or self.token_counter)(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array of shape ``(len(texts), dimension)``, unit rows."""
        items = check_texts(texts)
        if not items:
            return np.empty((0, self.dimension), dtype=np.float32)
        size = self._settings.batch_size
        parts = [self._embed_batch(items[i : i + size]) for i in range(0, len(items), size)]
        return l2_normalise(np.concatenate(parts, axis=0))

    # -- internals --------------------------------------------------------------

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        body = self._post({"model": self._settings.model, "input": batch})
        vectors = self._parse(body, len(batch))
        width = vectors.shape[1]
        with self._lock:
            if self._dimension is None:
                self._dimension = width
        if self._settings.dimension is not None:
            check_dimension(self._settings.dimension, width, self.name)
        elif width != self._dimension:
            raise EmbeddingError(
                f"embedding server at {self._url} returned vectors of dimension {width} "
                f"after vectors of dimension {self._dimension}"
            )
        return vectors

    def _post(self, payload: dict[str, Any]) -> Any:
        data = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        retry_after: float | None = None
        for attempt in range(_ATTEMPTS):
            if attempt:
                delay = self._backoff * (2 ** (attempt - 1))
                self._sleep(delay if retry_after is None else max(delay, retry_after))
            request = urllib.request.Request(self._url, data=data, headers=headers, method="POST")
            try:
                return self._attempt(request)
            except _Retry as e:
                last, retry_after = str(e), e.retry_after
        raise EmbeddingError(
            f"embedding request to {self._url} failed after {_ATTEMPTS} attempts: {last}",
            hint="check that the embedding server is up and not overloaded",
        )

    def _attempt(self, request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=self._settings.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            status = e.code
            message = self._scrub(_error_message(e))
            retry_after = _retry_after(e.headers)
            e.close()
            if status == 429 or status >= 500:
                raise _Retry(f"HTTP {status}: {message}", retry_after) from None
            hint = None
            if status in (401, 403):
                hint = "check embedding.api_key"
            elif status == 404:
                hint = "embedding.base_url should end in /v1 (the path before /embeddings)"
            raise EmbeddingError(
                f"embedding server at {self._url} answered HTTP {status}: {message}",
                hint=hint,
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            raise _Retry(f"cannot reach the server: {self._scrub(str(reason))}") from None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            snippet = self._scrub(raw[:_MESSAGE_LIMIT].decode("utf-8", "replace"))
            raise EmbeddingError(
                f"embedding server at {self._url} answered with something other than "
                f"JSON: {snippet!r}"
            ) from None

    def _parse(self, body: Any, expected: int) -> np.ndarray:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or len(data) != expected:
            got = len(data) if isinstance(data, list) else "no"
            raise EmbeddingError(
                f"embedding server at {self._url} returned {got} embeddings for {expected} texts"
            )
        rows: list[Any] = [None] * expected
        for position, item in enumerate(data):
            index = item.get("index", position) if isinstance(item, dict) else None
            vector = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < expected or rows[index] is not None:
                raise EmbeddingError(
                    f"embedding server at {self._url} returned a bad or repeated index {index!r}"
                )
            if not isinstance(vector, list) or not vector:
                raise EmbeddingError(
                    f"embedding server at {self._url} returned an embedding that is not a "
                    "list of floats (base64 encoding is not supported)"
                )
            rows[index] = vector
        try:
            vectors = np.asarray(rows, dtype=np.float32)
        except (ValueError, TypeError):
            raise EmbeddingError(
                f"embedding server at {self._url} returned embeddings of unequal length "
                "or with non-numbers"
            ) from None
        if vectors.ndim != 2 or not np.isfinite(vectors).all():
            raise EmbeddingError(f"embedding server at {self._url} returned malformed embeddings")
        return vectors

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _error_message(e: urllib.error.HTTPError) -> str:
    try:
        raw = e.read(64 * 1024)
    except OSError:
        raw = b""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        error = body.get("error", body.get("message", body.get("detail")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            text = error if isinstance(error, str) else json.dumps(error)
    text = " ".join(text.split()) or (e.reason if isinstance(e.reason, str) else "") or "no message"
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return min(max(float(value), 0.0), _MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=host))

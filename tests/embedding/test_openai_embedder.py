"""OpenAIEmbedder against a real HTTP server on 127.0.0.1 that speaks /v1/embeddings."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from ragsilo.embedding import OpenAIEmbedder
from ragsilo.errors import DimensionMismatchError, EmbeddingError
from ragsilo.settings import EmbeddingSettings

API_KEY = "sk-test-9f8e7d6c5b4a-very-secret"
DIMENSION = 8


def vector_for(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(b - 127.5) / 10 for b in digest[:DIMENSION]]


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class ServerState:
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[Reply] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class EmbeddingsHandler(BaseHTTPRequestHandler):
    server: Any

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        state: ServerState = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        with state.lock:
            state.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
            )
            reply = state.script.pop(0) if state.script else None
        if reply is None:
            if self.path != "/v1/embeddings":
                reply = Reply(404, {"error": {"message": f"no route {self.path}"}})
            else:
                data = [
                    {"object": "embedding", "index": i, "embedding": vector_for(text)}
                    for i, text in enumerate(body["input"])
                ]
                data.reverse()  # the protocol orders by "index", not by position
                reply = Reply(200, {"object": "list", "data": data, "model": body["model"]})
        if reply.delay:
            time.sleep(reply.delay)
        raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left is expected here


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture()
def server() -> Iterator[tuple[str, ServerState]]:
    httpd = QuietServer(("127.0.0.1", 0), EmbeddingsHandler)
    httpd.state = ServerState()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", httpd.state  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def make(base_url: str, sleeps: list[float] | None = None, **overrides: Any) -> OpenAIEmbedder:
    settings = EmbeddingSettings(
        provider="openai", model="text-embed-test", base_url=base_url, **overrides
    )
    record = sleeps if sleeps is not None else []
    return OpenAIEmbedder(settings, backoff_seconds=0.01, sleep=record.append)


def all_error_text(e: BaseException) -> str:
    return str(e) + repr(e) + "".join(traceback.format_exception(e))


def test_rows_follow_the_index_field_and_are_normalised(server) -> None:
    url, state = server
    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]
    vectors = make(url).embed(texts)
    assert vectors.shape == (5, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, np.stack([unit(vector_for(t)) for t in texts]), atol=1e-6)
    assert state.requests[0]["body"] == {"model": "text-embed-test", "input": texts}
    assert state.requests[0]["path"] == "/v1/embeddings"


def test_texts_are_sent_in_batches(server) -> None:
    url, state = server
    texts = [f"text {i}" for i in range(7)]
    vectors = make(url, batch_size=3).embed(texts)
    assert [len(r["body"]["input"]) for r in state.requests] == [3, 3, 1]
    np.testing.assert_allclose(vectors[6], unit(vector_for("text 6")), atol=1e-6)


def test_bearer_token_only_when_a_key_is_set(server) -> None:
    url, state = server
    make(url, api_key=API_KEY).embed(["x"])
    make(url.rstrip("/") + "/").embed(["x"])  # a trailing slash is fine too
    assert state.requests[0]["auth"] == f"Bearer {API_KEY}"
    assert state.requests[1]["auth"] is None


def test_a_server_error_is_retried_with_backoff(server) -> None:
    url, state = server
    state.script = [Reply(500, {"error": {"message": "boom"}}), Reply(503, "busy")]
    sleeps: list[float] = []
    vectors = make(url, sleeps).embed(["once"])
    assert len(state.requests) == 3
    assert sleeps == [0.01, 0.02]
    np.testing.assert_allclose(vectors[0], unit(vector_for("once")), atol=1e-6)


def test_rate_limit_honours_retry_after(server) -> None:
    url, state = server
    state.script = [Reply(429, {"error": "slow down"}, headers={"Retry-After": "2"})]
    sleeps: list[float] = []
    make(url, sleeps).embed(["x"])
    assert sleeps == [2.0]


def test_three_failures_give_up_with_the_status(server) -> None:
    url, state = server
    state.script = [Reply(502, {"error": {"message": "upstream gone"}})] * 3
    with pytest.raises(EmbeddingError, match=r"after 3 attempts: HTTP 502: upstream gone"):
        make(url).embed(["x"])
    assert len(state.requests) == 3


def test_a_client_error_surfaces_the_server_message_without_retry(server) -> None:
    url, state = server
    long_message = "input is too long for this model; " + "x" * 1000
    state.script = [Reply(400, {"error": {"message": long_message, "type": "invalid"}})]
    with pytest.raises(EmbeddingError) as info:
        make(url).embed(["x"])
    text = str(info.value)
    assert "HTTP 400" in text and "input is too long for this model" in text
    assert len(text) < 600  # the message is truncated
    assert len(state.requests) == 1


def test_the_api_key_never_appears_in_errors(server) -> None:
    url, state = server
    # A careless server that echoes the credentials it received.
    echo = {"error": {"message": f"rejected Authorization: Bearer {API_KEY}"}}
    state.script = [
        Reply(401, echo),
        *[Reply(500, echo)] * 3,
        Reply(200, b"not json " + API_KEY.encode()),
    ]
    errors = []
    for _ in range(3):
        with pytest.raises(EmbeddingError) as info:
            make(url, api_key=API_KEY).embed(["x"])
        errors.append(info.value)
    with pytest.raises(EmbeddingError, match="must not carry a user and password") as info:
        make(f"http://user:{API_KEY}@127.0.0.1:{free_port()}/v1")
    errors.append(info.value)
    for e in errors:
        text = all_error_text(e)
        assert API_KEY not in text
    assert "check embedding.api_key" in str(errors[0])
    assert "***" in str(errors[1])


def test_unreachable_server_is_retried_then_reported() -> None:
    sleeps: list[float] = []
    with pytest.raises(EmbeddingError, match="after 3 attempts: cannot reach the server"):
        make(f"http://127.0.0.1:{free_port()}/v1", sleeps).embed(["x"])
    assert len(sleeps) == 2


def test_a_slow_server_times_out(server) -> None:
    url, state = server
    state.script = [Reply(200, {"data": []}, delay=1.0)] * 3
    with pytest.raises(EmbeddingError, match="timed out"):
        make(url, timeout=0.2).embed(["x"])


def test_wrong_path_hints_at_the_base_url(server) -> None:
    url, _ = server
    with pytest.raises(EmbeddingError, match=r"HTTP 404.*end in /v1"):
        make(url.removesuffix("/v1")).embed(["x"])


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"index": 0, "embedding": [1.0, 2.0]}]},  # one row for two texts
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]},
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}]},
        {"data": [{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": "AAAA"}]},
        {"unexpected": True},
    ],
    ids=["count", "repeated-index", "ragged", "base64", "no-data"],
)
def test_malformed_responses_are_refused(server, body: dict[str, Any]) -> None:
    url, state = server
    state.script = [Reply(200, body)]
    with pytest.raises(EmbeddingError):
        make(url).embed(["a", "b"])


def test_dimension_is_learned_from_the_first_response(server) -> None:
    url, state = server
    embedder = make(url)
    assert embedder.dimension == DIMENSION
    assert len(state.requests) == 1
    assert embedder.embed([]).shape == (0, DIMENSION)
    assert len(state.requests) == 1


def test_configured_dimension_needs_no_request_and_is_checked(server) -> None:
    url, state = server
    embedder = make(url, dimension=16)
    assert embedder.dimension == 16
    assert embedder.embed([]).shape == (0, 16)
    assert state.requests == []
    with pytest.raises(DimensionMismatchError, match=r"dimension 8.*embedding.dimension is 16"):
        embedder.embed(["x"])


def test_count_tokens_approximates_offline() -> None:
    embedder = make("http://127.0.0.1:9/v1")
    assert embedder.count_tokens("Hello world") == 2
    assert embedder.tokens_additive


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

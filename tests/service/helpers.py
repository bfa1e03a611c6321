"""Helpers for the service tests: settings, a uvicorn server in a thread, a fake LLM server."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn
from pydantic import Field

from ragsilo.settings import Settings
from ragsilo.settings_sections import LlmSettings, ServiceSettings

START_SECONDS = 60


class _SettingsWithService(Settings):
    """Settings with the service sections, for as long as Settings itself lacks them."""

    service: ServiceSettings = Field(default_factory=ServiceSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)


def make_settings(
    uri: str,
    *,
    service: dict[str, Any] | None = None,
    llm: dict[str, Any] | None = None,
    milvus: dict[str, Any] | None = None,
    **sections: Any,
) -> Settings:
    cls = Settings if "service" in Settings.model_fields else _SettingsWithService
    return cls(
        milvus={"uri": uri, **(milvus or {})}, service=service or {}, llm=llm or {}, **sections
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningService:
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> RunningService:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the service stopped during start-up; see the log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start in {START_SECONDS} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


class FakeChatServer:
    """A tiny OpenAI-compatible chat-completions server on 127.0.0.1.

    It answers with the first sentence of source [1] followed by "[1]", so a
    test can tell that the prompt carried the hits. ``status`` makes it fail.
    """

    def __init__(self, *, status: int = 200, key: str | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = status
        self.key = key
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if self.path != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": "no such route"}})
                if outer.key and self.headers.get("Authorization") != f"Bearer {outer.key}":
                    return self._json(401, {"error": {"message": "invalid api key"}})
                if outer.status != 200:
                    return self._json(outer.status, {"error": {"message": "model overloaded"}})
                answer = outer.answer_for(body)
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for word in answer.split(" "):
                        event = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                    return None
                return self._json(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": answer},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                )

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @staticmethod
    def answer_for(body: dict[str, Any]) -> str:
        user = body["messages"][-1]["content"]
        first = user.split("[1] ", 1)[1].split("\n", 2)[1] if "[1] " in user else "no sources"
        return f"{first.split('.')[0]}. [1]"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)

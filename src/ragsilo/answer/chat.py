"""A client for OpenAI-compatible chat-completions servers, on the standard library alone.

Speaks ``POST {base_url}/chat/completions`` as OpenAI, vLLM, Ollama
(``http://localhost:11434/v1``), LocalAI and llama.cpp's server do, with or
without streaming (server-sent events). The API key goes in a bearer header
and never into messages or logs.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ragsilo.errors import AnswerError

_MESSAGE_LIMIT = 300

Message = Mapping[str, str]


class ChatCompletionsClient:
    """Calls one model on one OpenAI-compatible server.

    >>> client = ChatCompletionsClient("http://127.0.0.1:11434/v1", "llama3.2")
    >>> client.complete([{"role": "user", "content": "Say hi"}])   # doctest: +SKIP
    'Hi!'
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AnswerError(f"llm.base_url {base_url!r} is not an http:// or https:// URL")
        if parts.password is not None:
            raise AnswerError(
                "llm.base_url must not carry a user and password",
                hint="put the key in llm.api_key",
            )
        if not model:
            raise AnswerError("no model named for the chat-completions server (llm.model)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._url = self.base_url + "/chat/completions"
        self._key = api_key or ""
        self._timeout = timeout
        self._temperature = temperature
        self._max_tokens = max_tokens

    def complete(self, messages: Sequence[Message]) -> str:
        """The model's reply to ``messages``."""
        body = self._read_json(self._open(self._payload(messages, stream=False)))
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise AnswerError(
                f"the chat server at {self._url} answered without choices[0].message.content"
            ) from None
        if not isinstance(content, str) or not content.strip():
            raise AnswerError(f"the chat server at {self._url} returned an empty answer")
        return content.strip()

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """The model's reply to ``messages`` as it is written, piece by piece."""
        response = self._open(self._payload(messages, stream=True))
        try:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                    piece = event["choices"][0].get("delta", {}).get("content")
                except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
                    raise AnswerError(
                        f"the chat server at {self._url} sent a malformed stream event: "
                        f"{data[:_MESSAGE_LIMIT]!r}"
                    ) from None
                if piece:
                    yield piece
        except (OSError, http.client.HTTPException) as e:
            raise AnswerError(f"the stream from {self._url} broke off: {e}") from None
        finally:
            response.close()

    # -- internals --------------------------------------------------------------

    def _payload(self, messages: Sequence[Message], *, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "temperature": self._temperature,
            "stream": stream,
        }
        if self._max_tokens is not None:
            payload["max_tokens"] = self._max_tokens
        return payload

    def _open(self, payload: dict[str, Any]) -> http.client.HTTPResponse:
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if payload["stream"] else "application/json",
        }
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        request = urllib.request.Request(
            self._url, data=json.dumps(payload).encode("utf-8"), headers=headers, method="POST"
        )
        try:
            response: http.client.HTTPResponse = urllib.request.urlopen(  # noqa: S310
                request, timeout=self._timeout
            )
        except urllib.error.HTTPError as e:
            status, message = e.code, _error_message(e)
            e.close()
            hint = None
            if status in (401, 403):
                hint = "check llm.api_key"
            elif status == 404:
                hint = "llm.base_url should end in /v1 and llm.model must exist on the server"
            raise AnswerError(
                f"the chat server at {self._url} answered HTTP {status}: {self._scrub(message)}",
                hint=hint,
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            raise AnswerError(
                f"cannot reach the chat server at {self._url}: {self._scrub(str(reason))}",
                hint="check llm.base_url and that the server is running",
            ) from None
        return response

    def _read_json(self, response: http.client.HTTPResponse) -> Any:
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException) as e:
            raise AnswerError(f"reading the answer from {self._url} failed: {e}") from None
        finally:
            response.close()
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            snippet = self._scrub(raw[:_MESSAGE_LIMIT].decode("utf-8", "replace"))
            raise AnswerError(
                f"the chat server at {self._url} answered with something other than JSON: "
                f"{snippet!r}"
            ) from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _error_message(e: urllib.error.HTTPError) -> str:
    try:
        raw = e.read()[:4096]
    except OSError:
        return e.reason if isinstance(e.reason, str) else "no details"
    try:
        body = json.loads(raw)
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:_MESSAGE_LIMIT]
        if isinstance(err, str):
            return err[:_MESSAGE_LIMIT]
    except (UnicodeDecodeError, json.JSONDecodeError):
        pass
    return raw.decode("utf-8", "replace").strip()[:_MESSAGE_LIMIT] or str(e.reason)

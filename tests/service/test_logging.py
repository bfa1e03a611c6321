"""Structured JSON logs: one object a line, with the request id, route, status and latency."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from ragsilo.service.logging import ACCESS_LOGGER, JsonFormatter, request_id_var

from .helpers import FakeChatServer


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(ACCESS_LOGGER), logging.getLogger("ragsilo.service")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield stream
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_formatter_writes_one_json_object_per_record() -> None:
    token = request_id_var.set("abc123")
    try:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
        record.status = 200
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello you" and line["level"] == "warning"
    assert line["request_id"] == "abc123" and line["status"] == 200
    assert line["timestamp"].endswith("Z") and "T" in line["timestamp"]


@pytest.mark.service
@pytest.mark.lite
@pytest.mark.embed
def test_access_lines_carry_request_id_route_status_latency(seeded, captured) -> None:
    seeded.client.post("/search", json={"query": "lava"}, headers={"X-Request-ID": "req-7"})
    seeded.client.post("/search", json={"query": "lava", "mode": "sparse"})
    lines = [x for x in _lines(captured) if x["logger"] == ACCESS_LOGGER]
    first = next(x for x in lines if x.get("request_id") == "req-7")
    assert first["route"] == "/search" and first["status"] == 200 and first["method"] == "POST"
    assert first["latency_ms"] > 0 and first["collection"] == "ragsilo"
    assert first["client"] == "127.0.0.1" and first["level"] == "info"
    assert any(x["status"] == 400 for x in lines)


@pytest.mark.service
@pytest.mark.lite
@pytest.mark.embed
def test_error_lines_inside_a_request_carry_its_id(start_service, captured) -> None:
    with FakeChatServer(status=500) as llm:
        c = start_service(llm={"base_url": llm.url, "model": "m"}).client
        c.post("/ingest", json={"texts": ["Frogs sing after rain."]})
        r = c.post(
            "/ask", json={"question": "When do frogs sing?"}, headers={"X-Request-ID": "q-9"}
        )
    assert r.status_code == 502 and r.headers["X-Request-ID"] == "q-9"
    errors = [x for x in _lines(captured) if x["level"] == "error"]
    assert any(x.get("request_id") == "q-9" and "answer_error" in x["message"] for x in errors)

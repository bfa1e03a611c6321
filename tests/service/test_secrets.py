"""A login inside the Milvus URI never reaches a response or the log of the service."""

from __future__ import annotations

import io
import json
import logging
import socket

import httpx
import pytest

from ragsilo.service.app import create_app
from ragsilo.service.logging import configure_json_logging

from .helpers import RunningService, make_settings

pytestmark = [pytest.mark.service]

SECRET = "Pa55-w0rd"


def test_ready_stats_and_log_mask_the_uri_when_milvus_is_down(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = make_settings(
        f"http://bob:{SECRET}@127.0.0.1:{port}",
        service={"api_keys_file": str(tmp_path / "keys.json")},
        milvus={"timeout": 2},
    )
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_json_logging("info", stream)
    try:
        running = RunningService(create_app(settings)).start()
        try:
            with httpx.Client(base_url=running.url, timeout=60) as c:
                ready = c.get("/ready")
                assert ready.status_code == 503
                assert SECRET not in ready.text and "bob:***@127.0.0.1" in ready.text
                stats = c.get("/stats")
                assert stats.status_code >= 500 and SECRET not in stats.text
                shown = c.get("/settings").json()
                assert shown["milvus"]["uri"] == f"http://bob:***@127.0.0.1:{port}"
        finally:
            running.stop()
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
    log = stream.getvalue()
    assert "bob:***@" in log and SECRET not in log
    assert all(json.loads(line) for line in log.splitlines())

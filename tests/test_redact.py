"""A login inside the Milvus URI is masked wherever ragsilo shows or logs the URI."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app
from ragsilo.errors import ConnectionFailedError
from ragsilo.redact import SecretMaskFilter, mask_uri, scrub
from ragsilo.settings import MilvusSettings, load_settings
from ragsilo.store import MilvusStore

SECRET = "Pa55-w0rd"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        (f"http://bob:{SECRET}@127.0.0.1:19530", "http://bob:***@127.0.0.1:19530"),
        (f"https://bob:{SECRET}@milvus.example:443/db", "https://bob:***@milvus.example:443/db"),
        ("http://token123@h:19530", "http://***@h:19530"),
        (f"http://bob:a@{SECRET}@h:1", "http://bob:***@h:1"),
        ("http://127.0.0.1:19530", "http://127.0.0.1:19530"),
        ("./data/rag@silo.db", "./data/rag@silo.db"),
    ],
)
def test_mask_uri(uri: str, shown: str) -> None:
    assert mask_uri(uri) == shown
    assert scrub(f"cannot connect to Milvus at {uri}: refused") == (
        f"cannot connect to Milvus at {shown}: refused"
    )


def test_settings_redacted_masks_the_uri() -> None:
    s = load_settings(overrides={"milvus": {"uri": f"http://bob:{SECRET}@127.0.0.1:19530"}})
    assert s.milvus.display_uri == "http://bob:***@127.0.0.1:19530"
    assert SECRET not in json.dumps(s.redacted())
    assert s.milvus.uri.endswith(f"{SECRET}@127.0.0.1:19530")  # still used to connect


def test_connection_errors_and_logs_mask_the_uri(caplog: pytest.LogCaptureFixture) -> None:
    uri = f"http://bob:{SECRET}@127.0.0.1:{_closed_port()}"
    with pytest.raises(ConnectionFailedError) as e:
        MilvusStore.connect(MilvusSettings(uri=uri, timeout=2))
    assert SECRET not in str(e.value) and "bob:***@127.0.0.1" in str(e.value)
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "at %s", (uri,), None)
    SecretMaskFilter().filter(record)
    assert SECRET not in record.getMessage() and "bob:***@" in record.getMessage()


def test_cli_never_prints_the_uri_password(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    uri = f"http://bob:{SECRET}@127.0.0.1:{_closed_port()}"
    runner = CliRunner()
    shown = runner.invoke(app, ["--uri", uri, "config", "show"])
    assert shown.exit_code == 0 and SECRET not in shown.output and "bob:***@" in shown.output
    failed = runner.invoke(app, ["--uri", uri, "-v", "stats"])
    assert failed.exit_code != 0
    assert SECRET not in failed.output and "bob:***@" in failed.output

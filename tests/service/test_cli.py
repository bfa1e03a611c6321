"""`ragsilo serve` as a real process: it listens on 127.0.0.1, writes JSON logs and stops
cleanly on SIGTERM. The commands are mounted the way the main CLI mounts them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from .helpers import free_port

pytestmark = [pytest.mark.service, pytest.mark.lite, pytest.mark.embed]

START_SECONDS = 120

SCRIPT = textwrap.dedent(
    """
    import sys

    import typer

    sys.path.insert(0, {helpers!r})
    from helpers import make_settings

    from ragsilo.cli.serve import keys_app, serve


    class State:
        def __init__(self, uri, keys):
            self.uri, self.keys = uri, keys

        def settings(self):
            return make_settings(self.uri, service={{"api_keys_file": self.keys}})


    app = typer.Typer()


    @app.callback()
    def main(ctx: typer.Context, uri: str = typer.Option(...), keys: str = typer.Option(...)):
        ctx.obj = State(uri, keys)


    app.command()(serve)
    app.add_typer(keys_app, name="keys")
    app()
    """
)


def _script(tmp_path: Path) -> list[str]:
    path = tmp_path / "cli.py"
    path.write_text(SCRIPT.format(helpers=str(Path(__file__).parent)), encoding="utf-8")
    return [
        sys.executable,
        str(path),
        "--uri",
        str(tmp_path / "cli.db"),
        "--keys",
        str(tmp_path / "keys.json"),
    ]


def test_serve_runs_logs_json_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*_script(tmp_path), "serve", "--port", str(port)], stdout=log, stderr=log
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(url + "/ready", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "ragsilo serve did not start"
            time.sleep(0.3)
        r = httpx.post(
            url + "/search", json={"query": "anything"}, headers={"X-Request-ID": "c-1"}, timeout=60
        )
        assert r.status_code == 200 and r.headers["X-Request-ID"] == "c-1", r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise
    # uvicorn shuts down gracefully, then re-raises the signal for the parent to see
    assert code in (0, -signal.SIGTERM), log_path.read_text()
    lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
    access = [x for x in lines if x.get("request_id") == "c-1"]
    assert access and access[0]["route"] == "/search" and access[0]["status"] == 200
    assert any("ragsilo service ready" in x["message"] for x in lines)
    assert any(x["message"] == "Application shutdown complete." for x in lines)
    assert all({"timestamp", "level", "logger", "message"} <= set(x) for x in lines)


def test_serve_refuses_a_bad_port_before_starting(tmp_path: Path) -> None:
    done = subprocess.run(
        [*_script(tmp_path), "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "port" in done.stderr

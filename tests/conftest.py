"""Shared fixtures: Milvus Lite files, the real Milvus server (one per session), the embedder."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_URI = "http://127.0.0.1:19530"
SERVER_HEALTH = "http://127.0.0.1:9091/healthz"
SERVER_LOGIN = "root:Milvus"
SERVER_START_SECONDS = 90


@pytest.fixture(autouse=True, scope="session")
def _journals_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Ingest journals of server-backed silos go to ``ingest.state_dir`` (default
    ``./.ragsilo``); the tests keep them out of the working tree."""
    key = "RAGSILO_INGEST__STATE_DIR"
    before = os.environ.get(key)
    os.environ[key] = str(tmp_path_factory.mktemp("journals"))
    yield
    if before is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = before


@pytest.fixture(autouse=True, scope="session")
def _quiet_pymilvus() -> None:
    # pymilvus logs each failed RPC with a traceback; the tests check the errors themselves.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _healthy(url: str = SERVER_HEALTH) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback only
            return r.status == 200
    except OSError:
        return False


LAUNCHER = Path(__file__).resolve().parent / "milvus_launcher.py"


def free_base_port(start: int = 29000, stop: int = 39000, span: int = 12) -> int:
    """A base port with ``span`` free ports after it (for :class:`MilvusServer`)."""
    for base in range(start, stop, 100):
        if not any(_port_open(p) for p in range(base, base + span)):
            return base
    raise RuntimeError(f"no {span} free ports between {start} and {stop}")


class MilvusServer:
    """A real Milvus 2.3 standalone server (PyPI ``milvus``) with authentication on.

    By default it listens where ``milvus-server`` does (19530, health on 9091);
    with ``base_port`` it runs through ``tests/milvus_launcher.py`` on ports from
    ``base_port`` on (proxy, health, etcd client and peer, ...), so it can run
    next to another server.
    """

    def __init__(self, data_dir: Path, *, base_port: int | None = None) -> None:
        self.data_dir = data_dir
        self.base_port = base_port
        if base_port is None:
            self.port, self.health = 19530, SERVER_HEALTH
        else:
            from milvus_launcher import ports_from

            self.port = base_port
            self.health = f"http://127.0.0.1:{ports_from(base_port)['metrics']}/healthz"
        self.uri = f"http://127.0.0.1:{self.port}"
        self.token = SERVER_LOGIN
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"
        self.data: Path | None = None  # the data folder of the running server

    def start(self, attempts: int = 3) -> None:
        """Start the server; a start that panics or hangs (it happens under load) is retried."""
        exe = shutil.which("milvus-server")
        if exe is None:
            raise RuntimeError(
                'milvus-server is not installed: pip install "ragsilo[milvus-server]"'
            )
        if _port_open(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use; stop that server or set "
                "RAGSILO_TEST_MILVUS_URI"
            )
        for attempt in range(1, attempts + 1):
            data = self.data_dir / f"data-{attempt}"
            if self._start_once(exe, data):
                return
            self.stop()
        raise RuntimeError(
            f"milvus-server did not become healthy in {attempts} tries; see {self.log_path}"
        )

    def restart(self, attempts: int = 3) -> None:
        """Stop the server and start it again on the same data (what it stored survives)."""
        assert self.data is not None, "the server was never started"
        data = self.data
        self.stop()
        exe = shutil.which("milvus-server") or "milvus-server"
        for _ in range(attempts):
            if self._start_once(exe, data):
                return
            self.stop()
        raise RuntimeError(f"milvus-server did not restart; see {self.log_path}")

    def _command(self, exe: str, data: Path) -> list[str]:
        auth = "common.security.authorizationEnabled=true"
        if self.base_port is None:
            return [exe, "--data", str(data), "--extra-config", auth]
        return [sys.executable, str(LAUNCHER), str(data), str(self.base_port), auth]

    def _start_once(self, exe: str, data: Path) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data = data
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self._command(exe, data),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches the child too
        )
        stderr_log = data / "logs" / "milvus-stderr.log"
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if stderr_log.is_file() and b"panic:" in stderr_log.read_bytes():
                return False
            if _healthy(self.health) and _port_open(self.port):
                return True
            time.sleep(0.5)
        return False

    def stop(self) -> None:
        """Stop the server's process group by its PID (never by name)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # the wrapper's child (the milvus binary) shares the group; make sure it is gone
        deadline = time.monotonic() + 20
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _port_open(self.port):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """The real server: started once per session, or taken from RAGSILO_TEST_MILVUS_URI."""
    existing = os.environ.get("RAGSILO_TEST_MILVUS_URI")
    if existing:
        server = MilvusServer(tmp_path_factory.mktemp("milvus"))
        server.uri = existing
        server.token = os.environ.get("RAGSILO_TEST_MILVUS_TOKEN", SERVER_LOGIN)
        yield server
        return
    server = MilvusServer(tmp_path_factory.mktemp("milvus"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def lite_uri(tmp_path: Path) -> str:
    return str(tmp_path / "test.db")


@pytest.fixture(scope="session")
def embedder():
    """The real default embedder (all-MiniLM-L6-v2, ONNX int8), loaded once."""
    from ragsilo.embedding import create_embedder
    from ragsilo.settings import EmbeddingSettings

    e = create_embedder(EmbeddingSettings(threads=2))
    e.embed(["warm up"])
    return e


class HashEmbedder:
    """A fast stand-in embedder: each text's vector is seeded by its hash, so equal texts get
    equal vectors and different texts unrelated ones (for tests of mechanics, not meaning)."""

    name = "hash"

    def __init__(self, dimension: int = 16) -> None:
        self.dimension = dimension

    def embed(self, texts):
        import hashlib

        import numpy as np

        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode("utf-8")).digest()[:8], "little")
            v = np.random.default_rng(seed).normal(size=self.dimension)
            out.append(v / np.linalg.norm(v))
        return np.asarray(out, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()

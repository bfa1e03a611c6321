"""Nothing lost, nothing doubled: ingests interrupted by a Milvus restart or a ``kill -9``,
run again, end equal to a clean ingest (the same ids, the same count).

These run on a server of their own (``MilvusServer`` on free ports), so stopping it
never disturbs the session's shared server.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragsilo.errors import RagsiloError
from ragsilo.settings import load_settings
from ragsilo.silo import Silo

pytestmark = [pytest.mark.server]

SRC = Path(__file__).resolve().parents[2] / "src"
WORDS = [
    "river",
    "mountain",
    "lantern",
    "harbour",
    "meadow",
    "copper",
    "violin",
    "glacier",
    "orchard",
    "falcon",
    "thunder",
    "pepper",
    "marble",
    "saddle",
    "timber",
    "crystal",
    "canyon",
    "willow",
    "beacon",
    "parrot",
    "compass",
    "anchor",
    "desert",
    "hollow",
    "ember",
    "fabric",
    "garden",
    "island",
    "jungle",
    "kettle",
    "ladder",
    "mirror",
    "needle",
    "ocean",
    "pillow",
    "quarry",
    "ribbon",
    "silver",
    "tunnel",
    "velvet",
    "wagon",
    "yellow",
    "zebra",
    "basket",
    "candle",
    "dragon",
    "feather",
    "goblet",
    "hammer",
    "iris",
    "jacket",
    "koala",
    "lemon",
    "magnet",
    "nectar",
    "olive",
    "puzzle",
    "quilt",
]


@pytest.fixture(scope="module")
def fault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from conftest import MilvusServer, free_base_port

    server = MilvusServer(tmp_path_factory.mktemp("fault-milvus"), base_port=free_base_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _corpus(folder: Path, files: int, paragraphs: int = 3, seed: int = 1) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        paras = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "."
            for _ in range(paragraphs)
        ]
        (folder / f"doc{i:04d}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(paras))
    return folder


def _settings(server, collection: str, state: Path, **ingest):
    return load_settings(
        None,
        {
            "milvus": {"uri": server.uri, "token": server.token, "timeout": 10},
            "collection": {"name": collection},
            "ingest": {"state_dir": str(state), "retries": 2, "backoff_seconds": 0.2, **ingest},
            # word salad from one small vocabulary: keep every chunk, duplicates or not
            "quality": {"enabled": False},
        },
    )


def _ids(silo: Silo) -> list[str]:
    return sorted(r["id"] for r in silo.store.iter_rows(silo.collection, "", ["id"]))


def _clean_ids(server, folder: Path, state: Path, embedder) -> list[str]:
    with Silo.open(_settings(server, "fault_clean", state), embedder=embedder) as silo:
        silo.drop_collection()
        report = silo.ingest([folder])
        assert report.failed == 0
        return _ids(silo)


def test_milvus_stopped_in_the_middle_then_rerun(fault_server, tmp_path, hash_embedder) -> None:
    folder = _corpus(tmp_path / "docs", 50)
    state = tmp_path / "state"
    settings = _settings(fault_server, "fault_restart", state, queue_files=4, workers=2)
    done = threading.Event()
    stopped = threading.Event()
    outcome: dict[str, object] = {}
    seen = 0

    def progress(_res) -> None:
        nonlocal seen
        seen += 1
        if seen == 12:
            done.set()
            stopped.wait(120)  # the writer goes on only once Milvus is down

    silo = Silo.open(settings, embedder=hash_embedder)
    silo.drop_collection()

    def run() -> None:
        try:
            outcome["report"] = silo.ingest([folder], progress=progress)
        except RagsiloError as e:
            outcome["error"] = e
        finally:
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    assert done.wait(120)
    fault_server.stop()
    stopped.set()
    try:
        # the store's retries (2 × 0.2 s backoff) end it: no file is tried again on its own
        worker.join(120)
        assert not worker.is_alive()
    finally:
        fault_server.restart()  # the next test needs the server, whatever happened here
    silo.close()
    report = outcome.get("report")
    # the ingest stopped: what was not written is reported, with what to do
    assert report is not None, outcome
    unwritten = [f for f in report.failures if f.error_code == "store_unavailable"]
    assert unwritten and len(unwritten) == report.failed, report.failures
    assert report.ingested >= 12 and report.ingested + report.failed == 50

    with Silo.open(settings, embedder=hash_embedder) as silo:
        again = silo.ingest([folder])
        assert again.failed == 0 and again.ingested > 0
        assert again.ingested + again.skipped == 50
        ids = _ids(silo)
        assert silo.store.count(silo.collection) == len(ids) == len(set(ids))
        # a third run finds everything in place
        assert silo.ingest([folder]).skipped == 50
    assert ids == _clean_ids(fault_server, folder, state, hash_embedder)


def test_kill_9_of_the_ingest_process_then_rerun(fault_server, tmp_path, embedder) -> None:
    # one chunk a file; enough of them that the ingest is far from done when the watcher
    # below sees the first 30 rows (with 80, a fast machine had written them all by then)
    files = 240
    folder = _corpus(tmp_path / "docs", files, paragraphs=2, seed=2)
    state = tmp_path / "state"
    settings = _settings(fault_server, "fault_kill", state)
    with Silo.open(settings, embedder=embedder) as silo:
        silo.drop_collection()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "RAGSILO_MILVUS__TOKEN": fault_server.token,
        "RAGSILO_INGEST__STATE_DIR": str(state),
        "RAGSILO_INGEST__QUEUE_FILES": "4",
        "RAGSILO_QUALITY__ENABLED": "false",
        "RAGSILO_EMBEDDING__THREADS": "1",
        # calls of 32 (not the 256 an ingest gives the model by default): the writes are
        # spread over the run, so the kill lands between them
        "RAGSILO_EMBEDDING__BATCH_SIZE": "32",
    }
    env.pop("RAGSILO_CONFIG", None)
    cmd = [sys.executable, "-m", "ragsilo.cli.main", "--uri", fault_server.uri]
    cmd += ["--collection", "fault_kill", "ingest", str(folder), "--json"]
    proc = subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    killed_at = 0
    with Silo.open(settings, embedder=embedder) as watcher:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                killed_at = watcher.store.count("fault_kill")
            except RagsiloError:
                killed_at = 0  # not created, or not loaded yet
            if killed_at >= 30:
                break
            time.sleep(0.1)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    with Silo.open(settings, embedder=embedder) as silo:
        partial = silo.store.count("fault_kill")
        assert 0 < partial < files, partial  # killed partway
        again = silo.ingest([folder])
        assert again.failed == 0 and again.ingested > 0 and again.skipped > 0
        ids = _ids(silo)
        assert silo.store.count(silo.collection) == len(ids) == len(set(ids))
    assert ids == _clean_ids(fault_server, folder, state, embedder)

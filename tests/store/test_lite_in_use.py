"""A Milvus Lite file open in another process: a clear error that says so and what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app
from ragsilo.errors import StoreInUseError
from ragsilo.settings import MilvusSettings
from ragsilo.store import MilvusStore
from ragsilo.store.milvus import lite_file_holder

HOLD = """
import sys
from pymilvus import MilvusClient
client = MilvusClient(sys.argv[1])
print("open", flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="Milvus Lite locks with flock here")
def test_a_lite_file_in_use_says_so(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "shared.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert lite_file_holder(db) == holder.pid
        with pytest.raises(StoreInUseError) as e:
            MilvusStore.connect(MilvusSettings(uri=str(db)))
        message = str(e.value)
        assert f"is in use by another process (process {holder.pid})" in message
        assert "stop the other process" in message and "use another file" in message
        assert "Open local milvus failed" not in message
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
        out = CliRunner().invoke(app, ["--uri", str(db), "stats"])
        assert out.exit_code == 5 and "in use by another process" in out.output
        assert "Traceback" not in out.output
    finally:
        holder.communicate(input="", timeout=60)
    assert lite_file_holder(db) is None
    MilvusStore.connect(MilvusSettings(uri=str(db))).close()  # free again: it opens

"""The ingest journal on Milvus Lite: every file's state, and --retry-failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app
from ragsilo.ingest.journal import Journal, journal_path
from ragsilo.settings import load_settings

pytestmark = [pytest.mark.lite, pytest.mark.embed]


def test_journal_paths() -> None:
    lite = load_settings(None, {"milvus": {"uri": "/data/x/silo.db"}, "collection": {"name": "c"}})
    assert journal_path(lite) == Path("/data/x/silo.c.journal.sqlite")
    server = load_settings(
        None,
        {
            "milvus": {"uri": "http://10.0.0.5:19530", "db_name": "prod"},
            "ingest": {"state_dir": "/var/lib/rs"},
        },
    )
    assert journal_path(server) == Path("/var/lib/rs/10.0.0.5_19530_prod.ragsilo.journal.sqlite")


def test_retry_failed_ingests_only_the_failed_files(tmp_path: Path, make_silo) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(4):
        (docs / f"note{i}.md").write_text(
            f"# Note {i}\n\nNote number {i} is about migrating birds crossing the sea.",
            encoding="utf-8",
        )
    (docs / "broken.pdf").write_text("this is not a pdf", encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    silo = make_silo()
    first = silo.ingest([docs])
    assert (first.ingested, first.failed) == (4, 2)
    journal = silo.journal
    assert journal is not None and journal.path.is_file()
    assert journal.counts() == {"written": 4, "failed": 2}
    failed = {Path(e.source).name: e for e in silo.journal_entries("failed")}
    assert set(failed) == {"broken.pdf", "empty.txt"}
    assert failed["empty.txt"].error_code == "parse_error"

    (docs / "empty.txt").write_text("Arctic terns fly from pole to pole every year.", "utf-8")
    (docs / "note0.md").write_text("# Changed\n\nThis change must not be picked up.", "utf-8")
    retry = silo.ingest([], retry_failed=True)
    assert sorted(Path(f.path).name for f in retry.files) == ["broken.pdf", "empty.txt"]
    assert (retry.ingested, retry.failed) == (1, 1)
    assert journal.counts() == {"written": 5, "failed": 1}
    # only the failed files inside the given folder
    assert silo.ingest([tmp_path / "elsewhere"], retry_failed=True).files == ()
    hits = silo.search("arctic terns", k=1)
    assert Path(hits[0].source).name == "empty.txt"
    # the journal survives the process: a new connection reads it
    assert Journal(journal.path).failed_sources() == [str(docs / "broken.pdf")]


def test_cli_retry_failed_and_quality_commands(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["--uri", str(tmp_path / "c.db"), *args], catch_exceptions=False)

    d = tmp_path / "d"
    d.mkdir()
    (d / "good.txt").write_text("Salmon swim upstream to the rivers where they hatched.", "utf-8")
    (d / "junk.txt").write_text("#### 1234 //// 5678 ++++ 9012 ==== 3456 ---- 7890", "utf-8")
    (d / "bad.docx").write_text("not a word file", "utf-8")
    res = run("ingest", str(d), "--json")
    assert res.exit_code == 1
    body = json.loads(res.output)
    assert (body["ingested"], body["failed"], body["chunks_quarantined"]) == (2, 1, 1)
    assert set(body["stages"]) >= {"parse", "embed", "write"}

    res = run("quality", "report", "--json")
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert (rep["kept"], rep["quarantined"]) == (1, 1) and "symbols" in rep["reasons_quarantined"]
    assert "1 chunks kept, 1 quarantined" in run("quality", "report").output

    listed = json.loads(run("quarantine", "list", "--json").output)
    assert len(listed) == 1 and listed[0]["source"].endswith("junk.txt")
    assert run("quarantine", "list", "--reason", "nonsense").exit_code == 2
    res = run("quarantine", "promote", listed[0]["id"])
    assert res.exit_code == 0 and "promoted 1" in res.output
    assert run("quarantine", "promote", "no-such-id").exit_code == 6
    assert "empty" in run("quarantine", "list").output
    assert run("quarantine", "purge").exit_code == 2  # needs --yes without a terminal
    assert "purged 0" in run("quarantine", "purge", "--yes").output

    res = run("ingest", "--retry-failed", "--json")
    assert res.exit_code == 1
    assert [Path(f["path"]).name for f in json.loads(res.output)["files"]] == ["bad.docx"]
    (d / "bad.docx").unlink()
    (d / "bad.docx").write_bytes(b"")
    assert run("ingest").exit_code == 2  # no paths and no --retry-failed

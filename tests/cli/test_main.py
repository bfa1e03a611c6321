"""The CLI through Typer's runner, on a Milvus Lite file, with the real embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app

pytestmark = [pytest.mark.lite, pytest.mark.embed]

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return _run


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Lite file with the bundled samples, shared by the read-only tests."""
    db = tmp_path_factory.mktemp("cli") / "samples.db"
    res = CliRunner().invoke(
        app, ["--uri", str(db), "ingest", str(SAMPLES)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    return db


def test_ingest_samples_reports_every_file(ingested: Path, run) -> None:
    res = run("--uri", str(ingested), "ingest", str(SAMPLES), "--json")
    report = json.loads(res.output)
    assert res.exit_code == 0
    assert report["skipped"] == len(list(SAMPLES.iterdir())) and report["chunks_written"] == 0


def test_search_prints_score_source_section_and_snippet(ingested: Path, run) -> None:
    res = run("--uri", str(ingested), "search", "how hot does a compost pile get", "-k", "3")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("1. 0.")
    assert "samples/" in res.output or "samples" in res.output
    assert "°C" in res.output or "Celsius" in res.output


def test_search_json_with_where_and_output_fields(ingested: Path, run) -> None:
    res = run(
        "--uri",
        str(ingested),
        "search",
        "brown materials rich in carbon",
        "--where",
        "mime_type=text/csv",
        "-o",
        "file_sha256",
        "--json",
        "-k",
        "4",
    )
    hits = json.loads(res.output)
    assert res.exit_code == 0 and 1 <= len(hits) <= 4
    assert all(h["source"].endswith(".csv") and len(h["fields"]["file_sha256"]) == 64 for h in hits)


def test_search_pdf_hit_has_a_page(ingested: Path, run) -> None:
    res = run(
        "--uri",
        str(ingested),
        "search",
        "pile smells of ammonia",
        "--json",
        "--where",
        "mime_type=application/pdf",
        "-k",
        "1",
    )
    hit = json.loads(res.output)[0]
    assert hit["page"] >= 1


def test_stats_and_collections(ingested: Path, run) -> None:
    res = run("--uri", str(ingested), "stats", "--json")
    stats = json.loads(res.output)
    assert stats["documents"] == len(list(SAMPLES.iterdir())) and stats["rows"] > 20
    assert stats["dimension"] == 384 and stats["server"]["kind"] == "lite"
    res = run("--uri", str(ingested), "collections", "list")
    assert res.output.split() == ["ragsilo"]


def test_drop_needs_confirmation(tmp_path: Path, run) -> None:
    db = str(tmp_path / "d.db")
    f = tmp_path / "a.txt"
    f.write_text("Some text about rivers and deltas.", encoding="utf-8")
    assert run("--uri", db, "--collection", "tmp_c", "ingest", str(f)).exit_code == 0
    res = run("--uri", db, "collections", "drop", "tmp_c")
    assert res.exit_code == 2 and "--yes" in res.output
    assert run("--uri", db, "collections", "drop", "tmp_c", "--yes").exit_code == 0
    res = run("--uri", db, "collections", "drop", "tmp_c", "--yes")
    assert res.exit_code == 6 and "does not exist" in res.output


def test_doctor_round_trip_on_lite(tmp_path: Path, run) -> None:
    res = run("--uri", str(tmp_path / "doc.db"), "doctor", "--json")
    report = json.loads(res.output)
    assert res.exit_code == 0 and report["ok"]
    names = [s["name"] for s in report["steps"]]
    assert names == [
        "create collection",
        "insert",
        "flush",
        "load",
        "search",
        "count",
        "drop collection",
    ]
    assert report["server"]["kind"] == "lite"


def test_init_writes_a_valid_config_and_refuses_to_overwrite(tmp_path: Path, run) -> None:
    assert run("init").exit_code == 0
    assert (tmp_path / "ragsilo.yaml").is_file()
    res = run("init")
    assert res.exit_code == 2 and "--force" in res.output
    assert run("stats").exit_code == 5  # the config is picked up; nothing ingested yet


def test_errors_are_one_line_with_exit_codes(tmp_path: Path, run) -> None:
    res = run("--uri", str(tmp_path / "none.db"), "search", "anything")
    assert res.exit_code == 5 and res.output.startswith(
        "error: collection 'ragsilo' does not exist"
    )
    assert "Traceback" not in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("chunking:\n  size: 5\n", encoding="utf-8")
    res = run("--config", str(bad), "stats")
    assert res.exit_code == 2 and "chunking.size" in res.output
    res = run("--uri", str(tmp_path / "x.db"), "search", "q", "--where", "vector=1")
    assert res.exit_code == 2 and "cannot filter on 'vector'" in res.output
    res = run("--uri", "ftp://nowhere", "stats")
    assert res.exit_code == 2 and "milvus.uri" in res.output


def test_ingest_failure_sets_exit_code_1(tmp_path: Path, run) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    res = run("--uri", str(tmp_path / "e.db"), "ingest", str(tmp_path / "empty.txt"))
    assert res.exit_code == 1 and "failed" in res.output and "empty" in res.output


def test_env_vars_configure_the_cli(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGSILO_MILVUS__URI", str(tmp_path / "env.db"))
    monkeypatch.setenv("RAGSILO_COLLECTION__NAME", "from_env")
    f = tmp_path / "n.md"
    f.write_text("# Note\n\nPenguins live in the southern hemisphere.", encoding="utf-8")
    assert run("ingest", str(f)).exit_code == 0
    assert run("collections", "list").output.split() == ["from_env"]

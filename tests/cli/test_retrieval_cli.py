"""search --mode/--rerank/--route/--group, recluster, clusters and eval through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app

pytestmark = [pytest.mark.lite, pytest.mark.embed]

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The samples, ingested and clustered once for this module."""
    path = str(tmp_path_factory.mktemp("cli-retrieval") / "r.db")
    runner = CliRunner()
    res = runner.invoke(app, ["--uri", path, "ingest", str(SAMPLES)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["--uri", path, "recluster", "-k", "6", "--json"], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["k"] == 6 and report["rows"] > 20 and not report["partitioned"]
    return path


def test_recluster_rebuild_copies_the_collection_afresh(db: str) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["--uri", db, "recluster", "-k", "6"], catch_exceptions=False)
    assert res.exit_code == 0 and "0 chunks updated in place" in res.output, res.output
    res = runner.invoke(
        app, ["--uri", db, "recluster", "-k", "6", "--rebuild"], catch_exceptions=False
    )
    assert res.exit_code == 0 and "chunks rebuilt" in res.output, res.output


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_search_modes(db: str, run, mode: str) -> None:
    res = run(
        "--uri",
        db,
        "search",
        "how hot should a compost pile get",
        "--mode",
        mode,
        "--json",
        "-k",
        "3",
    )
    assert res.exit_code == 0, res.output
    hits = json.loads(res.output)
    assert len(hits) == 3 and "compost" in hits[0]["text"].lower()


def test_rerank_route_and_group(db: str, run) -> None:
    res = run(
        "--uri",
        db,
        "search",
        "worms eat kitchen scraps",
        "--rerank",
        "cluster_size",
        "--route",
        "2",
        "--json",
        "-o",
        "cluster_id",
    )
    assert res.exit_code == 0, res.output
    assert all(h["fields"]["cluster_id"] >= 0 for h in json.loads(res.output))
    res = run("--uri", db, "search", "worms eat kitchen scraps", "--group", "-k", "6")
    assert res.exit_code == 0 and res.output.startswith("cluster ") and "best rank 1" in res.output
    groups = json.loads(run("--uri", db, "search", "worms", "--group", "--json", "-k", "6").output)
    assert sum(len(g["hits"]) for g in groups) == 6 and groups[0]["rank"] == 1


def test_clusters_lists_sizes_keywords_and_representatives(db: str, run) -> None:
    res = run("--uri", db, "clusters", "--json", "--samples", "1")
    assert res.exit_code == 0, res.output
    clusters = json.loads(res.output)
    assert len(clusters) == 6 and all(
        c["keywords"] and len(c["representatives"]) == 1 for c in clusters
    )
    text = run("--uri", db, "clusters", "--top", "2").output
    assert text.startswith("cluster ") and "4 smaller clusters not shown" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "q", "--mode", "fuzzy"), "search mode 'fuzzy' is unknown"),
        (("search", "q", "--rerank", "nope"), "reranker 'nope' is unknown"),
        (("search", "q", "--rerank", "custom:tests.rerank.plugins:wrong_shape"), "returned str"),
        (("recluster", "-k", "100000"), "is larger than the number of chunks"),
        (("clusters", "--top", "-1"), "--top must be 0 or more"),
    ],
)
def test_bad_input_is_one_line_with_an_exit_code(db: str, run, args, message: str) -> None:
    res = run("--uri", db, *args)
    assert res.exit_code in (2, 8), res.output
    assert message in res.output and "Traceback" not in res.output
    stats = json.loads(run("--uri", db, "stats", "--json").output)
    assert stats["rows"] > 20  # nothing stored was touched


def test_clusters_before_any_recluster(tmp_path: Path, run) -> None:
    f = tmp_path / "a.txt"
    f.write_text("A short note about otters.", encoding="utf-8")
    db = str(tmp_path / "n.db")
    assert run("--uri", db, "ingest", str(f)).exit_code == 0
    res = run("--uri", db, "clusters")
    assert res.exit_code == 6 and "no clusters yet" in res.output
    res = run("--uri", db, "search", "otters", "--route", "1")
    assert res.exit_code == 2 and "recluster" in res.output


def test_eval_prints_a_table_and_json(tmp_path: Path, run) -> None:
    from tests.eval.conftest import TINY_DOCS, TINY_QRELS, TINY_QUERIES, write_beir

    data = write_beir(tmp_path / "tiny", TINY_DOCS, TINY_QUERIES, TINY_QRELS)
    db = str(tmp_path / "e.db")
    res = run(
        "--uri",
        db,
        "eval",
        str(data),
        "--mode",
        "dense",
        "--mode",
        "hybrid",
        "--rerank",
        "none",
        "--rerank",
        "mmr",
        "--json",
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["collection"] == "eval_tiny" and report["documents"] == 5
    rows = {(r["mode"], r["rerank"]): r for r in report["results"]}
    assert set(rows) == {("dense", "none"), ("dense", "mmr"), ("hybrid", "none"), ("hybrid", "mmr")}
    assert rows[("hybrid", "none")]["ndcg@10"] > 0.9 and rows[("dense", "none")]["mrr@10"] > 0.9
    table = run("--uri", db, "eval", str(data), "--mode", "bm25")
    assert table.exit_code == 0 and "nDCG@10" in table.output and "bm25" in table.output
    assert "0 written this run" in table.output  # the corpus was not ingested again
    assert "each search asks for 300 chunks" in table.output  # what the latencies are for
    assert report["search_k"] == 300
    res = run("--uri", db, "eval", str(tmp_path / "missing"))
    assert res.exit_code == 2 and "does not exist" in res.output

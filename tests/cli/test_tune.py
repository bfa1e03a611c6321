"""``ragsilo tune`` through Typer's runner: a CSV of questions against a collection whose
current settings (BM25 only) cannot answer paraphrased questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ragsilo.cli.main import app

pytestmark = [pytest.mark.lite, pytest.mark.embed]

# Each question shares no content word with its passage: BM25 finds little, dense search a lot.
PAIRS = [
    ("bees.txt", "Honey bees perform a waggle dance to share where nectar can be found.",
     "How do insects that make sweet syrup tell hive mates about food locations?"),
    ("volcano.txt", "Volcanoes erupt when molten rock rises through cracks in the crust.",
     "What makes a mountain spew lava?"),
    ("glacier.txt", "Glaciers are slow rivers of ice that carve deep valleys.",
     "How do frozen masses shape mountain landscapes?"),
    ("tea.txt", "Green tea leaves are steamed soon after picking to stop oxidation.",
     "Why is a beverage plant heated right after harvest?"),
    ("penguin.txt", "Emperor penguins breed on sea ice during the Antarctic winter.",
     "Where do large flightless birds of the south pole raise chicks?"),
    ("bread.txt", "Sourdough bread rises thanks to wild yeast and lactic acid bacteria.",
     "What microbes make a tangy loaf puff up?"),
    ("lightning.txt", "Lightning is a sudden electrostatic discharge during a thunderstorm.",
     "What causes bright flashes in stormy skies?"),
    ("vaccine.txt", "Vaccines train the immune system to recognise a pathogen.",
     "How do shots teach the body to fight germs?"),
    ("compost.txt", "Compost piles heat up as microbes break down kitchen scraps.",
     "Why does a heap of rotting food waste get warm?"),
    ("coral.txt", "Coral reefs bleach when warm water drives out their symbiotic algae.",
     "Why do undersea colonies turn white in hot oceans?"),
    ("chess.txt", "Chess openings such as the Sicilian Defence shape the middlegame.",
     "Which first moves in a board game lead to sharp positions?"),
    ("solar.txt", "Solar panels convert sunlight into electricity with photovoltaic cells.",
     "How do rooftop modules turn daylight into power?"),
]  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    docs = tmp_path / "kb"
    docs.mkdir()
    for name, text, _ in PAIRS:
        (docs / name).write_text(text + "\n", encoding="utf-8")
    (tmp_path / "ragsilo.yaml").write_text(
        "milvus:\n  uri: ./t.db\nretrieval:\n  mode: bm25\n  candidates: 20\n",
        encoding="utf-8",
    )
    (tmp_path / "questions.csv").write_text(
        "question,source\n" + "".join(f'"{q}",{name}\n' for name, _, q in PAIRS),
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(docs)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_tune_reports_gains_and_writes_only_when_asked(workspace: Path) -> None:
    before = (workspace / "ragsilo.yaml").read_text(encoding="utf-8")
    res = run("tune", "questions.csv", "--folds", "3", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["queries"] == 12 and report["folds"] == 3
    assert report["baseline"]["mode"] == "bm25" and report["written"] is None
    rec = report["recommended"]
    assert rec is not None and rec["mode"] in ("dense", "hybrid"), report
    assert report["cross_validated_gain"] > 0.2
    low, high = report["cross_validated_ci95"]
    assert 0 < low <= report["cross_validated_gain"] <= high
    dense = next(s for s in report["settings"] if s["label"] == "dense")
    assert dense["gain"] > 0 and dense["ci95"][0] <= dense["gain"] <= dense["ci95"][1]
    assert any("cluster_smooth" in s["label"] for s in report["settings"])  # needs no clusters
    assert (workspace / "ragsilo.yaml").read_text(encoding="utf-8") == before

    res = run("tune", "questions.csv", "--folds", "3", "--write")
    assert res.exit_code == 0, res.output
    assert "wrote retrieval settings to ragsilo.yaml" in res.output
    written = yaml.safe_load((workspace / "ragsilo.yaml").read_text(encoding="utf-8"))
    assert written["milvus"] == {"uri": "./t.db"}  # the rest of the file is kept
    assert written["retrieval"]["candidates"] == 20
    assert written["retrieval"]["mode"] == rec["mode"]


def test_tune_refuses_unusable_input(workspace: Path) -> None:
    (workspace / "few.csv").write_text("question,source\nWhat?,bees.txt\n", encoding="utf-8")
    res = run("tune", "few.csv")
    assert res.exit_code != 0 and "at least 10 labelled queries" in res.output
    res = run("tune", "questions.txt")
    assert res.exit_code != 0 and "neither a BEIR dataset folder nor a .csv file" in res.output
    res = run("tune", "questions.csv", "--folds", "1")
    assert res.exit_code != 0 and "--folds must be from 2" in res.output

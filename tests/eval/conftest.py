from __future__ import annotations

import json
from pathlib import Path

import pytest

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "scifact"


def write_beir(
    root: Path,
    docs: dict[str, tuple[str, str]],
    queries: dict[str, str],
    qrels: list[tuple[str, str, int]],
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "qrels").mkdir(exist_ok=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d, "title": t, "text": x}) + "\n" for d, (t, x) in docs.items()),
        encoding="utf-8",
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": x}) + "\n" for q, x in queries.items()),
        encoding="utf-8",
    )
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels),
        encoding="utf-8",
    )
    return root


TINY_DOCS = {
    "d1": ("Honey bees", "Worker bees tell each other where flowers are with a waggle dance."),
    "d2": ("Volcanoes", "Basaltic lava is runny, while rhyolitic magma is thick and explosive."),
    "d3": ("Glaciers", "Glaciers are slow rivers of ice that carve deep valleys in mountains."),
    "d4": ("Tea", "Green tea is steamed or pan-fired soon after picking to stop oxidation."),
    "d5": ("Penguins", "Emperor penguins breed in the Antarctic winter on the sea ice."),
}
TINY_QUERIES = {
    "q1": "how do bees communicate the location of food",
    "q2": "which magma is explosive",
    "q3": "where do emperor penguins breed",
}
TINY_QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q3", "d5", 1)]


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "tiny", TINY_DOCS, TINY_QUERIES, TINY_QRELS)

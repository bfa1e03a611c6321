from __future__ import annotations

from pathlib import Path

import pytest

from ragsilo.settings import load_settings
from ragsilo.silo import Silo


@pytest.fixture
def make_silo(lite_uri: str, embedder):
    """Open silos on one Milvus Lite file with the shared real embedder."""
    opened: list[Silo] = []

    def _make(**overrides) -> Silo:
        overrides.setdefault("milvus", {"uri": lite_uri})
        silo = Silo.open(load_settings(None, overrides), embedder=embedder)
        opened.append(silo)
        return silo

    yield _make
    for s in opened:
        s.close()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "bees.md").write_text(
        "# Honey bees\n\nHoney bees live in colonies with one queen and thousands of workers.\n\n"
        "## Foraging\n\nWorkers visit flowers to collect nectar and pollen, and tell each other "
        "where food is with a waggle dance.\n",
        encoding="utf-8",
    )
    (d / "volcano.txt").write_text(
        "A volcano is an opening in the crust where molten rock, ash and gases escape.\n\n"
        "Basaltic lava is runny, while rhyolitic magma is thick and explosive.\n",
        encoding="utf-8",
    )
    (d / "prices.csv").write_text(
        "item,price,colour\napple,1.20,red\nbanana,0.50,yellow\n", encoding="utf-8"
    )
    return d

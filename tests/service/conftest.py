"""Fixtures: a ragsilo service over real HTTP on 127.0.0.1, backed by Milvus Lite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragsilo.service.app import create_app
from ragsilo.silo import Silo

from .helpers import RunningService, make_settings

CORPUS = [
    (
        "Honey bees live in colonies with one queen and thousands of workers. Workers visit "
        "flowers to collect nectar and pollen. They tell each other where food is with a "
        "waggle dance.",
        {"name": "bees", "title": "Honey bees", "topic": "insects"},
    ),
    (
        "A volcano is an opening in the crust where molten rock, ash and gases escape. "
        "Basaltic lava is runny, while rhyolitic magma is thick and explosive.",
        {"name": "volcano", "title": "Volcanoes", "topic": "geology"},
    ),
    (
        "A compost pile heats up because microbes break down green and brown material. "
        "A hot pile reaches 55 to 65 degrees Celsius, which kills weed seeds. Turning the "
        "pile adds oxygen and keeps the microbes working.",
        {"name": "compost", "title": "Hot composting", "topic": "garden"},
    ),
]


class Service:
    """A started service with an HTTP client and the silo behind it."""

    def __init__(self, running: RunningService, silo: Silo, settings: Any) -> None:
        self.running = running
        self.silo = silo
        self.settings = settings
        self.url = running.url
        self.client = httpx.Client(base_url=running.url, timeout=60)

    def close(self) -> None:
        self.client.close()
        self.running.stop()
        self.silo.close()


def _start(uri: str, embedder: Any, **sections: Any) -> Service:
    settings = make_settings(uri, **sections)
    silo = Silo.open(settings, embedder=embedder)
    try:
        running = RunningService(create_app(settings, silo)).start()
    except BaseException:
        silo.close()
        raise
    return Service(running, silo, settings)


@pytest.fixture
def start_service(tmp_path: Path, embedder) -> Iterator[Callable[..., Service]]:
    """Start services on fresh Milvus Lite files (settings sections as keyword dicts)."""
    started: list[Service] = []

    def start(**sections: Any) -> Service:
        sections.setdefault("service", {})
        sections["service"].setdefault("api_keys_file", str(tmp_path / "keys.json"))
        svc = _start(str(tmp_path / f"svc{len(started)}.db"), embedder, **sections)
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Service]:
    """One service per test module, its collection holding :data:`CORPUS`."""
    folder = tmp_path_factory.mktemp("seeded")
    svc = _start(
        str(folder / "seeded.db"),
        embedder,
        service={"api_keys_file": str(folder / "keys.json")},
    )
    report = svc.silo.ingest_texts(CORPUS)
    assert report.ingested == len(CORPUS)
    yield svc
    svc.close()

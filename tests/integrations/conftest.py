"""Fixtures of the framework adapters: a silo on a Milvus Lite file per test."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragsilo import Silo

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """The frameworks' standard suites hold ``async def`` tests, which LangChain's own
    repositories run with pytest-asyncio's ``asyncio_mode = auto``; here they get the
    asyncio mark as they are collected (before pytest-asyncio looks for it), so the
    suite runs unchanged (it checks that no test of it is overridden)."""
    outcome = yield
    if not inspect.iscoroutinefunction(obj) or HERE not in Path(str(collector.path)).parents:
        return
    if not collector.config.pluginmanager.hasplugin("asyncio"):
        return  # no pytest-asyncio: pytest reports the async tests as not run
    items = outcome.get_result()
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, pytest.Function) and item.get_closest_marker("asyncio") is None:
            item.add_marker(pytest.mark.asyncio)


def open_silo(path: Path, embedder, **sections) -> Silo:
    sections.setdefault("milvus", {"uri": str(path / "adapters.db")})
    sections.setdefault("index", {"type": "FLAT"})
    return Silo.open(embedder=embedder, **sections)


@pytest.fixture
def hash_silo(tmp_path: Path, hash_embedder) -> Iterator[Silo]:
    silo = open_silo(tmp_path, hash_embedder)
    try:
        yield silo
    finally:
        silo.close()

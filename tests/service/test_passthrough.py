"""Pass-through of Milvus logins: a request may carry its own Milvus credentials."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from ragsilo.errors import ConfigError
from ragsilo.service.app import create_app
from ragsilo.silo import Silo

from .helpers import RunningService, make_settings


@pytest.mark.service
@pytest.mark.lite
@pytest.mark.embed
def test_header_is_refused_when_passthrough_is_off(seeded) -> None:
    r = seeded.client.post(
        "/search", json={"query": "bees"}, headers={"X-Milvus-Token": "root:Milvus"}
    )
    assert r.status_code == 400 and r.json()["error"] == "passthrough_disabled"


def test_passthrough_needs_a_milvus_server(tmp_path: Path) -> None:
    settings = make_settings(str(tmp_path / "x.db"), service={"milvus_passthrough": True})
    with pytest.raises(ConfigError, match="Milvus Lite has no logins"):
        create_app(settings)


@pytest.mark.service
@pytest.mark.server
@pytest.mark.embed
def test_requests_use_the_milvus_login_they_carry(milvus_server, embedder, tmp_path) -> None:
    settings = make_settings(
        milvus_server.uri,
        milvus={"token": milvus_server.token},
        collection={"name": f"svc_passthrough_{int(time.time())}"},
        service={"milvus_passthrough": True, "api_keys_file": str(tmp_path / "k.json")},
    )
    silo = Silo.open(settings, embedder=embedder)
    running = RunningService(create_app(settings, silo)).start()
    try:
        with httpx.Client(base_url=running.url, timeout=60) as c:
            ingested = c.post("/ingest", json={"texts": ["Puffins nest in burrows on cliffs."]})
            assert ingested.status_code == 200 and ingested.json()["ingested"] == 1
            own = c.post(
                "/search",
                json={"query": "where do puffins nest?", "k": 1},
                headers={"X-Milvus-Token": milvus_server.token},
            )
            assert own.status_code == 200 and "Puffins" in own.json()["hits"][0]["text"]
            user = milvus_server.token.split(":")[0]
            wrong = c.post(
                "/search",
                json={"query": "puffins"},
                headers={"X-Milvus-Token": f"{user}:not-the-password"},
            )
            assert wrong.status_code == 401 and wrong.json()["error"] == "authentication_failed"
            assert "not-the-password" not in wrong.text
    finally:
        running.stop()
        silo.drop_collection()
        silo.close()

"""Tenants over HTTP: the body field ``tenant`` on ingest, search and ask."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.service, pytest.mark.lite, pytest.mark.embed]


def test_tenants_are_kept_apart_over_http(start_service) -> None:
    svc = start_service(collection={"tenants": True})
    c = svc.client
    bees = {"text": "Honey bees dance to show where the flowers are.", "name": "bees"}
    lava = {"text": "Lava flows from the volcano down to the sea.", "name": "lava"}
    assert c.post("/ingest", json={"texts": [bees], "tenant": "acme"}).json()["ingested"] == 1
    assert c.post("/ingest", json={"texts": [lava], "tenant": "globex"}).json()["ingested"] == 1
    files = {"files": ("notes.md", b"# Notes\n\nBees make honey from nectar.", "text/markdown")}
    up = c.post("/ingest", files=files, data={"tenant": "globex"})
    assert up.status_code == 200 and up.json()["ingested"] == 1

    def sources(tenant: str, **extra) -> list[str]:
        r = c.post("/search", json={"query": "bees", "k": 10, "tenant": tenant, **extra})
        assert r.status_code == 200, r.text
        return sorted(h["source"] for h in r.json()["hits"])

    assert sources("acme") == ["text://bees"]
    assert sources("globex", consistency_level="Strong") == ["text://lava", "upload://notes.md"]
    assert sources("nobody") == []
    ask = c.post("/ask", json={"question": "what do bees do?", "tenant": "acme"})
    assert [h["source"] for h in ask.json()["citations"]] == ["text://bees"]

    missing = c.post("/search", json={"query": "bees"})
    assert missing.status_code == 400 and "multi-tenant" in missing.json()["message"]
    bad = c.post("/search", json={"query": "bees", "tenant": 'a" or "1'})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_filter"
    level = c.post("/search", json={"query": "bees", "tenant": "acme", "consistency_level": "x"})
    assert level.status_code == 422


def test_tenant_refused_where_tenants_are_off(seeded) -> None:
    r = seeded.client.post("/search", json={"query": "bees", "tenant": "acme"})
    assert r.status_code == 400 and r.json()["error"] == "config_error"
    assert "collection.tenants is off" in r.json()["message"]

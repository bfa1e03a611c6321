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


def test_a_tenant_bound_key_acts_on_its_tenant_only(start_service, tmp_path) -> None:
    from ragsilo.service.auth import KeyFile

    svc = start_service(collection={"tenants": True})
    c = svc.client
    kf = KeyFile(tmp_path / "keys.json")
    acme_writer, _ = kf.create("acme app", "write", tenant="acme")
    acme_reader, _ = kf.create("acme search", "read", tenant="acme")
    admin, _ = kf.create("ops", "admin")
    as_acme_w = {"Authorization": f"Bearer {acme_writer}"}
    as_acme = {"Authorization": f"Bearer {acme_reader}"}
    as_admin = {"Authorization": f"Bearer {admin}"}
    secret = {"text": "Globex plans a merger with Initech next spring.", "name": "merger"}
    public = {"text": "Acme sells anvils and rockets to coyotes.", "name": "anvils"}
    r = c.post("/ingest", json={"texts": [secret], "tenant": "globex"}, headers=as_admin)
    assert r.status_code == 200 and r.json()["ingested"] == 1
    # omitting the tenant uses the bound one
    r = c.post("/ingest", json={"texts": [public]}, headers=as_acme_w)
    assert r.status_code == 200 and r.json()["ingested"] == 1

    def search(headers, **body):
        return c.post("/search", json={"query": "merger plan", "k": 10, **body}, headers=headers)

    own = search(as_acme)
    assert own.status_code == 200 and [h["source"] for h in own.json()["hits"]] == ["text://anvils"]
    assert search(as_acme, tenant="acme").status_code == 200
    for path, body in (
        ("/search", {"query": "merger plan", "tenant": "globex"}),
        ("/ask", {"question": "merger plan?", "tenant": "globex"}),
        ("/ingest", {"texts": ["x"], "tenant": "globex"}),
    ):
        headers = as_acme_w if path == "/ingest" else as_acme
        refused = c.post(path, json=body, headers=headers)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"] == "forbidden"
        assert "bound to tenant 'acme'" in refused.json()["message"]
    files = {"files": ("n.md", b"# N\n\nA note.", "text/markdown")}
    up = c.post("/ingest", files=files, data={"tenant": "globex"}, headers=as_acme_w)
    assert up.status_code == 403
    # the injection of the issue, with a read key of acme: refused, nothing of globex read
    probe = search(as_acme, filter="1==1)) or ((1==1")
    assert probe.status_code == 400 and probe.json()["error"] == "invalid_filter"
    assert [h["source"] for h in search(as_admin, tenant="globex").json()["hits"]] == [
        "text://merger"
    ]

"""API keys: hashed storage, roles, 401/403, revocation, and the `keys` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ragsilo.cli.serve import keys_app
from ragsilo.service.auth import ApiKeyAuth, AuthFailure, KeyFile

pytestmark = [pytest.mark.service]


def test_key_file_stores_only_salted_hashes(tmp_path: Path) -> None:
    kf = KeyFile(tmp_path / "keys.json")
    key, record = kf.create("search app", "read")
    other, _ = kf.create("search app 2", "read")
    assert key.startswith(f"rs_{record.id}_") and key != other
    raw = (tmp_path / "keys.json").read_text()
    assert key.split("_", 2)[2] not in raw and key not in raw
    stored = json.loads(raw)["keys"]
    assert stored[0]["salt"] != stored[1]["salt"] and stored[0]["kdf"].startswith("scrypt:")
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600


def test_roles_are_ordered_and_revocation_is_immediate(tmp_path: Path) -> None:
    kf = KeyFile(tmp_path / "keys.json")
    auth = ApiKeyAuth(kf)
    assert auth.authenticate(None, "admin").role == "admin"  # no keys: open
    reader, r_rec = kf.create("reader", "read")
    writer, _ = kf.create("writer", "write")
    assert auth.authenticate(reader, "read").key_id == r_rec.id
    assert auth.authenticate(writer, "read").role == "write"
    with pytest.raises(AuthFailure) as e:
        auth.authenticate(reader, "write")
    assert e.value.status == 403
    for bad in (None, "", "rs_000000000000_" + "x" * 43, reader[:-1] + "?", "Bearer nonsense"):
        with pytest.raises(AuthFailure) as e:
            auth.authenticate(bad, "read")
        assert e.value.status == 401
    kf.revoke(r_rec.id)
    with pytest.raises(AuthFailure) as e:
        auth.authenticate(reader, "read")
    assert e.value.status == 401 and "revoked" in e.value.message


def test_required_keys_with_an_empty_file_refuse_everyone(tmp_path: Path) -> None:
    auth = ApiKeyAuth(KeyFile(tmp_path / "none.json"), require=True)
    with pytest.raises(AuthFailure) as e:
        auth.authenticate(None, "read")
    assert "ragsilo keys create" in e.value.message


@pytest.mark.lite
@pytest.mark.embed
def test_http_401_403_and_roles(start_service, tmp_path: Path) -> None:
    svc = start_service()
    c = svc.client
    assert c.post("/search", json={"query": "x"}).status_code == 200  # open without keys
    kf = KeyFile(tmp_path / "keys.json")
    reader, _ = kf.create("reader", "read")
    writer, _ = kf.create("writer", "write")
    admin, _ = kf.create("admin", "admin")

    missing = c.post("/search", json={"query": "bees"})
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = c.post("/search", json={"query": "bees"}, headers={"Authorization": "Bearer rs_x"})
    assert wrong.status_code == 401

    as_reader = {"Authorization": f"Bearer {reader}"}
    text = {"texts": ["Bees make honey from nectar."]}
    refused = c.post("/ingest", json=text, headers=as_reader)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert c.post("/ingest", json=text, headers={"X-API-Key": writer}).status_code == 200
    assert c.post("/search", json={"query": "bees"}, headers=as_reader).status_code == 200
    assert (
        c.post("/ask", json={"question": "who makes honey?"}, headers=as_reader).status_code == 200
    )
    assert c.get("/settings", headers={"Authorization": f"Bearer {writer}"}).status_code == 403
    settings = c.get("/settings", headers={"Authorization": f"Bearer {admin}"})
    assert settings.status_code == 200 and settings.json()["milvus"]["uri"].endswith(".db")

    # probes, metrics and the page stay open for the platform around the service
    for path in ("/health", "/ready", "/metrics", "/", "/options"):
        assert c.get(path).status_code == 200, path
    assert c.get("/options").json()["auth_required"] is True


@pytest.mark.lite
@pytest.mark.embed
def test_secrets_never_leak_through_settings(start_service, tmp_path: Path) -> None:
    svc = start_service(
        llm={"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-top"}
    )
    body = svc.client.get("/settings").text
    assert "sk-top" not in body and "**" in body


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        pass

    app.add_typer(keys_app, name="keys")
    return app


def test_keys_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    file = str(tmp_path / "k.json")
    made = runner.invoke(
        _cli(), ["keys", "create", "ci", "--role", "write", "--file", file, "--json"]
    )
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["key"].startswith("rs_") and created["role"] == "write"
    listed = runner.invoke(_cli(), ["keys", "list", "--file", file, "--json"])
    assert [k["id"] for k in json.loads(listed.stdout)] == [created["id"]]
    assert created["key"] not in listed.stdout
    revoked = runner.invoke(_cli(), ["keys", "revoke", created["id"], "--file", file])
    assert revoked.exit_code == 0
    after = json.loads(runner.invoke(_cli(), ["keys", "list", "--file", file, "--json"]).stdout)
    assert after[0]["active"] is False
    bad = runner.invoke(_cli(), ["keys", "create", "x", "--role", "root", "--file", file])
    assert bad.exit_code == 2 and "role 'root' is unknown" in bad.output
    gone = runner.invoke(_cli(), ["keys", "revoke", "ffffffffffff", "--file", file])
    assert gone.exit_code == 6


def test_failed_logins_cost_one_slow_hash_whatever_is_wrong(tmp_path: Path, monkeypatch) -> None:
    from ragsilo.service import auth as auth_mod

    kf = KeyFile(tmp_path / "keys.json")
    key, record = kf.create("app", "read")
    revoked, rev = kf.create("old", "read")
    kf.revoke(rev.id)
    auth = ApiKeyAuth(kf)
    calls: list[str] = []
    real = auth_mod._hash

    def counting(secret: str, salt: bytes, kdf: str) -> bytes:
        calls.append(kdf)
        return real(secret, salt, kdf)

    monkeypatch.setattr(auth_mod, "_hash", counting)
    unknown_id = "rs_000000000000_" + key.split("_", 2)[2]
    wrong_secret = key[:-4] + "AAAA"
    for bad in (unknown_id, wrong_secret, revoked, "not a key at all"):
        calls.clear()
        with pytest.raises(AuthFailure) as e:
            auth.authenticate(bad, "read")
        assert e.value.status == 401 and e.value.message == (
            "the API key is wrong or has been revoked"
        )
        assert calls == [record.kdf], bad  # one scrypt of the same cost, every time
    calls.clear()
    assert auth.authenticate(key, "read").key_id == record.id
    assert auth.authenticate(key, "read").key_id == record.id
    assert len(calls) == 1  # a verified key is remembered


def test_too_many_failed_logins_answer_429_until_the_window_passes(tmp_path: Path) -> None:
    from ragsilo.service.auth import LoginLimit

    kf = KeyFile(tmp_path / "keys.json")
    good, _ = kf.create("app", "read")
    fresh, _ = kf.create("new app", "read")
    auth = ApiKeyAuth(kf, limit=LoginLimit(failures=3, window_s=60))
    now = [1000.0]
    auth.failed._clock = lambda: now[0]
    assert auth.authenticate(good, "read", client="10.0.0.9").name == "app"  # verified once
    for _ in range(3):
        with pytest.raises(AuthFailure) as e:
            auth.authenticate("rs_000000000000_" + "x" * 43, "read", client="10.0.0.9")
        assert e.value.status == 401
    with pytest.raises(AuthFailure) as e:
        auth.authenticate("rs_000000000000_" + "y" * 43, "read", client="10.0.0.9")
    assert e.value.status == 429 and e.value.headers() == {"Retry-After": "60"}
    assert "too many wrong API keys" in e.value.message
    # even a right key not verified before waits (no slow hash for this client now) ...
    with pytest.raises(AuthFailure) as e:
        auth.authenticate(fresh, "read", client="10.0.0.9")
    assert e.value.status == 429
    # ... but a key verified before still works, and other clients are not affected
    assert auth.authenticate(good, "read", client="10.0.0.9").name == "app"
    assert auth.authenticate(fresh, "read", client="10.0.0.7").name == "new app"
    now[0] += 61
    assert auth.authenticate(fresh, "read", client="10.0.0.9").name == "new app"


def test_keys_bound_to_a_tenant(tmp_path: Path) -> None:
    from ragsilo.errors import FilterError

    kf = KeyFile(tmp_path / "keys.json")
    key, record = kf.create("acme app", "read", tenant="acme")
    assert record.public()["tenant"] == "acme"
    principal = ApiKeyAuth(kf).authenticate(key, "read")
    assert principal.tenant == "acme"
    assert principal.tenant_for(None) == "acme" and principal.tenant_for("acme") == "acme"
    with pytest.raises(AuthFailure) as e:
        principal.tenant_for("globex")
    assert e.value.status == 403 and "bound to tenant 'acme'" in e.value.message
    with pytest.raises(FilterError):
        kf.create("bad", "read", tenant='x" or "1')
    free, _ = kf.create("ops", "admin")
    assert ApiKeyAuth(kf).authenticate(free, "read").tenant_for("globex") == "globex"


def test_keys_create_with_a_tenant_from_the_cli(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(keys_app, name="keys")
    file = str(tmp_path / "keys.json")
    r = CliRunner().invoke(app, ["keys", "create", "acme app", "--tenant", "acme", "-f", file])
    assert r.exit_code == 0, r.output
    assert "tenant acme" in r.output
    listed = CliRunner().invoke(app, ["keys", "list", "--json", "-f", file])
    assert json.loads(listed.stdout)[0]["tenant"] == "acme"
    bad = CliRunner().invoke(app, ["keys", "create", "x", "--tenant", "a b", "-f", file])
    assert bad.exit_code != 0 and "tenant" in bad.output


@pytest.mark.lite
@pytest.mark.embed
def test_the_key_is_checked_before_the_body_is_read(start_service, tmp_path: Path) -> None:
    import asyncio

    svc = start_service()
    kf = KeyFile(tmp_path / "keys.json")
    writer, _ = kf.create("writer", "write")
    from ragsilo.service.app import create_app

    app = create_app(svc.settings, svc.silo)
    received: list[int] = []
    sent: list[dict] = []

    async def receive() -> dict:
        received.append(1)
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    def call(headers: list[tuple[bytes, bytes]]) -> int:
        received.clear()
        sent.clear()
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "path": "/ingest",
            "raw_path": b"/ingest",
            "query_string": b"",
            "root_path": "",
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.5", 5000),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(90 << 20).encode()),
                *headers,
            ],
            "state": {},
        }
        asyncio.run(app(scope, receive, send))
        return int(sent[0]["status"])

    assert call([]) == 401 and received == []
    assert call([(b"authorization", b"Bearer rs_000000000000_" + b"x" * 43)]) == 401
    assert received == []
    # with the right key the body is read (and refused by its size)
    assert call([(b"x-api-key", writer.encode())]) == 413

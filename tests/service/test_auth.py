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

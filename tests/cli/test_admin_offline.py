"""Offline CLI checks: settings shown without secrets, TLS options, index/replica/tenant
commands on Milvus Lite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app
from ragsilo.errors import ConfigError
from ragsilo.settings import MilvusSettings, load_settings

SECRET = "S3cret_pass!"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    runner = CliRunner()

    def _run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return _run


def test_config_show_masks_every_secret(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGSILO_MILVUS__USER", "alice")
    monkeypatch.setenv("RAGSILO_MILVUS__PASSWORD", SECRET)
    monkeypatch.setenv("RAGSILO_LLM__API_KEY", "sk-" + SECRET)
    res = cli("--uri", "http://127.0.0.1:19530", "config", "show")
    assert res.exit_code == 0, res.output
    assert SECRET not in res.output and "alice" in res.output and "**" in res.output
    data = json.loads(cli("--uri", "http://127.0.0.1:19530", "config", "show", "--json").output)
    assert data["milvus"]["password"] != SECRET and data["milvus"]["user"] == "alice"
    res = cli("--uri", "http://127.0.0.1:19530", "--token", f"root:{SECRET}", "config", "show")
    assert SECRET not in res.output


def test_secret_files_and_env_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pw = tmp_path / "pw"
    pw.write_text(SECRET + "\n")
    monkeypatch.setenv("RAGSILO_MILVUS__URI", "http://127.0.0.1:19530")
    monkeypatch.setenv("RAGSILO_MILVUS__USER", "alice")
    monkeypatch.setenv("RAGSILO_MILVUS__PASSWORD_FILE", str(pw))
    s = load_settings()
    assert s.milvus.resolved_token() == f"alice:{SECRET}" and s.milvus.login_user == "alice"
    assert SECRET not in repr(s) and SECRET not in json.dumps(s.redacted())


def test_tls_options(tmp_path: Path) -> None:
    ca, cert, key = (tmp_path / n for n in ("ca.pem", "client.pem", "client.key"))
    for f in (ca, cert, key):
        f.write_text("-----BEGIN CERTIFICATE-----\n")
    plain = MilvusSettings(uri="http://h:19530")
    assert plain.tls_options() == {}
    assert MilvusSettings(uri="https://h:19530").tls_options() == {"secure": True}
    one_way = MilvusSettings(uri="http://h:19530", ca_file=ca, server_name="milvus.local")
    assert one_way.tls_options() == {
        "secure": True,
        "server_name": "milvus.local",
        "server_pem_path": str(ca),
    }
    mutual = MilvusSettings(
        uri="https://h:19530", ca_file=ca, client_cert_file=cert, client_key_file=key
    )
    assert mutual.tls_options() == {
        "secure": True,
        "ca_pem_path": str(ca),
        "client_pem_path": str(cert),
        "client_key_path": str(key),
    }
    with pytest.raises(ConfigError, match="does not exist"):
        MilvusSettings(uri="https://h:19530", ca_file=tmp_path / "missing.pem").tls_options()
    for bad in (
        {"uri": "x.db", "tls": True},
        {"uri": "https://h:1", "client_cert_file": cert},
        {"uri": "https://h:1", "client_cert_file": cert, "client_key_file": key},
    ):
        with pytest.raises(ValueError):
            MilvusSettings(**bad)


def test_tls_to_a_plain_port_is_a_connection_error(tmp_path: Path) -> None:
    import socket

    from ragsilo.errors import ConnectionFailedError
    from ragsilo.store import MilvusStore

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailedError, match=f"127.0.0.1:{port}") as e:
        MilvusStore.connect(
            MilvusSettings(uri=f"https://127.0.0.1:{port}", token=f"root:{SECRET}", timeout=3)
        )
    assert SECRET not in str(e.value)


@pytest.mark.lite
def test_index_replicas_tenants_on_lite(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    cfg = tmp_path / "t.yaml"
    cfg.write_text(f"milvus: {{uri: {db}}}\ncollection: {{tenants: true}}\n")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Bees\n\nHoney bees dance to point at flowers.\n")
    base = ["--config", str(cfg)]
    assert cli(*base, "ingest", str(notes)).exit_code == 2  # tenant required
    assert cli(*base, "ingest", str(notes), "--tenant", "acme").exit_code == 0
    hits = json.loads(cli(*base, "search", "bees", "--tenant", "acme", "--json").output)
    assert len(hits) == 1
    other = json.loads(cli(*base, "search", "bees", "--tenant", "globex", "--json").output)
    assert other == []
    ask = cli(*base, "ask", "what do bees do?", "--tenant", "acme", "--consistency", "Strong")
    assert ask.exit_code == 0 and "a.md" in ask.output

    shown = json.loads(cli(*base, "index", "show", "--json").output)
    assert shown["type"] == "HNSW" and shown["rows"] == 1
    res = cli(*base, "index", "set", "IVF_FLAT", "-p", "nlist=8", "-s", "nprobe=8")
    assert res.exit_code == 0 and "1 rows kept" in res.output, res.output
    assert json.loads(cli(*base, "index", "show", "--json").output)["type"] == "IVF_FLAT"
    assert cli(*base, "index", "rebuild").exit_code == 0
    res = cli(*base, "index", "set", "GPU_CAGRA")
    assert res.exit_code == 5 and "Milvus Lite has no GPU" in res.output
    res = cli(*base, "index", "set", "HNSW", "-p", "M=1")
    assert res.exit_code == 2 and "from 2 to 2048" in res.output

    res = cli(*base, "replicas", "show", "--json")
    assert json.loads(res.output)["configured"] == 1
    res = cli(*base, "replicas", "set", "2")
    assert res.exit_code == 5 and "cannot load 2 replicas" in res.output

    assert cli(*base, "delete", "--tenant", "globex", "--yes").output.startswith("deleted 0")
    assert cli(*base, "delete", "--tenant", "acme", "--yes").output.startswith("deleted 1")

"""``ragsilo users`` and ``ragsilo roles``: policy refusals offline, Milvus Lite refused, and
the whole round trip on the real server."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from tests.admin.conftest import cleanup, root_store, unique  # noqa: F401 - fixtures
from typer.testing import CliRunner

from ragsilo.cli.main import app
from ragsilo.settings import MilvusSettings
from ragsilo.store import MilvusStore
from ragsilo.store.rbac import RbacStore

PASSWORD = "Str0ng_pass!"


def _closed_port_uri() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    runner = CliRunner()

    def _run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return _run


@pytest.mark.parametrize(
    ("name", "password", "rule"),
    [
        ("9lives", PASSWORD, "must start with a letter"),
        ("a" * 33, PASSWORD, "the most is 32"),
        ("bad-name", PASSWORD, "only letters, digits and underscores"),
        ("alice", "Sh0rt!", "needs 8 to 64"),
        ("alice", "alllowercaseletters", "at least 3 of"),
        ("alice", "UpperAndLower", "at least 3 of"),
    ],
)
def test_policy_refused_before_any_connection(cli, name: str, password: str, rule: str) -> None:
    # nothing listens at the URI: a refusal that names the rule was decided locally
    res = cli("--uri", _closed_port_uri(), "users", "create", name, input=password + "\n")
    assert res.exit_code == 2, res.output
    assert rule in res.output and "cannot connect" not in res.output
    assert password not in res.output


def test_password_never_on_the_command_line(cli) -> None:
    res = cli("users", "create", "alice", "--password", PASSWORD)
    assert res.exit_code != 0


@pytest.mark.lite
def test_lite_refuses_users_and_roles(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "lite.db")
    for args in (["users", "list"], ["roles", "list"], ["roles", "create", "viewer"]):
        res = cli("--uri", db, *args)
        assert res.exit_code == 5, res.output
        assert "needs Milvus access control" in res.output and "lite" in res.output


@pytest.mark.server
def test_users_and_roles_round_trip(cli, milvus_server, cleanup, tmp_path: Path) -> None:  # noqa: F811
    user, role = unique("cu"), unique("cr")
    cleanup["users"].append(user)
    cleanup["roles"].append(role)
    login = ["--uri", milvus_server.uri, "--token", milvus_server.token]
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")

    res = cli(*login, "roles", "create", role, "--preset", "reader")
    assert res.exit_code == 0 and "created role" in res.output, res.output
    res = cli(*login, "users", "create", user, "--password-file", str(secret), "--role", role)
    assert res.exit_code == 0, res.output
    assert PASSWORD not in res.output
    res = cli(*login, "users", "list", "--json")
    assert {"name": user, "roles": [role]} in json.loads(res.output)
    res = cli(*login, "roles", "grant", role, "Insert")
    assert res.exit_code == 0, res.output
    roles = {r["name"]: r for r in json.loads(cli(*login, "roles", "list", "--json").output)}
    assert "Insert" in {g["privilege"] for g in roles[role]["grants"]}
    assert roles[role]["users"] == [user]
    assert cli(*login, "roles", "revoke", role, "Insert").exit_code == 0
    assert cli(*login, "roles", "unassign", role, user).exit_code == 0
    assert cli(*login, "roles", "assign", role, user).exit_code == 0

    # the user changes its own password: the current one comes from the login
    new = "An0ther_pass!"
    time.sleep(0.5)
    res = cli(
        "--uri",
        milvus_server.uri,
        "--token",
        f"{user}:{PASSWORD}",
        "users",
        "passwd",
        user,
        input=new + "\n",
    )
    assert res.exit_code == 0, res.output
    assert new not in res.output and PASSWORD not in res.output
    res = cli("--uri", milvus_server.uri, "--token", f"{user}:{PASSWORD}", "users", "list")
    assert res.exit_code == 5 and f"authentication failed for user '{user}'" in res.output
    assert PASSWORD not in res.output

    assert cli(*login, "users", "delete", user, "--yes").exit_code == 0
    assert cli(*login, "roles", "delete", role, "--yes").exit_code == 0
    res = cli(*login, "users", "delete", user, "--yes")
    assert res.exit_code == 6 and "does not exist" in res.output


@pytest.mark.server
def test_root_password_reset_is_one_command(cli, milvus_server, tmp_path: Path) -> None:
    old = milvus_server.token.split(":", 1)[1]
    new = "R00t_new_pass!"
    res = cli(
        "--uri",
        milvus_server.uri,
        "--token",
        milvus_server.token,
        "users",
        "passwd",
        "root",
        input=new + "\n",
    )
    assert res.exit_code == 0, res.output
    try:
        res = cli("--uri", milvus_server.uri, "--token", milvus_server.token, "users", "list")
        assert res.exit_code == 5 and "authentication failed for user 'root'" in res.output
    finally:
        # Milvus's default password is below the policy; put it back directly
        store = MilvusStore.connect(MilvusSettings(uri=milvus_server.uri, token=f"root:{new}"))
        try:
            RbacStore(store).change_password("root", new, old)
        finally:
            store.close()
    assert (
        cli("--uri", milvus_server.uri, "--token", milvus_server.token, "users", "list").exit_code
        == 0
    )

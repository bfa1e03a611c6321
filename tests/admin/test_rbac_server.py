"""Users, roles and presets against the real Milvus server with authentication on."""

from __future__ import annotations

import time

import pytest
from tests.admin.conftest import unique
from tests.conftest import HashEmbedder

from ragsilo import Silo
from ragsilo.errors import AuthenticationError, PermissionDeniedError, PolicyError
from ragsilo.settings import MilvusSettings, load_settings
from ragsilo.store import MilvusStore
from ragsilo.store.rbac import RbacStore

pytestmark = pytest.mark.server

PASSWORD = "Str0ng_pass!"


def _silo(server, collection: str, token: str) -> Silo:
    settings = load_settings(
        overrides={
            "milvus": {"uri": server.uri, "token": token},
            "collection": {"name": collection},
            "index": {"type": "FLAT"},
        }
    )
    return Silo.open(settings, embedder=HashEmbedder())


@pytest.fixture
def silo_collection(milvus_server, cleanup) -> str:
    name = unique("rbac")
    cleanup["collections"].append(name)
    with _silo(milvus_server, name, milvus_server.token) as silo:
        silo.ingest_texts([("compost heats up when microbes work", {"name": "a"})])
    return name


def _until_allowed(fn, seconds: float = 90.0):
    """Milvus proxies take a moment to see new grants (2 to 8 seconds measured on a busy
    2.3.5): retry what is denied until then."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except PermissionDeniedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _user_with_preset(milvus_server, cleanup, collection: str, preset: str) -> str:
    user, role = unique("u"), unique("r")
    cleanup["users"].append(user)
    cleanup["roles"].append(role)
    with _silo(milvus_server, collection, milvus_server.token) as silo:
        admin = silo.admin()
        admin.create_role(role, preset=preset)
        admin.create_user(user, PASSWORD, roles=[role])
    settings = MilvusSettings(uri=milvus_server.uri, token=f"{user}:{PASSWORD}")
    probe = MilvusStore.connect(settings)
    try:
        _until_allowed(lambda: probe.ensure_loaded(collection))
        if preset == "admin":
            _until_allowed(lambda: probe.list_collections())
    finally:
        probe.close()
    return user


def test_reader_searches_but_cannot_insert(milvus_server, cleanup, silo_collection) -> None:
    user = _user_with_preset(milvus_server, cleanup, silo_collection, "reader")
    with _silo(milvus_server, silo_collection, f"{user}:{PASSWORD}") as silo:
        hits = silo.search("compost microbes", k=1, consistency_level="Strong")
        assert [h.source for h in hits] == ["text://a"]
        report = silo.ingest_texts([("a text a reader may not add", {"name": "b"})])
        assert report.failed == 1 and report.ingested == 0
        failure = report.failures[0]
        assert failure.error_code == "permission_denied"
        assert "Upsert" in (failure.message or "") and PASSWORD not in (failure.message or "")
        with pytest.raises(PermissionDeniedError, match="Delete"):
            silo.delete(where={"source": "text://a"})
        assert silo.stats().rows == 1


def test_writer_inserts_but_cannot_create_users(
    milvus_server, cleanup, silo_collection, root_store
) -> None:
    user = _user_with_preset(milvus_server, cleanup, silo_collection, "writer")
    with _silo(milvus_server, silo_collection, f"{user}:{PASSWORD}") as silo:
        report = silo.ingest_texts([("a writer adds this text", {"name": "w"})])
        assert report.ingested == 1
        assert silo.delete(where={"source": "text://w"}) == 1
        intruder = unique("x")
        with pytest.raises(PermissionDeniedError, match=f"user '{user}'"):
            silo.admin().create_user(intruder, PASSWORD)
    assert intruder not in RbacStore(root_store).list_users()


def test_admin_preset_rebuilds_its_collection(milvus_server, cleanup, silo_collection) -> None:
    user = _user_with_preset(milvus_server, cleanup, silo_collection, "admin")
    with _silo(milvus_server, silo_collection, f"{user}:{PASSWORD}") as silo:
        assert _until_allowed(silo.drop_collection) is True
        silo.ingest_texts([("made again by the admin role", {"name": "n"})])
        assert silo.stats().rows == 1


def test_password_change_and_old_password_check(milvus_server, cleanup, root_store) -> None:
    user = unique("p")
    cleanup["users"].append(user)
    with _silo(milvus_server, unique("unused"), milvus_server.token) as silo:
        admin = silo.admin()
        admin.create_user(user, PASSWORD)
        with pytest.raises(AuthenticationError, match="needs its current password"):
            admin.change_password(user, "N3w_password!")
        with pytest.raises(AuthenticationError, match="not correct"):
            admin.change_password(user, "N3w_password!", old_password="Wr0ng_pass!")
        with pytest.raises(PolicyError, match="three|3") as e:
            admin.change_password(user, "alllowercase", old_password=PASSWORD)
        assert e.value.rule == "password-character-kinds"
        admin.change_password(user, "N3w_password!", old_password=PASSWORD)
    with _silo(milvus_server, unique("unused"), f"{user}:N3w_password!") as silo:
        assert silo.info.kind == "server"
    with pytest.raises(AuthenticationError, match=f"user '{user}'"):
        _silo(milvus_server, unique("unused"), f"{user}:{PASSWORD}")


def test_users_and_roles_are_listed_and_deleted(milvus_server, cleanup) -> None:
    user, role = unique("l"), unique("lr")
    cleanup["users"].append(user)
    cleanup["roles"].append(role)
    with _silo(milvus_server, unique("coll"), milvus_server.token) as silo:
        admin = silo.admin()
        admin.create_role(role, preset="reader")
        admin.create_user(user, PASSWORD)
        admin.assign(role, user)
        users = {u.name: u.roles for u in admin.users()}
        assert users[user] == (role,) and "root" in users
        info = admin.role(role)
        assert info.users == (user,)
        assert {g.privilege for g in info.grants} >= {"Search", "Query", "DescribeCollection"}
        admin.unassign(role, user)
        assert admin.role(role).users == ()
        assert admin.delete_role(role) is True  # privileges revoked first
        assert admin.delete_user(user) is True
        assert admin.delete_user(user) is False
        assert role not in {r.name for r in admin.roles()}

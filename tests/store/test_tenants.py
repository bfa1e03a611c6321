"""Tenant isolation (the tenant as Milvus partition key) on Milvus Lite and the real server."""

from __future__ import annotations

import uuid

import pytest
from tests.conftest import HashEmbedder

from ragsilo import Silo
from ragsilo.errors import ConfigError, FilterError, InputError, SchemaMismatchError
from ragsilo.settings import load_settings
from ragsilo.store.filters import check_tenant, with_tenant

TEXTS = [
    ("the red fox jumps over the fence", {"name": "shared"}),
    ("a second note about gardens", {"name": "only"}),
]


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.server)])
def tenant_silo(request: pytest.FixtureRequest, tmp_path):
    name = f"ten_{uuid.uuid4().hex[:10]}"
    if request.param == "lite":
        milvus = {"uri": str(tmp_path / "tenants.db")}
    else:
        server = request.getfixturevalue("milvus_server")
        milvus = {"uri": server.uri, "token": server.token}
    settings = load_settings(
        overrides={
            "milvus": milvus,
            "collection": {"name": name, "tenants": True, "tenant_partitions": 4},
            "index": {"type": "FLAT"},
        }
    )
    silo = Silo.open(settings, embedder=HashEmbedder())
    yield silo
    silo.drop_collection()
    silo.close()


def _sources(hits) -> list[str]:
    return sorted(h.source for h in hits)


def test_each_tenant_sees_only_its_own(tenant_silo: Silo) -> None:
    s = tenant_silo
    assert s.ingest_texts(TEXTS, tenant="acme").ingested == 2
    # the same text for another tenant is another document, not an overwrite
    assert s.ingest_texts(TEXTS[:1], tenant="globex").ingested == 1
    assert s.stats().rows == 3

    acme = s.search("red fox", k=10, tenant="acme")
    globex = s.search("red fox", k=10, tenant="globex")
    assert _sources(acme) == ["text://only", "text://shared"]
    assert _sources(globex) == ["text://shared"]
    assert not {h.id for h in acme} & {h.id for h in globex}
    assert s.search("red fox", k=10, tenant="nobody") == []

    # a raw filter cannot widen the tenant: it is and-ed inside parentheses
    sneaky = s.search("red fox", k=10, tenant="globex", filter='tenant == "acme" or page >= 0')
    assert _sources(sneaky) == ["text://shared"]
    assert {h.id for h in sneaky} == {h.id for h in globex}

    answer = s.ask("red fox", k=5, tenant="globex")
    assert [c.source for c in answer.citations] == ["text://shared"]

    # delete within a tenant leaves the other tenant's copy
    assert s.delete(where={"source": "text://shared"}, tenant="acme") == 1
    assert _sources(s.search("red fox", k=10, tenant="acme")) == ["text://only"]
    assert _sources(s.search("red fox", k=10, tenant="globex")) == ["text://shared"]
    # delete with only a tenant removes that tenant's chunks
    assert s.delete(tenant="acme") == 1
    assert s.stats().rows == 1
    assert s.store.count(s.collection, with_tenant("", "globex")) == 1


def test_tenant_is_required_and_checked(tenant_silo: Silo) -> None:
    with pytest.raises(InputError, match="multi-tenant"):
        tenant_silo.ingest_texts(TEXTS)
    with pytest.raises(InputError, match="multi-tenant"):
        tenant_silo.search("fox")
    with pytest.raises(FilterError, match="invalid"):
        tenant_silo.search("fox", tenant='x" or tenant != "')


def test_tenant_refused_without_tenants_and_schema_checked(tmp_path) -> None:
    uri = str(tmp_path / "plain.db")
    plain = load_settings(overrides={"milvus": {"uri": uri}, "index": {"type": "FLAT"}})
    with Silo.open(plain, embedder=HashEmbedder()) as silo:
        with pytest.raises(ConfigError, match="collection.tenants is off"):
            silo.search("x", tenant="acme")
        silo.ingest_texts(TEXTS)
    tenanted = load_settings(
        overrides={
            "milvus": {"uri": uri},
            "index": {"type": "FLAT"},
            "collection": {"tenants": True},
        }
    )
    with (
        Silo.open(tenanted, embedder=HashEmbedder()) as silo,
        pytest.raises(SchemaMismatchError, match="no tenant field"),
    ):
        silo.search("x", tenant="acme")


@pytest.mark.parametrize("bad", ["", "-x", "a b", "x" * 129, 'a"b', "a\nb", 5])
def test_tenant_names(bad: object) -> None:
    with pytest.raises(FilterError):
        check_tenant(bad)
    assert with_tenant("page == 2", "ac.me@x:1-2") == 'tenant == "ac.me@x:1-2" and (page == 2)'

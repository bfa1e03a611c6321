from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ragsilo.settings import MilvusSettings
from ragsilo.store import MilvusStore
from ragsilo.store.rbac import RbacStore


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def root_store(milvus_server) -> Iterator[MilvusStore]:
    s = MilvusStore.connect(MilvusSettings(uri=milvus_server.uri, token=milvus_server.token))
    yield s
    s.close()


@pytest.fixture
def cleanup(root_store: MilvusStore) -> Iterator[dict[str, list[str]]]:
    """Users, roles and collections a test made, dropped afterwards whatever happened."""
    made: dict[str, list[str]] = {"users": [], "roles": [], "collections": []}
    yield made
    rbac = RbacStore(root_store)
    for u in made["users"]:
        rbac.drop_user(u)
    for r in made["roles"]:
        rbac.drop_role(r)
    for c in made["collections"]:
        root_store.drop_collection(c)

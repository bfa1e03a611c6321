from __future__ import annotations

import pytest

from ragsilo.errors import CapabilityError, ConfigError
from ragsilo.settings import IndexSettings
from ragsilo.store.capabilities import capabilities_for, parse_version
from ragsilo.store.indexes import plan_index

LITE = capabilities_for("lite", "milvus_lite-3.2.2", "./x.db")
SERVER_23 = capabilities_for("server", "v2.3.5-lite", "http://127.0.0.1:19530")
SERVER_26 = capabilities_for("server", "v2.6.4", "http://127.0.0.1:19530")


def test_version_parsing() -> None:
    assert parse_version("v2.3.5-lite") == (2, 3, 5)
    assert parse_version("2.6") == (2, 6, 0)
    assert parse_version("weird") == (0, 0, 0)


def test_capabilities_by_version() -> None:
    assert not SERVER_23.bm25 and not SERVER_23.hybrid_search and not SERVER_23.inverted_index
    assert SERVER_26.bm25 and SERVER_26.hybrid_search and SERVER_26.inverted_index
    assert LITE.bm25 and not LITE.rbac


def test_auto_chooses_hnsw_and_says_why() -> None:
    plan = plan_index(IndexSettings(), LITE, 384)
    assert plan.type == "HNSW" and "auto" in plan.reason
    assert plan.search_params(200)["params"]["ef"] == 200  # ef never below k
    assert plan.search_params(5)["params"]["ef"] == 64


@pytest.mark.parametrize("kind", ["GPU_CAGRA", "DISKANN", "IVF_PQ", "SCANN"])
def test_lite_refuses_what_it_lacks(kind: str) -> None:
    with pytest.raises(CapabilityError, match=kind):
        plan_index(IndexSettings(type=kind), LITE, 384)


def test_server_accepts_cpu_catalogue() -> None:
    for kind in ("DISKANN", "IVF_PQ", "SCANN", "IVF_SQ8"):
        assert plan_index(IndexSettings(type=kind), SERVER_23, 384).type == kind


def test_unknown_param_refused_with_allowed_list() -> None:
    with pytest.raises(ConfigError, match="allowed: M, efConstruction"):
        plan_index(IndexSettings(type="HNSW", params={"nlist": 5}), LITE, 384)


def test_pq_m_must_divide_dimension() -> None:
    with pytest.raises(ConfigError, match="divide"):
        plan_index(IndexSettings(type="IVF_PQ", params={"m": 7}), SERVER_23, 384)


def test_user_params_override_defaults() -> None:
    plan = plan_index(
        IndexSettings(type="HNSW", params={"M": 32}, search_params={"ef": 128}), LITE, 8
    )
    assert plan.build == {"M": 32, "efConstruction": 200}
    assert plan.search_params(10)["params"]["ef"] == 128

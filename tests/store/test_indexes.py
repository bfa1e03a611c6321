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


@pytest.mark.parametrize(
    ("kind", "params", "search", "message"),
    [
        ("HNSW", {"M": 1}, {}, "M of HNSW must be a whole number from 2 to 2048"),
        ("HNSW", {"M": 2049}, {}, "from 2 to 2048"),
        ("HNSW", {"M": 16.5}, {}, "whole number"),
        ("IVF_FLAT", {"nlist": 65537}, {}, "nlist of IVF_FLAT must be a whole number from 1"),
        ("IVF_FLAT", {"nlist": 8}, {"nprobe": 9}, "cannot be more than"),
        ("IVF_PQ", {"nbits": 17}, {}, "nbits"),
        ("SCANN", {"with_raw_data": "yes"}, {}, "true or false"),
    ],
)
def test_parameter_ranges(kind: str, params: dict, search: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        plan_index(IndexSettings(type=kind, params=params, search_params=search), SERVER_23, 384)


def test_range_edges_accepted() -> None:
    assert plan_index(IndexSettings(type="HNSW", params={"M": 2048}), LITE, 8).build["M"] == 2048
    plan = plan_index(IndexSettings(type="IVF_FLAT", params={"nlist": 65536}), LITE, 8)
    assert plan.build["nlist"] == 65536


@pytest.mark.parametrize("kind", ["GPU_CAGRA", "GPU_IVF_FLAT", "GPU_IVF_PQ", "GPU_BRUTE_FORCE"])
def test_gpu_types_need_a_gpu_server(kind: str) -> None:
    with pytest.raises(CapabilityError, match="Milvus Lite has no GPU"):
        plan_index(IndexSettings(type=kind), LITE, 384, gpu=True)
    with pytest.raises(CapabilityError, match="index.gpu: true"):
        plan_index(IndexSettings(type=kind), SERVER_23, 384)
    assert plan_index(IndexSettings(type=kind, gpu=True), SERVER_23, 384, gpu=True).type == kind


def test_cagra_degrees_checked() -> None:
    with pytest.raises(ConfigError, match="graph_degree"):
        plan_index(
            IndexSettings(type="GPU_CAGRA", params={"graph_degree": 128}), SERVER_23, 384, gpu=True
        )


def test_auto_by_rows_memory_and_recall() -> None:
    small = plan_index(IndexSettings(), SERVER_23, 384, rows=5000)
    assert small.type == "FLAT" and "5000 rows" in small.reason
    big = plan_index(IndexSettings(), SERVER_23, 384, rows=2_000_000)
    assert big.type == "HNSW" and big.search["ef"] == 64
    precise = plan_index(IndexSettings(recall_target=0.99), SERVER_23, 384, rows=2_000_000)
    assert precise.search["ef"] == 256 and "recall target 0.99" in precise.reason
    # 2M x 384 float32 needs ~3 GiB for HNSW: a 1 GiB budget on a server goes to disk
    tight = plan_index(IndexSettings(memory_budget_mb=1024), SERVER_23, 384, rows=2_000_000)
    assert tight.type == "DISKANN" and "budget" in tight.reason
    # Milvus Lite has no DISKANN: 1 byte per dimension fits
    lite = plan_index(IndexSettings(memory_budget_mb=1024), LITE, 384, rows=2_000_000)
    assert lite.type == "IVF_SQ8" and lite.build["nlist"] == int(4 * 2_000_000**0.5)
    assert 1 <= lite.search["nprobe"] <= lite.build["nlist"]

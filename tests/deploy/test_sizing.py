"""The sizing estimate: the formula's numbers, and that they move the resources."""

from __future__ import annotations

from ragsilo.deploy import estimate, make_params
from ragsilo.deploy.sizing import GIB, MARGIN, PROCESS_BASE_BYTES


def test_hnsw_memory_follows_the_printed_formula() -> None:
    p = make_params(
        target="operator",
        vectors=10_000_000,
        dimension=768,
        index_type="HNSW",
        index_params={"M": 32},
        scalar_bytes_per_row=0,
    )
    s = estimate(p)
    raw = 10_000_000 * 768 * 4
    graph = 10_000_000 * 32 * 2 * 4
    assert s.index_bytes == raw + graph
    total = int((raw + graph) * MARGIN)
    assert s.total_bytes == total
    assert s.memory_per_node_bytes == int(total / s.query_nodes + PROCESS_BASE_BYTES)
    text = s.text()
    assert "n × dim × 4 B = 10,000,000 × 768 × 4 B" in text
    assert "n × M × 2 × 4 B (M=32)" in text


def test_index_types_order_memory_as_expected() -> None:
    def mem(kind: str) -> int:
        return estimate(
            make_params(target="operator", index_type=kind, scalar_bytes_per_row=0)
        ).index_bytes

    assert mem("IVF_PQ") < mem("IVF_SQ8") < mem("FLAT") < mem("HNSW")
    diskann = estimate(make_params(target="operator", index_type="DISKANN"))
    assert diskann.index_bytes < mem("IVF_SQ8")
    assert diskann.disk_quantity is not None


def test_more_vectors_add_query_nodes_within_the_budget() -> None:
    small = estimate(
        make_params(
            target="eks",
            vectors=1_000_000,
            s3_bucket="my-milvus-data",
            s3_region="us-east-1",
            s3_role_arn="arn:aws:iam::123456789012:role/r",
        )
    )
    big = estimate(
        make_params(
            target="eks",
            vectors=200_000_000,
            s3_bucket="my-milvus-data",
            s3_region="us-east-1",
            s3_role_arn="arn:aws:iam::123456789012:role/r",
        )
    )
    assert small.query_nodes == 2
    assert big.query_nodes > small.query_nodes
    assert big.memory_per_node_bytes <= 32 * GIB


def test_target_qps_raises_cpu_above_the_floor() -> None:
    floor = estimate(make_params(target="operator"))
    busy = estimate(make_params(target="operator", target_qps=5000))
    assert floor.cpu_per_node == 2
    assert busy.cpu_per_node > floor.cpu_per_node
    assert "queries/s per core" in busy.text()


def test_gpu_index_reports_gpu_memory() -> None:
    s = estimate(make_params(target="operator", gpu=True))
    assert s.index_type == "GPU_CAGRA"
    assert s.gpu_memory_bytes is not None and s.gpu_memory_bytes > 0
    assert "search runs on the GPU" in s.text()

"""How big the query nodes must be: memory and CPU from vectors × dimension × index type.

The estimate is a planning number, shown with its formula so that anyone can
check it and replace a factor with a measurement::

    raw vector bytes  = n × dim × 4                       (float32)
    index bytes       = raw × factor(index) + structure    (see below)
    in memory         = index bytes + n × scalar bytes per row
    with margin       = in memory × 1.3                    (growing segments, deletes, load peak)
    cluster total     = with margin × load replicas
    per query node    = cluster total / query nodes + 1 GiB process base

Index structure, per type (n vectors, dim d; parameters default as in Milvus):

- FLAT, GPU_BRUTE_FORCE: raw.
- IVF_FLAT, GPU_IVF_FLAT: raw + nlist × d × 4 (centroids).
- IVF_SQ8: raw × 0.25 + centroids (one byte per dimension).
- IVF_PQ, GPU_IVF_PQ: n × m × nbits / 8 (codes) + centroids + 2^nbits × d × 4 (codebooks).
- HNSW, AUTOINDEX: raw + n × M × 2 × 4 (the level-0 graph holds 2·M neighbour ids of 4 bytes).
- SCANN: raw × (1 + 1/16) + centroids (4-bit codes over pairs of dimensions, raw data kept).
- DISKANN: raw × 0.125 in memory (PQ codes, ``pqCodeBudgetGBRatio``); raw + n × R × 4 on local disk.
- GPU_CAGRA: raw + n × graph_degree × 4, in GPU memory and staged in host memory.

CPU per query node comes from a target rate of queries when one is given: a
query costs (distances computed × d × cost per dimension) operations, a core
does about 10⁹ of them a second, and 50 % headroom is added. Without a
target rate a floor is used. Neither is a benchmark; measure and adjust.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ragsilo.deploy.params import DeployParams

GIB = 1024**3
MIB = 1024**2

MARGIN = 1.3
PROCESS_BASE_BYTES = 1 * GIB
STANDALONE_BASE_BYTES = 2 * GIB
CORE_OPS_PER_SECOND = 1.0e9
CPU_HEADROOM = 1.5

#: Largest memory one query node may be given, per target, before another node is added.
NODE_MEMORY_BUDGET = {
    "compose": 10_000 * GIB,
    "kind": 4 * GIB,
    "operator": 32 * GIB,
    "eks": 32 * GIB,
}
#: Fewest query nodes per target (two keep search available through a node restart).
MIN_QUERY_NODES = {"compose": 1, "kind": 1, "operator": 2, "eks": 2}
#: CPU cores a query node gets when no target rate is given.
CPU_FLOOR = {"compose": 2.0, "kind": 1.0, "operator": 2.0, "eks": 2.0}


@dataclass(frozen=True)
class Sizing:
    """The estimate and the lines that show how it was made."""

    index_type: str
    index_bytes: int
    scalar_bytes: int
    total_bytes: int
    query_nodes: int
    memory_per_node_bytes: int
    cpu_per_node: float
    gpu_memory_bytes: int | None
    disk_per_node_bytes: int | None
    lines: tuple[str, ...]

    @property
    def memory_gib(self) -> int:
        """Memory per query node in whole GiB, rounded up."""
        return max(1, math.ceil(self.memory_per_node_bytes / GIB))

    @property
    def memory_quantity(self) -> str:
        return f"{self.memory_gib}Gi"

    @property
    def cpu_quantity(self) -> str:
        cores = self.cpu_per_node
        return str(int(cores)) if float(cores).is_integer() else f"{int(cores * 1000)}m"

    @property
    def disk_quantity(self) -> str | None:
        if self.disk_per_node_bytes is None:
            return None
        return f"{max(1, math.ceil(self.disk_per_node_bytes / GIB))}Gi"

    def text(self) -> str:
        """The estimate with its formula, as printed by the CLI and written to SIZING.md."""
        return "\n".join(self.lines)


def _fmt_bytes(b: float) -> str:
    if b >= GIB:
        return f"{b / GIB:,.2f} GiB"
    if b >= MIB:
        return f"{b / MIB:,.1f} MiB"
    return f"{b / 1024:,.1f} KiB"


def _int_param(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key, default)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def _default_nlist(n: int) -> int:
    return int(min(65536, max(1, round(4 * math.sqrt(n)))))


def _default_pq_m(d: int) -> int:
    # IVF_PQ needs m to divide the dimension; aim for a quarter of it.
    target = max(1, d // 4)
    for m in range(target, 0, -1):
        if d % m == 0:
            return m
    return 1


def _index_memory(p: DeployParams) -> tuple[int, int | None, list[str], float, float]:
    """Bytes in memory, bytes on disk, explanation, distances per query, cost per dimension."""
    n, d, kind = p.vectors, p.dimension, p.resolved_index_type
    ip = p.index_params
    raw = n * d * 4
    lines = [f"  raw vectors       n × dim × 4 B = {n:,} × {d} × 4 B = {_fmt_bytes(raw)}"]
    nlist = _int_param(ip, "nlist", _default_nlist(n))
    nprobe = min(nlist, _int_param(ip, "nprobe", 16))
    centroids = nlist * d * 4
    ivf_visited = nlist + n * nprobe / nlist
    disk: int | None = None
    if kind in ("FLAT", "GPU_BRUTE_FORCE"):
        index, visited, cost = raw, float(n), 1.0
        lines.append(f"  index ({kind})    raw × 1 = {_fmt_bytes(index)}")
    elif kind in ("IVF_FLAT", "GPU_IVF_FLAT"):
        index, visited, cost = raw + centroids, ivf_visited, 1.0
        lines.append(
            f"  index ({kind})    raw + nlist × dim × 4 B (nlist={nlist}) = {_fmt_bytes(index)}"
        )
    elif kind == "IVF_SQ8":
        index, visited, cost = int(raw * 0.25) + centroids, ivf_visited, 0.5
        lines.append(
            f"  index (IVF_SQ8)   raw × 0.25 + nlist × dim × 4 B (nlist={nlist})"
            f" = {_fmt_bytes(index)}"
        )
    elif kind in ("IVF_PQ", "GPU_IVF_PQ"):
        m = _int_param(ip, "m", _default_pq_m(d))
        nbits = _int_param(ip, "nbits", 8)
        codes = n * m * nbits // 8
        books = (2**nbits) * d * 4
        index, visited, cost = codes + centroids + books, ivf_visited, m / d
        lines.append(
            f"  index ({kind})    n × m × nbits / 8 + nlist × dim × 4 B + 2^nbits × dim × 4 B "
            f"(m={m}, nbits={nbits}, nlist={nlist}) = {_fmt_bytes(index)}"
        )
    elif kind in ("HNSW", "AUTOINDEX"):
        big_m = _int_param(ip, "M", 16)
        ef = max(64, _int_param(ip, "ef", 64))
        graph = n * big_m * 2 * 4
        index, visited, cost = raw + graph, float(ef * big_m * 2), 1.0
        lines.append(f"  HNSW graph        n × M × 2 × 4 B (M={big_m}) = {_fmt_bytes(graph)}")
        lines.append(f"  index ({kind})    raw + graph = {_fmt_bytes(index)}")
    elif kind == "SCANN":
        index = raw + raw // 16 + centroids
        visited, cost = ivf_visited, 0.125
        lines.append(
            f"  index (SCANN)     raw × (1 + 1/16) + nlist × dim × 4 B (nlist={nlist})"
            f" = {_fmt_bytes(index)}"
        )
    elif kind == "DISKANN":
        degree = _int_param(ip, "max_degree", 56)
        search_list = _int_param(ip, "search_list", 100)
        index = int(raw * 0.125)
        disk = raw + n * degree * 4
        visited, cost = float(search_list * degree), 0.125
        lines.append(f"  index (DISKANN)   raw × 0.125 in memory (PQ codes) = {_fmt_bytes(index)}")
        lines.append(
            f"  DISKANN on disk   raw + n × max_degree × 4 B (max_degree={degree})"
            f" = {_fmt_bytes(disk)}"
        )
    elif kind == "GPU_CAGRA":
        degree = _int_param(ip, "graph_degree", 64)
        index = raw + n * degree * 4
        visited, cost = 0.0, 0.0
        lines.append(
            f"  index (GPU_CAGRA) raw + n × graph_degree × 4 B (graph_degree={degree})"
            f" = {_fmt_bytes(index)}"
        )
    else:  # pragma: no cover - DeployParams only lets known types through
        raise ValueError(kind)
    return index, disk, lines, visited, cost


def estimate(p: DeployParams) -> Sizing:
    """Size the query nodes (or the standalone server, for compose) for ``p``."""
    kind = p.resolved_index_type
    target = p.target
    header = (
        f"Sizing for {p.vectors:,} vectors × {p.dimension} dims, index {kind}"
        + (" (index type auto)" if p.index_type == "auto" else "")
        + f", {p.load_replicas} in-memory replica(s), target {p.label}"
    )
    index, disk, lines, visited, cost = _index_memory(p)
    lines = [header, *lines]
    scalar = p.vectors * p.scalar_bytes_per_row
    lines.append(
        f"  scalar fields     n × {p.scalar_bytes_per_row} B (chunk text, metadata)"
        f" = {_fmt_bytes(scalar)}"
    )
    in_memory = index + scalar
    with_margin = int(in_memory * MARGIN)
    lines.append(
        f"  with margin       (index + scalars) × {MARGIN} (growing segments, deletes, load peak)"
        f" = {_fmt_bytes(with_margin)}"
    )
    total = with_margin * p.load_replicas
    lines.append(f"  cluster total     × {p.load_replicas} load replica(s) = {_fmt_bytes(total)}")

    budget = NODE_MEMORY_BUDGET[target]
    if target == "compose":
        nodes = 1
        base = STANDALONE_BASE_BYTES
        lines.append("  query nodes       1 (Milvus standalone: every role in one process)")
    elif p.query_nodes is not None:
        nodes = p.query_nodes
        base = PROCESS_BASE_BYTES
        lines.append(f"  query nodes       {nodes} (given)")
    else:
        needed = math.ceil(total / max(1, budget - PROCESS_BASE_BYTES))
        nodes = max(MIN_QUERY_NODES[target], needed)
        base = PROCESS_BASE_BYTES
        lines.append(
            f"  query nodes       max({MIN_QUERY_NODES[target]} minimum, ⌈total / "
            f"{budget // GIB} GiB budget⌉ = {needed}) = {nodes}"
        )
    per_node = total / nodes + base
    lines.append(
        f"  memory per node   {_fmt_bytes(total)} / {nodes} + {_fmt_bytes(base)} process base"
        f" = {_fmt_bytes(per_node)} → {max(1, math.ceil(per_node / GIB))}Gi"
    )

    floor = CPU_FLOOR[target]
    if p.target_qps is not None and cost > 0:
        ops = visited * p.dimension * cost
        qps_per_core = CORE_OPS_PER_SECOND / ops
        cores_total = p.target_qps / qps_per_core * CPU_HEADROOM
        per_node_cpu = max(floor, math.ceil(cores_total / nodes))
        lines.append(
            f"  cost per query    {visited:,.0f} distances × {p.dimension} dims × {cost:g}"
            f" = {ops:,.0f} ops → {qps_per_core:,.1f} queries/s per core at 1e9 ops/s"
        )
        lines.append(
            f"  cpu per node      ⌈{p.target_qps:g} q/s ÷ {qps_per_core:,.1f}"
            f" × {CPU_HEADROOM} ÷ {nodes}⌉"
            f" = {per_node_cpu:g} cores (floor {floor:g})"
        )
    else:
        per_node_cpu = floor
        why = "search runs on the GPU" if cost == 0 else "no --qps given"
        lines.append(f"  cpu per node      floor {floor:g} core(s) ({why})")

    gpu_mem: int | None = None
    if kind.startswith("GPU_"):
        gpu_mem = math.ceil(index * MARGIN * p.load_replicas / nodes)
        lines.append(
            f"  GPU memory / node index × {MARGIN} × replicas / nodes = {_fmt_bytes(gpu_mem)}"
        )
    disk_per_node: int | None = None
    if disk is not None:
        disk_per_node = math.ceil(disk * MARGIN * p.load_replicas / nodes)
        lines.append(
            f"  local disk / node DISKANN disk × {MARGIN} × replicas / nodes"
            f" = {_fmt_bytes(disk_per_node)}"
        )
    return Sizing(
        index_type=kind,
        index_bytes=index,
        scalar_bytes=scalar,
        total_bytes=total,
        query_nodes=nodes,
        memory_per_node_bytes=int(per_node),
        cpu_per_node=float(per_node_cpu),
        gpu_memory_bytes=gpu_mem,
        disk_per_node_bytes=disk_per_node,
        lines=tuple(lines),
    )

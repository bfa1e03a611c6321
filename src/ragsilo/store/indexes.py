"""The vector index catalogue: build and search parameters per type, and the ``auto`` choice."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from ragsilo.errors import CapabilityError, ConfigError
from ragsilo.models import ServerInfo
from ragsilo.settings import IndexSettings
from ragsilo.store.capabilities import capabilities_of


@dataclass(frozen=True)
class IndexType:
    """One index type: its default build and search parameters, and their allowed names."""

    name: str
    build: dict[str, Any]
    search: dict[str, Any]
    gpu: bool = False
    note: str = ""


CATALOGUE: dict[str, IndexType] = {
    t.name: t
    for t in (
        IndexType("FLAT", {}, {}, note="exact brute force; best recall, cost grows with rows"),
        IndexType("IVF_FLAT", {"nlist": 1024}, {"nprobe": 16}),
        IndexType("IVF_SQ8", {"nlist": 1024}, {"nprobe": 16}, note="8-bit scalar quantised IVF"),
        IndexType("IVF_PQ", {"nlist": 1024, "m": 8, "nbits": 8}, {"nprobe": 16}),
        IndexType("HNSW", {"M": 16, "efConstruction": 200}, {"ef": 64}),
        IndexType("DISKANN", {}, {"search_list": 100}),
        IndexType("SCANN", {"nlist": 1024, "with_raw_data": True}, {"nprobe": 16, "reorder_k": 64}),
        IndexType("AUTOINDEX", {}, {}),
        IndexType(
            "GPU_CAGRA",
            {"intermediate_graph_degree": 64, "graph_degree": 32},
            {"itopk_size": 64, "search_width": 4},
            gpu=True,
        ),
        IndexType("GPU_IVF_FLAT", {"nlist": 1024}, {"nprobe": 16}, gpu=True),
        IndexType("GPU_IVF_PQ", {"nlist": 1024, "m": 8, "nbits": 8}, {"nprobe": 16}, gpu=True),
        IndexType("GPU_BRUTE_FORCE", {}, {}, gpu=True),
    )
}


@dataclass(frozen=True)
class IndexPlan:
    """The index that will be built, with the reason it was chosen."""

    type: str
    metric: str
    build: dict[str, Any]
    search: dict[str, Any]
    reason: str
    extra: dict[str, Any] = field(default_factory=dict)

    def search_params(self, k: int) -> dict[str, Any]:
        params = dict(self.search)
        if "ef" in params:  # HNSW needs ef >= k
            params["ef"] = max(int(params["ef"]), k)
        if "itopk_size" in params:
            params["itopk_size"] = max(int(params["itopk_size"]), k)
        return {"metric_type": self.metric, "params": params}


INT_MAX = 2**31 - 1
#: Allowed ranges of numeric build and search parameters, per index type (Milvus's limits).
RANGES: dict[str, dict[str, tuple[int, int]]] = {
    "IVF_FLAT": {"nlist": (1, 65536), "nprobe": (1, 65536)},
    "IVF_SQ8": {"nlist": (1, 65536), "nprobe": (1, 65536)},
    "IVF_PQ": {"nlist": (1, 65536), "nprobe": (1, 65536), "m": (1, 65536), "nbits": (1, 16)},
    "HNSW": {"M": (2, 2048), "efConstruction": (1, INT_MAX), "ef": (1, INT_MAX)},
    "DISKANN": {"search_list": (1, INT_MAX)},
    "SCANN": {"nlist": (1, 65536), "nprobe": (1, 65536), "reorder_k": (1, INT_MAX)},
    "GPU_CAGRA": {
        "intermediate_graph_degree": (1, 65536),
        "graph_degree": (1, 65536),
        "itopk_size": (1, INT_MAX),
        "search_width": (1, INT_MAX),
    },
    "GPU_IVF_FLAT": {"nlist": (1, 65536), "nprobe": (1, 65536)},
    "GPU_IVF_PQ": {"nlist": (1, 65536), "nprobe": (1, 65536), "m": (1, 65536), "nbits": (1, 16)},
}
#: Bytes of graph links per vector and per unit of HNSW's M (two layers of int64 ids, roughly).
_HNSW_LINK_BYTES = 8 * 2
SMALL_COLLECTION_ROWS = 10_000


def hnsw_bytes(rows: int, dimension: int, m: int = 16) -> int:
    """About how much memory an HNSW index of ``rows`` float32 vectors takes."""
    return rows * (4 * dimension + _HNSW_LINK_BYTES * m)


def index_bytes(kind: str, rows: int, dimension: int, build: dict[str, Any]) -> int:
    """About how much memory an index of this type takes (vectors included)."""
    raw = rows * 4 * dimension
    if kind == "HNSW":
        return hnsw_bytes(rows, dimension, int(build.get("M", 16)))
    if kind == "IVF_SQ8":
        return rows * dimension
    if kind in ("IVF_PQ", "GPU_IVF_PQ"):
        return rows * int(build.get("m", 8)) * int(build.get("nbits", 8)) // 8
    if kind == "DISKANN":
        return raw // 8  # compressed codes in memory; the graph lives on disk
    return raw


def plan_index(
    settings: IndexSettings,
    info: ServerInfo,
    dimension: int,
    *,
    rows: int | None = None,
    gpu: bool = False,
) -> IndexPlan:
    """Validate the configured index against the server, or choose one for ``auto``.

    Refuses, before anything is created, a type the server lacks (a GPU index
    where the server has no GPU support, ``gpu``; DISKANN or IVF_PQ on Milvus
    Lite), parameter names the type does not know and values out of range.
    ``auto`` chooses among the CPU types the server has by ``rows`` (unknown:
    a new collection), ``dimension``, ``index.memory_budget_mb`` and
    ``index.recall_target``, and says why.
    """
    if settings.type == "auto":
        chosen, reason, tuned = _choose(settings, info, dimension, rows)
    else:
        chosen, tuned = settings.type, {}
        reason = f"index.type is set to {chosen}"
    spec = CATALOGUE[chosen]
    may_have_gpu = capabilities_of(info).gpu_indexes
    if spec.gpu and (not gpu or not may_have_gpu):
        if not may_have_gpu:
            where = (
                "Milvus Lite has no GPU indexes"
                if info.kind == "lite"
                else f"{info.kind} has no GPU indexes"
            )
            hint = f"choose one of {', '.join(info.index_types)}"
        else:
            where = f"{info.kind} {info.version} is not known to be a GPU build"
            hint = (
                f"choose one of {', '.join(info.index_types)}, or, on a Milvus GPU image, "
                "set index.gpu: true"
            )
        raise CapabilityError(f"{chosen} is a GPU index and {where}", hint=hint)
    if not spec.gpu and chosen not in info.index_types:
        raise CapabilityError(
            f"index type {chosen} is not supported by {info.kind} {info.version}",
            hint=f"choose one of {', '.join(info.index_types)}",
        )
    build = _merge(
        chosen, "index.params", spec.build, {**tuned.get("build", {}), **settings.params}
    )
    search = _merge(
        chosen,
        "index.search_params",
        spec.search,
        {**tuned.get("search", {}), **settings.search_params},
    )
    given_search = {**tuned.get("search", {}), **settings.search_params}
    if "nprobe" in search and "nprobe" not in given_search and "nlist" in build:
        search["nprobe"] = max(1, min(int(search["nprobe"]), int(build["nlist"])))
    _check_ranges(chosen, build, search, dimension)
    return IndexPlan(chosen, settings.metric, build, search, reason)


def _check_ranges(kind: str, build: dict[str, Any], search: dict[str, Any], dimension: int) -> None:
    limits = RANGES.get(kind, {})
    for where, params in (("index.params", build), ("index.search_params", search)):
        for key, value in params.items():
            if key not in limits:
                continue
            lo, hi = limits[key]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise ConfigError(
                    f"{where}.{key} of {kind} must be a whole number from {lo} to {hi}, "
                    f"not {value!r}"
                )
    if "nprobe" in search and "nlist" in build and search["nprobe"] > build["nlist"]:
        raise ConfigError(
            f"index.search_params.nprobe ({search['nprobe']}) of {kind} cannot be more than "
            f"index.params.nlist ({build['nlist']})"
        )
    if kind in ("IVF_PQ", "GPU_IVF_PQ") and dimension % int(build["m"]):
        raise ConfigError(
            f"{kind} needs index.params.m to divide the vector dimension {dimension}; "
            f"m={build['m']} does not"
        )
    if kind == "GPU_CAGRA" and build["graph_degree"] > build["intermediate_graph_degree"]:
        raise ConfigError("GPU_CAGRA needs index.params.graph_degree <= intermediate_graph_degree")
    if kind == "SCANN" and not isinstance(build.get("with_raw_data", True), bool):
        raise ConfigError("index.params.with_raw_data of SCANN must be true or false")


def _choose(
    settings: IndexSettings, info: ServerInfo, dimension: int, rows: int | None
) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """The ``auto`` choice: (type, why, tuned parameters)."""
    have = set(info.index_types)
    recall = settings.recall_target
    ef = 64 if recall <= 0.95 else 128 if recall <= 0.98 else 256
    hnsw = {"search": {"ef": ef}}
    budget = None if settings.memory_budget_mb is None else settings.memory_budget_mb * 2**20
    where = f"on {info.kind} {info.version}"
    if rows is None:
        return (
            "HNSW",
            f"auto: a new collection (rows unknown) gets HNSW, high recall at low latency in "
            f"memory {where}; ef={ef} for recall target {recall}",
            hnsw,
        )
    if rows <= SMALL_COLLECTION_ROWS and "FLAT" in have:
        return (
            "FLAT",
            f"auto: {rows} rows is small enough for exact search (FLAT, recall 1.0) {where}",
            {},
        )
    need = hnsw_bytes(rows, dimension)
    if budget is None or need <= budget:
        fits = "" if budget is None else f", about {need / 2**20:.0f} MiB within the budget"
        return (
            "HNSW",
            f"auto: {rows} rows of dimension {dimension}: HNSW{fits}; ef={ef} for recall "
            f"target {recall} {where}",
            hnsw,
        )
    nlist = int(min(65536, max(16, 4 * rows**0.5)))
    nprobe = max(1, min(nlist, int(nlist * (0.02 if recall <= 0.95 else 0.05))))
    ivf = {"build": {"nlist": nlist}, "search": {"nprobe": nprobe}}
    over = f"HNSW would need about {need / 2**20:.0f} MiB, over the {budget / 2**20:.0f} MiB budget"
    if "DISKANN" in have:
        return "DISKANN", f"auto: {over}; DISKANN keeps the graph on disk {where}", {}
    if rows * dimension <= budget and "IVF_SQ8" in have:
        return (
            "IVF_SQ8",
            f"auto: {over}; IVF_SQ8 stores 1 byte per dimension, nlist={nlist}, "
            f"nprobe={nprobe} {where}",
            ivf,
        )
    if "IVF_PQ" in have:
        m = next((d for d in (64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1) if dimension % d == 0), 1)
        return (
            "IVF_PQ",
            f"auto: {over}; IVF_PQ compresses each vector to {m} bytes {where}",
            {"build": {"nlist": nlist, "m": m}, "search": {"nprobe": nprobe}},
        )
    return (
        "IVF_SQ8",
        f"auto: {over}; IVF_SQ8 is the most compact index {where}",
        ivf,
    )


def _merge(
    name: str, where: str, defaults: dict[str, Any], given: dict[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise ConfigError(f"{where} for {name} has unknown keys {unknown}; allowed: {allowed}")
    return {**defaults, **given}


_DESCRIBED_NOT_BUILD = frozenset(
    {
        "index_type",
        "metric_type",
        "field_name",
        "index_name",
        "total_rows",
        "indexed_rows",
        "pending_index_rows",
        "state",
        "params",
    }
)


def plan_from_described(described: dict[str, Any]) -> IndexPlan | None:
    """The plan that rebuilds an index Milvus described (``None`` when it says too little)."""
    kind = described.get("index_type")
    metric = described.get("metric_type")
    if not kind or not metric:
        return None
    build = {k: _described_value(v) for k, v in described.items() if k not in _DESCRIBED_NOT_BUILD}
    nested = described.get("params")
    if isinstance(nested, dict):
        build.update(nested)
    elif isinstance(nested, str):
        with contextlib.suppress(ValueError):
            build.update(json.loads(nested))
    return IndexPlan(str(kind), str(metric), build, {}, "the previous index")


def _described_value(value: Any) -> Any:
    """``'16'`` → ``16`` (Milvus describes index parameters as strings)."""
    if isinstance(value, str):
        for cast in (int, float):
            try:
                return cast(value)
            except ValueError:
                continue
    return value

"""The vector index catalogue: build and search parameters per type, and the ``auto`` choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragsilo.errors import CapabilityError, ConfigError
from ragsilo.models import ServerInfo
from ragsilo.settings import IndexSettings


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


def plan_index(settings: IndexSettings, info: ServerInfo, dimension: int) -> IndexPlan:
    """Validate the configured index against the server, or choose one for ``auto``.

    Refuses, before anything is created, a type the server lacks (a GPU index
    on Milvus Lite, DISKANN on Lite) and parameter names the type does not know.
    """
    if settings.type == "auto":
        chosen = "HNSW"
        reason = (
            "auto: HNSW gives high recall at low latency for in-memory collections "
            f"on {info.kind} {info.version}"
        )
    else:
        chosen = settings.type
        reason = f"index.type is set to {chosen}"
    spec = CATALOGUE[chosen]
    if spec.gpu and info.kind == "lite":
        raise CapabilityError(
            f"{chosen} is a GPU index and Milvus Lite has no GPU indexes",
            hint=f"choose one of {', '.join(info.index_types)} or connect to a GPU Milvus server",
        )
    if not spec.gpu and chosen not in info.index_types:
        raise CapabilityError(
            f"index type {chosen} is not supported by {info.kind} {info.version}",
            hint=f"choose one of {', '.join(info.index_types)}",
        )
    build = _merge(chosen, "index.params", spec.build, settings.params)
    search = _merge(chosen, "index.search_params", spec.search, settings.search_params)
    if chosen in ("IVF_PQ", "GPU_IVF_PQ") and dimension % int(build["m"]):
        raise ConfigError(
            f"{chosen} needs index.params.m to divide the vector dimension {dimension}; "
            f"m={build['m']} does not"
        )
    return IndexPlan(chosen, settings.metric, build, search, reason)


def _merge(
    name: str, where: str, defaults: dict[str, Any], given: dict[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise ConfigError(f"{where} for {name} has unknown keys {unknown}; allowed: {allowed}")
    return {**defaults, **given}

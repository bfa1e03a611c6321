"""The ``doctor`` round trip: create a scratch collection, write, flush, load, search,
count and drop it, timing each step (behind :meth:`ragsilo.Silo.doctor`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragsilo.errors import RagsiloError, StoreError
from ragsilo.models import Chunk, ServerInfo
from ragsilo.settings import IndexSettings
from ragsilo.store.indexes import plan_index
from ragsilo.store.protocol import VectorStore


@dataclass(frozen=True)
class DoctorStep:
    """One step of the ``doctor`` round trip."""

    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class DoctorReport:
    info: ServerInfo | None
    steps: tuple[DoctorStep, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "server": self.info.to_dict() if self.info else None,
            "steps": [
                {"name": s.name, "ok": s.ok, "ms": round(s.seconds * 1000, 1), "detail": s.detail}
                for s in self.steps
            ],
        }


def run_doctor(store: VectorStore, *, rows: int = 200, dim: int = 16) -> DoctorReport:
    """The round trip behind :meth:`Silo.doctor`; the scratch collection is always dropped."""
    steps: list[DoctorStep] = []
    name = f"ragsilo_doctor_{int(time.time() * 1000)}"

    def step(label: str, fn: Any) -> Any:
        t = time.perf_counter()
        try:
            out = fn()
        except RagsiloError as e:
            steps.append(DoctorStep(label, False, time.perf_counter() - t, str(e)))
            raise
        detail = out if isinstance(out, str) else ""
        steps.append(DoctorStep(label, True, time.perf_counter() - t, detail))
        return out

    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(rows, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [
        Chunk(
            f"doctor-{i}",
            "doctor",
            "doctor",
            "-",
            "text/plain",
            "doctor",
            None,
            None,
            i,
            f"row {i}",
            {},
            rows,
        )
        for i in range(rows)
    ]
    try:
        plan = plan_index(IndexSettings(type="FLAT"), store.info, dim)
        step(
            "create collection",
            lambda: (
                store.ensure_collection(name, dimension=dim, plan=plan, consistency_level="Strong")
                and f"{name}, FLAT/COSINE, dim {dim}"
            ),
        )
        step(
            "insert",
            lambda: f"{store.upsert_chunks(name, chunks, vectors, batch_bytes=1 << 20)} rows",
        )
        step("flush", lambda: store.flush(name))
        step("load", lambda: store.ensure_loaded(name))

        def _search() -> str:
            hits = store.search(name, vectors[:5], k=3, output_fields=["chunk_index"])
            wrong = [i for i, h in enumerate(hits) if not h or h[0]["id"] != f"doctor-{i}"]
            if wrong:
                raise StoreError(f"search returned the wrong nearest neighbour for queries {wrong}")
            return "5 queries, each found itself first"

        step("search", _search)
        step("count", lambda: f"{store.count(name)} rows")
    except RagsiloError:
        pass
    finally:
        try:
            dropped = store.drop_collection(name)
            steps.append(DoctorStep("drop collection", dropped, 0.0, name))
        except RagsiloError as e:
            steps.append(DoctorStep("drop collection", False, 0.0, str(e)))
    return DoctorReport(store.info, tuple(steps))


__all__ = ["DoctorReport", "DoctorStep", "run_doctor"]

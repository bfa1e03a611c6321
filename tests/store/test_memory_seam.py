"""The store seam in use: retrieval and quality logic run against the in-memory store, with no
Milvus at all."""

from __future__ import annotations

import numpy as np
import pytest

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import CapabilityError, InputError
from ragsilo.models import Hit
from ragsilo.quality.report import build_report, quarantined_rows
from ragsilo.retrieval import Retriever, SearchOptions
from ragsilo.settings import IndexSettings, QualitySettings, RetrievalSettings
from ragsilo.store import plan_index
from ragsilo.store.memory import InMemoryStore
from ragsilo.store.milvus import cluster_partition

from .conftest import make_chunks, unit_vectors

DIM = 8
NAME = "docs"


def _store(n: int = 30, *, partitioned: bool = False) -> tuple[InMemoryStore, np.ndarray]:
    store = InMemoryStore()
    plan = plan_index(IndexSettings(type="FLAT"), store.info, DIM)
    store.ensure_collection(NAME, dimension=DIM, plan=plan, consistency_level="Strong")
    vecs = unit_vectors(n, DIM, seed=4)
    store.upsert_chunks(
        NAME,
        make_chunks(n),
        vecs,
        batch_bytes=1 << 20,
        cluster_ids=[i % 3 for i in range(n)],
        partitioned=partitioned,
    )
    return store, vecs


def _retriever(store: InMemoryStore, model: ClusterModel | None = None, **kw) -> Retriever:
    return Retriever(
        store,
        NAME,
        RetrievalSettings(**kw),
        metric="COSINE",
        clusters=lambda: model,
        to_hit=Hit.from_row,
    )


def _opts(**kw) -> SearchOptions:
    base = {"k": 5, "mode": "dense", "rerank": "none", "route": 0}
    return SearchOptions(**{**base, **kw})


def _model(vecs: np.ndarray, *, partitioned: bool) -> ClusterModel:
    centroids = np.stack([vecs[c::3].mean(0) for c in range(3)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return ClusterModel(centroids, np.asarray([10, 10, 10]), "COSINE", partitioned=partitioned)


def test_dense_search_with_a_filter_through_the_retriever() -> None:
    store, vecs = _store()
    result = _retriever(store).search("q", vecs[7], _opts())
    assert result.hits[0].id == "d-7" and result.hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert result.cluster_ids[0] == 7 % 3 and len(result.hits) == 5
    only_2001 = _retriever(store).search("q", vecs[7], _opts(filter='metadata["year"] == "2001"'))
    assert only_2001.hits and {h.metadata["year"] for h in only_2001.hits} == {"2001"}


@pytest.mark.parametrize("partitioned", [False, True])
def test_routing_searches_only_the_nearest_clusters(partitioned: bool) -> None:
    store, vecs = _store(partitioned=partitioned)
    model = _model(vecs, partitioned=partitioned)
    result = _retriever(store, model).search("q", vecs[4], _opts(k=30, route=1, route_given=True))
    (routed,) = result.routed_to
    assert set(result.cluster_ids) == {routed}
    assert len(result.hits) == 10  # that cluster's rows, and no others
    if partitioned:
        assert result.partitions == (cluster_partition(routed), "_default")


def test_mmr_reranking_reads_vectors_from_the_store() -> None:
    store, vecs = _store()
    result = _retriever(store, candidates=20).search(
        "q", vecs[0], _opts(rerank="mmr", rerank_given=True)
    )
    assert result.reranker == "mmr" and result.hits[0].id == "d-0" and len(result.hits) == 5


def test_bm25_and_hybrid_are_refused_as_on_a_milvus_without_bm25() -> None:
    store, vecs = _store()
    for mode in ("bm25", "hybrid"):
        with pytest.raises(CapabilityError, match=f"{mode} search needs Milvus's BM25"):
            _retriever(store).search("chunk", vecs[0], _opts(mode=mode))
    with pytest.raises(InputError, match="needs clusters"):
        _retriever(store).search("q", vecs[0], _opts(route=2, route_given=True))


def test_quality_report_from_stored_rows() -> None:
    store, _ = _store(6)
    store.ensure_collection(
        "docs_q",
        dimension=DIM,
        plan=plan_index(IndexSettings(type="FLAT"), store.info, DIM),
        consistency_level="Strong",
    )
    chunks = make_chunks(4, doc="bad", source="/docs/bad.txt")
    for c in chunks:
        c.metadata["_quality"] = {"score": 0.1, "reasons": ["too_short"]}
    store.upsert_chunks("docs_q", chunks, unit_vectors(4, DIM), batch_bytes=1 << 20)
    report = build_report(store, NAME, "docs_q", QualitySettings())
    assert (report.kept, report.quarantined, report.unscored) == (0, 4, 6)
    assert report.worst_sources == [("/docs/bad.txt", 4)]
    rows = quarantined_rows(store, "docs_q", reason="too_short")
    assert sorted(r.id for r in rows) == [f"bad-{i}" for i in range(4)]


def test_a_whole_silo_runs_on_the_in_memory_store(hash_embedder, tmp_path) -> None:
    from ragsilo import Silo
    from ragsilo.settings import load_settings

    words = ["compost", "garden", "soil", "water", "heat", "nitrogen", "carbon", "leaves"]
    texts = [
        (
            " ".join(
                f"The {words[(i + j) % 8]} in bed {j} needs {words[(i * 3 + j) % 8]} weekly."
                for j in range(8)
            ),
            {"name": f"t{i}", "year": 2000 + i % 2},
        )
        for i in range(5)
    ]
    silo = Silo(
        # the journal goes beside the (never opened) Milvus Lite file
        load_settings(None, {"milvus": {"uri": str(tmp_path / "unused.db")}}),
        store=InMemoryStore(),
        embedder=hash_embedder,
    )
    report = silo.ingest_texts(texts)
    assert [f.status for f in report.files] == ["ingested"] * 5 and report.chunks_written == 5
    hits = silo.search(texts[2][0], k=3)
    assert hits[0].source == "text://t2" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    odd = silo.search(texts[2][0], k=5, where={"metadata.year": 2001})
    assert {h.source for h in odd} == {"text://t1", "text://t3"}
    assert silo.stats().rows == 5 and silo.doctor().ok
    again = silo.ingest_texts(texts)
    assert [f.status for f in again.files] == ["skipped"] * 5 and silo.stats().rows == 5
    silo.close()

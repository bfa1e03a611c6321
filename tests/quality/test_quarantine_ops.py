"""The quarantine operations (report, list, promote, purge) on the in-memory store: no Milvus,
no embedder."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import CollectionNotFoundError, InputError, NotFoundError
from ragsilo.models import Chunk
from ragsilo.quality import QUALITY_KEY
from ragsilo.quality.quarantine import Quarantine
from ragsilo.settings import IndexSettings, QualitySettings
from ragsilo.store import plan_index
from ragsilo.store.memory import InMemoryStore

DIM = 8
NAME = "docs"
QUARANTINE = "docs_quarantine"


def _chunks(n: int, doc: str, *, score: float, reasons: list[str]) -> list[Chunk]:
    return [
        Chunk(
            id=f"{doc}-{i}",
            doc_id=doc,
            source=f"/docs/{doc}.txt",
            file_sha256=f"sha-{doc}",
            mime_type="text/plain",
            title="",
            page=None,
            section=None,
            chunk_index=i,
            text=f"{doc} chunk {i}",
            metadata={QUALITY_KEY: {"score": score + i / 100, "reasons": reasons}},
            doc_chunks=n,
        )
        for i in range(n)
    ]


def _vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _store(*, quarantine: bool = True) -> InMemoryStore:
    store = InMemoryStore()
    plan = plan_index(IndexSettings(type="FLAT"), store.info, DIM)
    for name in (NAME, QUARANTINE) if quarantine else (NAME,):
        store.ensure_collection(name, dimension=DIM, plan=plan, consistency_level="Strong")
    store.upsert_chunks(
        NAME, _chunks(3, "good", score=0.9, reasons=[]), _vectors(3, 1), batch_bytes=1 << 20
    )
    if quarantine:
        bad = _chunks(2, "menu", score=0.2, reasons=["repeated_lines"])
        bad += _chunks(2, "footer", score=0.1, reasons=["boilerplate"])
        store.upsert_chunks(QUARANTINE, bad, _vectors(4, 2), batch_bytes=1 << 20)
    return store


class _Log:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, int]] = []

    def add_purged(self, rows: Iterable[tuple[str, str, str, int]]) -> None:
        self.rows.extend(rows)


def test_report_counts_kept_and_quarantined_chunks() -> None:
    report = Quarantine(_store(), NAME).report(QualitySettings())
    assert (report.kept, report.quarantined, report.quarantine) == (3, 4, QUARANTINE)
    assert report.reasons_quarantined == {"repeated_lines": 2, "boilerplate": 2}
    assert dict(report.worst_sources) == {"/docs/menu.txt": 2, "/docs/footer.txt": 2}
    without = Quarantine(_store(quarantine=False), NAME).report(QualitySettings())
    assert (without.kept, without.quarantined, without.quarantine) == (3, 0, None)


def test_list_is_lowest_score_first_and_filters_by_reason_and_source() -> None:
    q = Quarantine(_store(), NAME)
    assert [c.id for c in q.list()] == ["footer-0", "footer-1", "menu-0", "menu-1"]
    assert [c.id for c in q.list(reason="repeated_lines")] == ["menu-0", "menu-1"]
    assert [c.id for c in q.list(source="/docs/footer.txt", limit=1)] == ["footer-0"]
    assert Quarantine(_store(quarantine=False), NAME).list() == []


def test_promote_moves_the_rows_marked_promoted() -> None:
    store = _store()
    moved = Quarantine(store, NAME).promote(["menu-1", "footer-0"])
    assert moved == 2
    assert store.count(NAME) == 5 and store.count(QUARANTINE) == 2
    rows = {r["id"]: r for r in store.get_rows(NAME, ["menu-1", "footer-0"], ["id", "metadata"])}
    assert rows["menu-1"]["metadata"][QUALITY_KEY] == {
        "score": pytest.approx(0.21),
        "reasons": ["repeated_lines"],
        "promoted": True,
    }


def test_promote_assigns_clusters_when_there_are_some() -> None:
    store = _store()
    centroids = _vectors(2, 3)
    model = ClusterModel(centroids, np.asarray([2, 1]), "COSINE")
    Quarantine(store, NAME).promote(["menu-0", "menu-1"], clusters=lambda: model)
    got = store.get_rows(NAME, ["menu-0", "menu-1"], ["id", "cluster_id", "vector"])
    for row in got:
        assert row["cluster_id"] == int(model.assign(np.asarray([row["vector"]]))[0])


def test_promote_refuses_what_it_cannot_do() -> None:
    q = Quarantine(_store(), NAME)
    with pytest.raises(InputError, match="give the ids of the chunks to promote"):
        q.promote([])
    with pytest.raises(NotFoundError, match="1 of the ids are not in the quarantine: nope"):
        q.promote(["menu-0", "nope"])
    with pytest.raises(NotFoundError, match="there is no quarantine collection 'docs_quarantine'"):
        Quarantine(_store(quarantine=False), NAME).promote(["menu-0"])
    assert q.store.count(QUARANTINE) == 4  # nothing moved


def test_purge_deletes_and_remembers() -> None:
    store = _store()
    log = _Log()
    q = Quarantine(store, NAME)
    assert q.purge(["menu-0"], log=lambda: log) == 1
    assert log.rows == [("menu-0", "menu", "sha-menu", 2)]
    assert q.purge(log=lambda: log) == 3 and store.count(QUARANTINE) == 0
    assert {r[0] for r in log.rows} == {"menu-0", "menu-1", "footer-0", "footer-1"}
    assert q.purge() == 0
    assert Quarantine(_store(quarantine=False), NAME).purge() == 0


def test_each_operation_opens_the_collection_first() -> None:
    def missing() -> None:
        raise CollectionNotFoundError("collection 'docs' does not exist")

    q = Quarantine(_store(), NAME, ready=missing)
    for call in (
        lambda: q.report(QualitySettings()),
        q.list,
        lambda: q.promote(["menu-0"]),
        q.purge,
    ):
        with pytest.raises(CollectionNotFoundError):
            call()

"""Recluster, cluster-aware ingest and routing on Milvus Lite: nothing lost or duplicated."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.conftest import HashEmbedder

from ragsilo.errors import InputError, NotFoundError
from ragsilo.settings import load_settings
from ragsilo.silo import Silo
from ragsilo.store import MilvusStore

pytestmark = pytest.mark.lite

TEXTS = [
    f"note {i}: {w} and {v}"
    for i, (w, v) in enumerate(
        (w, v)
        for w in ("apples", "rivers", "engines", "violins", "glaciers", "tax law")
        for v in ("red", "blue", "green", "fast", "slow", "old", "new", "tiny", "huge", "odd")
    )
]


@pytest.fixture
def make(lite_uri: str, hash_embedder):
    opened: list[Silo] = []

    def _make(**overrides) -> Silo:
        overrides.setdefault("milvus", {"uri": lite_uri})
        silo = Silo.open(load_settings(None, overrides), embedder=hash_embedder)
        opened.append(silo)
        return silo

    yield _make
    for s in opened:
        s.close()


def rows(silo: Silo) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in silo.store.iter_rows(silo.collection, "", ["id", "cluster_id"]):
        assert r["id"] not in out, f"id {r['id']} is stored twice"
        out[r["id"]] = r["cluster_id"]
    return out


def stored_copies(silo: Silo, lite_uri: str) -> int:
    """The rows in the collection's data files, replaced copies included (Milvus Lite's
    manifest lists the files; each is a Parquet file)."""
    folder = Path(lite_uri) / "collections" / silo.collection
    manifest = json.loads((folder / "manifest.json").read_text())
    total = 0
    for name, part in manifest["partitions"].items():
        for rel in part["data_files"]:
            total += pq.read_metadata(folder / "partitions" / name / rel).num_rows
    return total


def test_recluster_reassigns_every_chunk_and_loses_nothing(make, lite_uri: str) -> None:
    silo = make()
    silo.ingest_texts(TEXTS)
    before = rows(silo)
    assert len(before) == 60 and set(before.values()) == {-1}
    report = silo.recluster(k=4)
    after = rows(silo)
    assert set(after) == set(before) and silo.stats().rows == 60
    assert set(after.values()) == {0, 1, 2, 3}
    # every chunk changed: rebuilt rather than upserted, so no replaced copy is left behind
    assert (report.rows, report.k, report.moved, report.rebuilt) == (60, 4, 60, True)
    assert stored_copies(silo, lite_uri) == 60
    model = silo.cluster_model()
    assert model is not None and model.k == 4 and int(model.sizes.sum()) == 60
    again = silo.recluster(k=4)  # seeded: the same data gives the same clusters
    assert (again.moved, again.rebuilt) == (0, False)
    assert rows(silo) == after


def test_a_recluster_that_changes_few_chunks_upserts_them_in_place(make, lite_uri) -> None:
    silo = make()
    silo.ingest_texts(TEXTS)
    silo.recluster(k=4)
    right = rows(silo)
    wrong = sorted(right)[:5]
    fields = silo.store.row_fields(silo.collection)
    stored = silo.store.get_rows(silo.collection, wrong, fields)
    silo.store.write_rows(silo.collection, [{**r, "cluster_id": 9} for r in stored])
    silo.store.flush(silo.collection)
    report = silo.recluster(k=4)
    assert (report.moved, report.rebuilt) == (5, False)
    assert rows(silo) == right
    # the five rows were upserted twice (cluster 9, then back): two old copies each
    assert stored_copies(silo, lite_uri) == 70
    again = silo.recluster(k=4, rebuild=True)  # afresh, though nothing changes
    assert (again.moved, again.rebuilt) == (60, True)
    assert rows(silo) == right and stored_copies(silo, lite_uri) == 60


def test_new_chunks_get_the_nearest_centroid_at_ingest(make, hash_embedder) -> None:
    silo = make()
    silo.ingest_texts(TEXTS)
    silo.recluster(k=5)
    silo.ingest_texts(["a brand new note about violins"])
    model = silo.cluster_model()
    vec = hash_embedder.embed(["a brand new note about violins"])
    new = [
        r
        for r in silo.store.iter_rows(silo.collection, "", ["text", "cluster_id"])
        if r["text"] == "a brand new note about violins"
    ]
    assert [r["cluster_id"] for r in new] == [int(model.assign(vec)[0])]


def test_partitioned_layout_routes_to_partitions_and_switches_back(make, lite_uri) -> None:
    silo = make(clustering={"partitions": True})
    silo.ingest_texts(TEXTS)
    ids = set(rows(silo))
    report = silo.recluster(k=6)
    assert report.partitioned and report.rebuilt and set(rows(silo)) == ids
    parts = silo.store.list_partitions(silo.collection)
    assert parts == ["_default"] + sorted(f"cluster_{i}" for i in range(6))
    assert silo.recluster(k=6).moved == 0  # unchanged clusters: no rebuild
    # a query that is a stored text finds it through its own cluster alone
    for text in TEXTS[::7]:
        result = silo.retrieve(text, k=1, route=1)
        assert result.hits[0].text == text and len(result.partitions) == 2
    silo.ingest_texts(["a late note about engines"])  # lands in its cluster's partition
    late = silo.retrieve("a late note about engines", k=1, route=1)
    assert late.hits[0].text.startswith("a late")
    silo.close()
    back = make(clustering={"partitions": False})
    report = back.recluster(k=6)
    assert not report.partitioned and report.rebuilt
    assert back.store.list_partitions(back.collection) == ["_default"]
    assert len(rows(back)) == 61
    result = back.retrieve(TEXTS[3], k=1, route=1)
    assert result.hits[0].text == TEXTS[3] and result.partitions == () and result.routed_to


def test_an_interrupted_rebuild_is_finished_on_the_next_open(make, monkeypatch) -> None:
    silo = make(clustering={"partitions": True})
    silo.ingest_texts(TEXTS)
    ids = set(rows(silo))

    def crash(self, old, new):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(MilvusStore, "rename_collection", crash)
    with pytest.raises(KeyboardInterrupt):
        silo.recluster(k=3)
    monkeypatch.undo()
    assert not silo.store.has_collection(silo.collection)  # dropped, copy not yet renamed
    silo.close()
    again = make(clustering={"partitions": True})  # opening finishes the rebuild
    assert set(rows(again)) == ids and again.stats().rows == len(ids)


def test_recluster_refuses_bad_k_and_empty_collections_and_keeps_data(make) -> None:
    silo = make()
    with pytest.raises(Exception, match="does not exist"):
        silo.recluster()
    silo.ingest_texts(TEXTS[:5])
    with pytest.raises(InputError, match=r"k \(9\) is larger than the number of chunks \(5\)"):
        silo.recluster(k=9)
    with pytest.raises(InputError, match="at least 1"):
        silo.recluster(k=0)
    assert set(rows(silo).values()) == {-1} and len(rows(silo)) == 5
    assert silo.cluster_model() is None
    silo.delete(filter="chunk_index >= 0")
    with pytest.raises(InputError, match="nothing to cluster"):
        silo.recluster()
    assert silo.store.has_collection(silo.collection) and silo.stats().rows == 0


def test_cluster_features_need_clusters_when_asked_for(make) -> None:
    silo = make()
    silo.ingest_texts(TEXTS[:12])
    with pytest.raises(InputError, match="recluster"):
        silo.search("apples", route=2)
    with pytest.raises(InputError, match="needs clusters"):
        silo.search("apples", rerank="cluster_size")
    with pytest.raises(NotFoundError):
        silo.clusters()
    silo.close()
    # as defaults from the settings they wait for the first recluster instead
    quiet = make(retrieval={"route_clusters": 2, "rerank": "centroid_query"})
    assert quiet.search("note 3: apples and fast", k=1)[0].text == "note 3: apples and fast"


def test_clusters_show_live_sizes_keywords_and_representatives(make) -> None:
    silo = make(clustering={"representatives": 2, "keywords": 3})
    silo.ingest_texts(TEXTS)
    silo.recluster(k=3)
    summary = silo.clusters()
    assert sum(c.size for c in summary) == 60 and [c.size for c in summary] == sorted(
        (c.size for c in summary), reverse=True
    )
    assert all(len(c.representatives) == 2 and len(c.keywords) == 3 for c in summary)
    assert all(r["text"] in TEXTS for c in summary for r in c.representatives)
    silo.drop_collection()
    assert silo.collections() == []  # the centroids went with the chunks


def test_a_tenant_collection_is_rebuilt_with_every_tenant_kept(make, lite_uri: str) -> None:
    silo = make(collection={"tenants": True, "tenant_partitions": 4})
    silo.ingest_texts(TEXTS[:30], tenant="acme")
    silo.ingest_texts(TEXTS[30:], tenant="globex")
    before = rows(silo)
    report = silo.recluster(k=3)
    assert report.rebuilt and report.moved == 60 and stored_copies(silo, lite_uri) == 60
    assert set(rows(silo)) == set(before)
    assert silo.store.has_tenants(silo.collection)  # still keyed by tenant
    for tenant, texts in (("acme", TEXTS[:30]), ("globex", TEXTS[30:])):
        hits = silo.search(texts[4], k=30, tenant=tenant)
        assert {h.text for h in hits} == set(texts)  # its own chunks, and only them


def test_a_rebuild_keeps_the_index_the_collection_has(make, lite_uri: str) -> None:
    silo = make()
    silo.ingest_texts(TEXTS)
    silo.set_index("IVF_FLAT", params={"nlist": 8})  # not what the settings say (auto: HNSW)
    silo.close()
    again = make()
    assert again.recluster(k=4).rebuilt
    assert (again.index()["type"], again.index()["params"]) == ("IVF_FLAT", {"nlist": 8})
    again.set_index("HNSW", params={"M": 24, "efConstruction": 100})  # the type, other params
    again.close()
    third = make()
    assert third.recluster(k=4, rebuild=True).rebuilt
    assert third.index()["params"] == {"M": 24, "efConstruction": 100}
    assert third.search(TEXTS[7], k=1)[0].text == TEXTS[7]


def test_searches_during_a_rebuild_wait_for_the_swap_instead_of_failing(make) -> None:
    silo = make()
    silo.ingest_texts(TEXTS)
    silo.search(TEXTS[0], k=1)  # opened and loaded before the race
    stop = threading.Event()
    found: list[int] = []
    errors: list[BaseException] = []

    def search() -> None:
        while not stop.is_set():
            try:
                found.append(len(silo.search(TEXTS[9], k=3)))
            except BaseException as e:  # noqa: BLE001 - every failure is the test's
                errors.append(e)

    thread = threading.Thread(target=search)
    thread.start()
    try:
        for _ in range(3):
            assert silo.recluster(k=4, rebuild=True).rebuilt
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[:1]
    assert found and set(found) == {3}


class _HeldEmbedder(HashEmbedder):
    """Embeds the texts of an ingest only once ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = threading.Event(), threading.Event()

    def embed(self, texts):
        if any(t.startswith("late ") for t in texts):
            self.holding.set()
            self.release.wait(10)
        return super().embed(texts)


def test_a_recluster_waits_for_an_ingest_under_way_and_loses_none_of_it(lite_uri: str) -> None:
    embedder = _HeldEmbedder()
    silo = Silo.open(load_settings(None, {"milvus": {"uri": lite_uri}}), embedder=embedder)
    try:
        silo.ingest_texts(TEXTS)
        late = [f"late {t}" for t in TEXTS]
        ingest = threading.Thread(target=silo.ingest_texts, args=(late,))
        ingest.start()
        assert embedder.holding.wait(10)  # the ingest is under way, its rows not yet written
        stages: list[str] = []
        reports = []
        recluster = threading.Thread(
            target=lambda: reports.append(
                silo.recluster(k=4, rebuild=True, progress=lambda s, d, t: stages.append(s))
            )
        )
        recluster.start()
        time.sleep(0.3)
        assert stages == []  # the recluster has not begun to read the collection
        embedder.release.set()
        ingest.join(10)
        recluster.join(30)
        assert reports and reports[0].rows == 120 and reports[0].rebuilt
        stored = rows(silo)
        assert len(stored) == 120 and -1 not in stored.values()
    finally:
        embedder.release.set()
        silo.close()

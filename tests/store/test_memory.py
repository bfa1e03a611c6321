"""The in-memory store: its filter language, its agreement with Milvus Lite, and the seam
(the protocol both stores implement)."""

from __future__ import annotations

import inspect
import uuid

import numpy as np
import pytest

from ragsilo.errors import CollectionNotFoundError, FilterError, InputError
from ragsilo.models import Hit
from ragsilo.settings import IndexSettings, MilvusSettings
from ragsilo.store import DEFAULT_OUTPUT_FIELDS, MilvusStore, build_filter, plan_index
from ragsilo.store.doctor import run_doctor
from ragsilo.store.memory import InMemoryStore, compile_filter
from ragsilo.store.protocol import IndexAdmin, VectorStore

from .conftest import make_chunks, unit_vectors

DIM = 12
FIELDS = {
    "id": "str",
    "source": "str",
    "page": "int",
    "metadata": "json",
    "vector": "vector",
}
ROW = {"id": "a-1", "source": "/docs/a.txt", "page": 3, "metadata": {"year": "2001", "n": 4}}


def _members(proto: type) -> list[str]:
    return [
        n
        for n, v in vars(proto).items()
        if not n.startswith("_") and (callable(v) or isinstance(v, property))
    ]


@pytest.mark.parametrize("impl", [MilvusStore, InMemoryStore])
def test_both_stores_have_every_protocol_call_with_its_signature(impl: type) -> None:
    protos = [VectorStore, IndexAdmin] if impl is MilvusStore else [VectorStore]
    for proto in protos:
        for name in _members(proto):
            want = getattr(proto, name)
            got = getattr(impl, name, None)
            assert got is not None, f"{impl.__name__} has no {name}"
            if isinstance(want, property):
                assert isinstance(got, property), name
                continue
            wp, gp = inspect.signature(want).parameters, inspect.signature(got).parameters
            assert [(p.name, p.kind) for p in wp.values()] == [
                (p.name, p.kind) for p in gp.values()
            ], f"{impl.__name__}.{name}"
    assert isinstance(InMemoryStore(), VectorStore)
    assert not isinstance(InMemoryStore(), IndexAdmin)  # no replicas or index rebuilds


@pytest.mark.parametrize(
    ("expr", "matches"),
    [
        ("", True),
        ('source == "/docs/a.txt"', True),
        ("source == '/docs/a.txt'", True),
        ('source != "/docs/a.txt"', False),
        ("page == 3 and page >= 3 and page <= 3 and page > 2 and page < 4", True),
        ("page > 3 or page < 3", False),
        ("not (page == 3)", False),
        ("not page == 2", True),
        ("!(page == 3) || page == 3", True),
        ("page == 1 && page == 3", False),
        ("page in [1, 2, 3]", True),
        ("page not in [1, 2, 3]", False),
        ('id in ["a-1"]', True),
        ('source like "/docs/%"', True),
        ('source like "%/a.txt"', True),
        ('source like "/docs/_.txt"', True),
        ('source like "/doc"', False),
        ('metadata["year"] == "2001"', True),
        ('metadata["year"] == 2001', False),  # a JSON string is not a number
        ('metadata["n"] == 4 and metadata["n"] > 3.5', True),
        ('metadata["missing"] == 1', False),
        ('metadata["missing"] != 1', False),
        ('metadata["n"] in [1, 4]', True),
        ('(page == 3) and (metadata["year"] == "2001" or page == 9)', True),
        (build_filter({"source": '/docs/a.txt" or 1==1 or source == "'}), False),
        (build_filter({"metadata.n": 4}), True),
        (build_filter({"metadata.year": "2001", "page": "3"}), True),
    ],
)
def test_filter_expressions(expr: str, matches: bool) -> None:
    assert compile_filter(expr, FIELDS)(ROW) is matches


@pytest.mark.parametrize(
    "expr",
    [
        "page >",
        "page == (1",
        "title == 'a",
        "nofield == 1",
        "page = 1",
        "page in [1,",
        'page == "3"',
        "source == 3",
        "metadata == 1",
        'page like "3%"',
        "vector == 1",
        "page == 1 page == 2",
        "(page == 1",
    ],
)
def test_bad_filters_are_filter_errors(expr: str) -> None:
    with pytest.raises(FilterError):
        compile_filter(expr, FIELDS)


@pytest.fixture
def lite(tmp_path) -> MilvusStore:
    s = MilvusStore.connect(MilvusSettings(uri=str(tmp_path / "memory_vs_lite.db")))
    yield s
    s.close()


def _load(store, name: str, metric: str) -> None:
    plan = plan_index(IndexSettings(type="FLAT", metric=metric), store.info, DIM)
    store.ensure_collection(name, dimension=DIM, plan=plan, consistency_level="Strong")
    vecs = unit_vectors(300, DIM, seed=11) * np.linspace(0.5, 2.0, 300)[:, None]  # not unit
    store.upsert_chunks(name, make_chunks(300), vecs.astype(np.float32), batch_bytes=1 << 20)
    store.flush(name)


FILTERS = (
    "",
    build_filter({"metadata.year": "2002"}),
    build_filter({"page": [1, 3]}),
    'section == "Intro" and chunk_index >= 100',
    'not (page == 2) and source like "/docs/%"',
    "chunk_index not in [0, 1, 2, 3] and doc_chunks == 300",
)


@pytest.mark.parametrize("metric", ["COSINE", "IP", "L2"])
def test_memory_and_lite_agree_on_exact_top_k_and_filters(lite: MilvusStore, metric: str) -> None:
    mem = InMemoryStore()
    name = f"agree_{uuid.uuid4().hex[:8]}"
    _load(lite, name, metric)
    _load(mem, name, metric)
    queries = unit_vectors(10, DIM, seed=42)
    for flt in FILTERS:
        a = lite.search(name, queries, k=8, filter=flt, output_fields=["page", "metadata"])
        b = mem.search(name, queries, k=8, filter=flt, output_fields=["page", "metadata"])
        for qa, qb in zip(a, b, strict=True):
            assert [h["id"] for h in qa] == [h["id"] for h in qb], (metric, flt)
            for ha, hb in zip(qa, qb, strict=True):
                assert ha["distance"] == pytest.approx(hb["distance"], rel=1e-4, abs=1e-4)
                assert ha == {**hb, "distance": ha["distance"]}
        assert lite.count(name, flt) == mem.count(name, flt), flt
        got_a = sorted(r["id"] for r in lite.query(name, flt, ["id", "page"]))
        got_b = sorted(r["id"] for r in mem.query(name, flt, ["id", "page"]))
        assert got_a == got_b, flt
    ids = ["d-3", "d-7", "nope"]
    assert sorted(map(str, lite.get_rows(name, ids, ["id", "title"]))) == sorted(
        map(str, mem.get_rows(name, ids, ["id", "title"]))
    )
    assert lite.stats(name) == mem.stats(name)


def test_rows_are_copies_and_closed_stores_refuse(tmp_path) -> None:
    mem = InMemoryStore()
    plan = plan_index(IndexSettings(type="FLAT"), mem.info, DIM)
    assert mem.ensure_collection("c", dimension=DIM, plan=plan, consistency_level="Strong")
    mem.upsert_chunks("c", make_chunks(2), unit_vectors(2, DIM), batch_bytes=1 << 20)
    row = mem.query("c", 'id == "d-0"', ["metadata"])[0]
    row["metadata"]["year"] = "changed"
    assert mem.query("c", 'id == "d-0"', ["metadata"])[0]["metadata"]["year"] == "2000"
    with pytest.raises(InputError, match="no field 'nope'"):
        mem.query("c", "", ["nope"])
    mem.rename_collection("c", "d")
    assert mem.list_collections() == ["d"] and mem.count("d") == 2
    with pytest.raises(CollectionNotFoundError):
        mem.count("c")
    mem.close()
    with pytest.raises(Exception, match="closed"):
        mem.count("d")


def test_doctor_runs_on_any_store() -> None:
    mem = InMemoryStore()
    report = run_doctor(mem, rows=50, dim=8)
    assert report.ok, report.to_dict()
    assert [s.name for s in report.steps] == [
        "create collection",
        "insert",
        "flush",
        "load",
        "search",
        "count",
        "drop collection",
    ]
    assert report.steps[-2].detail == "50 rows" and mem.list_collections() == []
    assert report.to_dict()["server"]["kind"] == "memory"


def test_hit_from_row() -> None:
    from ragsilo.models import HIT_ROW_FIELDS

    assert HIT_ROW_FIELDS == DEFAULT_OUTPUT_FIELDS  # a search returns what a hit carries
    row = {
        "id": "x",
        "distance": 0.5,
        "text": "t",
        "page": 0,
        "section": "",
        "chunk_index": None,
        "metadata": None,
        "cluster_id": 3,
        "source": "s",
    }
    hit = Hit.from_row(row, ["text", "cluster_id", "absent"])
    assert hit == Hit(
        id="x",
        score=0.5,
        text="t",
        source="s",
        title="",
        page=None,
        section=None,
        chunk_index=0,
        doc_id="",
        metadata={},
        fields={"cluster_id": 3},
    )

"""A corpus of filter injections against a multi-tenant silo on Milvus Lite: none may read or
delete another tenant's rows. Each is either refused (FilterError) or stays inside its tenant."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest
from tests.conftest import HashEmbedder

from ragsilo import Silo
from ragsilo.errors import FilterError, StoreError
from ragsilo.settings import load_settings
from ragsilo.store.filters import canonical_filter, with_tenant

CORPUS = Path(__file__).parent / "data" / "filter_injections.txt"


def _load() -> list[str]:
    out = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.replace("\\n", "\n").replace("\\r", "\r"))
    return out


INJECTIONS = _load()
ACME = [(f"acme secret merger plan number {i}", {"name": f"acme-{i}"}) for i in range(3)]
GLOBEX = [(f"globex merger plan public note {i}", {"name": f"globex-{i}"}) for i in range(2)]


def test_the_corpus_is_large_enough() -> None:
    assert len(INJECTIONS) >= 30


@pytest.fixture(scope="module", params=["lite", pytest.param("server", marks=pytest.mark.server)])
def silo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "lite":
        milvus = {"uri": str(tmp_path_factory.mktemp("inj") / "inj.db")}
    else:
        server = request.getfixturevalue("milvus_server")
        milvus = {"uri": server.uri, "token": server.token}
    settings = load_settings(
        overrides={
            "milvus": milvus,
            "collection": {
                "name": f"inj_{uuid.uuid4().hex[:8]}",
                "tenants": True,
                "tenant_partitions": 4,
            },
            "index": {"type": "FLAT"},
        }
    )
    s = Silo.open(settings, embedder=HashEmbedder())
    s.ingest_texts(ACME, tenant="acme")
    s.ingest_texts(GLOBEX, tenant="globex")
    yield s
    s.drop_collection()
    s.close()


def _acme_rows(s: Silo) -> int:
    return s.store.count(s.collection, with_tenant("", "acme"))


@pytest.mark.parametrize("expr", INJECTIONS, ids=range(len(INJECTIONS)))
def test_no_injection_reads_or_deletes_another_tenant(silo: Silo, expr: str) -> None:
    assert _acme_rows(silo) == 3
    for mode in ("dense", "bm25", "hybrid"):
        try:
            hits = silo.search("merger plan", k=10, mode=mode, tenant="globex", filter=expr)
        except (FilterError, StoreError):
            continue  # refused: nothing read
        assert all(h.source.startswith("text://globex-") for h in hits), (mode, expr)
    try:
        answer = silo.ask("merger plan", k=5, tenant="globex", filter=expr)
    except (FilterError, StoreError):
        pass
    else:
        assert all(c.source.startswith("text://globex-") for c in answer.citations)
    deleted = 0
    with contextlib.suppress(FilterError, StoreError):
        deleted = silo.delete(filter=expr, tenant="globex")
    assert _acme_rows(silo) == 3, f"{expr!r} deleted another tenant's rows"
    if deleted:
        silo.ingest_texts(GLOBEX, tenant="globex")  # put back what a valid filter removed


def test_the_issue_probe_is_refused_before_milvus(silo: Silo) -> None:
    for probe in ("1==1)) or ((1==1", "page==0)) or ((page==0"):
        with pytest.raises(FilterError, match="the filter expression is invalid at character"):
            silo.search("merger plan", tenant="acme", filter=probe)
        with pytest.raises(FilterError, match="the filter expression is invalid at character"):
            silo.delete(tenant="acme", filter=probe)
    assert _acme_rows(silo) == 3


@pytest.mark.parametrize(
    "expr",
    [
        "page >= 0",
        'source like "text://globex-%" and chunk_index >= 0',
        "not (page == 99) or chunk_index == 5",
        "0 <= page < 100",
        "page + 1 == 1",
        "page not in [7, 8] && chunk_index in [0, 1, 2]",
        'metadata["missing"] == "x" or page >= -1',
        "(((page >= 0)))",
        "NOT page == 99 AND page != 98",
        "source == 'text://globex-0' or source == \"text://globex-1\"",
    ],
)
def test_valid_filters_still_work_and_stay_in_the_tenant(silo: Silo, expr: str) -> None:
    canonical = canonical_filter(expr)
    assert canonical_filter(canonical) == canonical  # written out, it reads back the same
    hits = silo.search("merger plan", k=10, mode="dense", tenant="globex", filter=expr)
    assert sorted(h.source for h in hits) == ["text://globex-0", "text://globex-1"]

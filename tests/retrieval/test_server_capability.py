"""On the Milvus 2.3 server: bm25 and hybrid are refused with a clear capability error (it has no
BM25 function), dense search, reclustering and routing work, and stored data stays intact."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ragsilo.cli.main import app
from ragsilo.errors import CapabilityError
from ragsilo.settings import load_settings
from ragsilo.silo import Silo

pytestmark = pytest.mark.server

TEXTS = [
    f"server note {i} about {w}"
    for i, w in enumerate(
        ["otters", "rivers", "engines", "violins", "glaciers", "tax law", "bees", "tea"] * 3
    )
]


def test_bm25_and_hybrid_are_refused_and_the_rest_works(milvus_server, hash_embedder) -> None:
    settings = load_settings(
        None,
        {
            "milvus": {"uri": milvus_server.uri, "token": milvus_server.token},
            "collection": {"name": "server_capability"},
            "clustering": {"partitions": True},
        },
    )
    with Silo.open(settings, embedder=hash_embedder) as silo:
        silo.drop_collection()
        try:
            silo.ingest_texts(TEXTS)
            for mode in ("bm25", "hybrid"):
                with pytest.raises(CapabilityError, match=f"{mode} search needs Milvus's BM25"):
                    silo.search("otters", mode=mode)
            assert silo.search(TEXTS[5], k=1)[0].text == TEXTS[5]
            report = silo.recluster(k=3)
            assert report.rebuilt and silo.stats().rows == len(TEXTS)
            routed = silo.retrieve(TEXTS[9], k=1, route=1)
            assert routed.hits[0].text == TEXTS[9] and len(routed.partitions) == 2
            assert routed.reranker == "cluster_smooth"  # the default; its vectors come back too
            res = CliRunner().invoke(
                app,
                [
                    "--uri",
                    milvus_server.uri,
                    "--token",
                    milvus_server.token,
                    "--collection",
                    "server_capability",
                    "search",
                    "otters",
                    "--mode",
                    "hybrid",
                ],
            )
            assert res.exit_code == 5 and "came in Milvus 2.5" in res.output
            assert silo.stats().rows == len(TEXTS)
        finally:
            silo.drop_collection()

"""The main job on the real Milvus server: ingest the samples, search, re-ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragsilo.settings import load_settings
from ragsilo.silo import Silo

pytestmark = [pytest.mark.server, pytest.mark.embed]

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_samples_on_the_server(milvus_server, embedder) -> None:
    settings = load_settings(
        None,
        {
            "milvus": {"uri": milvus_server.uri, "token": milvus_server.token},
            "collection": {"name": "server_samples"},
        },
    )
    with Silo.open(settings, embedder=embedder) as silo:
        silo.drop_collection()
        try:
            report = silo.ingest([SAMPLES])
            assert report.failed == 0 and report.ingested == len(list(SAMPLES.iterdir()))
            hits = silo.search("what temperature does a hot compost pile reach?", k=3)
            assert hits[0].score > 0.5 and "compost" in hits[0].text.lower()
            again = silo.ingest([SAMPLES])
            assert again.chunks_written == 0 and again.skipped == report.ingested
            assert silo.stats().rows == report.chunks_written
            assert silo.stats().index_type == "HNSW"
            doctor = silo.doctor()
            assert doctor.ok and doctor.info and doctor.info.kind == "server"
        finally:
            silo.drop_collection()

"""Silo.ingest_texts and Silo.ingest(source_names=...): texts and renamed files as documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragsilo.errors import InputError

pytestmark = [pytest.mark.lite, pytest.mark.embed]


def test_texts_become_documents_with_stable_sources(make_silo) -> None:
    silo = make_silo()
    report = silo.ingest_texts(
        [
            "Glaciers are slow rivers of ice that carve valleys.",
            ("Tides follow the moon.", {"name": "tides", "title": "Tides", "lang": "en"}),
        ]
    )
    assert (report.ingested, report.failed) == (2, 0)
    sources = sorted(f.path for f in report.files)
    assert sources[1] == "text://tides"
    assert sources[0].startswith("text://") and len(sources[0]) == len("text://") + 16
    hit = silo.search("what do tides follow?", k=1, where={"metadata.lang": "en"})[0]
    assert (hit.source, hit.title) == ("text://tides", "Tides")
    glacier = silo.search("ice rivers", k=1)[0]
    assert glacier.title == "Glaciers are slow rivers of ice that carve valleys."

    again = silo.ingest_texts(["Glaciers are slow rivers of ice that carve valleys."])
    assert (again.skipped, again.chunks_written) == (1, 0)
    changed = silo.ingest_texts([("Tides rise twice a day.", {"name": "tides"})])
    assert changed.ingested == 1 and changed.chunks_deleted == 1
    assert silo.stats().documents == 2


def test_bad_texts(make_silo) -> None:
    silo = make_silo()
    report = silo.ingest_texts(["   ", "Owls hunt at night."])
    assert (report.ingested, report.failed) == (1, 1)
    assert report.failures[0].error_code == "parse_error"
    assert silo.ingest_texts(["same", "same"]).ingested == 1  # one document, not two
    with pytest.raises(InputError, match="both named"):
        silo.ingest_texts([("a", {"name": "n"}), ("b", {"name": "n"})])
    with pytest.raises(InputError):
        silo.ingest_texts([])
    with pytest.raises(InputError):
        silo.ingest_texts("not a list")  # type: ignore[arg-type]


def test_source_names_give_files_a_stable_name(make_silo, tmp_path: Path) -> None:
    silo = make_silo()
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    for d in (first_dir, second_dir):
        d.mkdir()
        (d / "notes.md").write_text("# Notes\n\nBadgers dig setts.\n", encoding="utf-8")
    first = silo.ingest(
        [first_dir / "notes.md"], source_names={first_dir / "notes.md": "upload://notes.md"}
    )
    assert [f.path for f in first.files] == ["upload://notes.md"]
    assert silo.search("badgers", k=1)[0].source == "upload://notes.md"
    # the same content under the same name from another folder is already stored
    second = silo.ingest(
        [second_dir / "notes.md"], source_names={str(second_dir / "notes.md"): "upload://notes.md"}
    )
    assert (second.skipped, second.ingested) == (1, 0)
    with pytest.raises(InputError, match="prune"):
        silo.ingest([first_dir], prune=True, source_names={first_dir / "notes.md": "x"})

"""Quality on Milvus Lite: good chunks in the collection, bad ones in the quarantine,
duplicates caught, promote and purge, and a rerun that writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragsilo.quality import QUALITY_KEY
from ragsilo.settings import load_settings
from ragsilo.silo import Silo

pytestmark = [pytest.mark.lite, pytest.mark.embed]

LIGHTHOUSE = (
    "The lighthouse keeper climbed the spiral stairs every evening to light the lamp, "
    "trim the wick and wind the clockwork that turned the great lens."
)
NEAR = LIGHTHOUSE.replace("every evening", "each evening")
GOOD = {
    "bees.md": "# Bees\n\nHoney bees live in colonies with one queen and thousands of workers.",
    "lighthouse.txt": LIGHTHOUSE,
}
BAD = {
    "symbols.txt": ("4711 0815 ++++ //// 2024-01-01 ==== 99.5% #### 1234 5678 9012", "symbols"),
    "footer.txt": (
        "© 2024 Example Inc. All rights reserved.\nPrivacy Policy | Terms of Service\n"
        "We use cookies; click here to accept cookies.\nSubscribe to our newsletter.",
        "boilerplate",
    ),
    "menu.txt": ("Home\nAbout\nHome\nAbout\nHome\nAbout\nHome\nAbout\nContact", "repeated_lines"),
    "mojibake.txt": (
        "CafÃ© rÃ©sumÃ© naÃ¯ve â€œquotedâ€\x9d text that was decoded wrongly here",
        "encoding",
    ),
    "copy.txt": (LIGHTHOUSE, "duplicate"),
    "paraphrase.txt": (NEAR, "near_duplicate"),
}


@pytest.fixture
def silo(tmp_path: Path, embedder):
    s = Silo.open(
        load_settings(None, {"milvus": {"uri": str(tmp_path / "q.db")}}), embedder=embedder
    )
    yield s
    s.close()


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_bad_chunks_go_to_the_quarantine_and_come_back_on_promote(
    silo: Silo, tmp_path: Path
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    _write(good, GOOD)
    _write(bad, {n: t for n, (t, _) in BAD.items()})
    first = silo.ingest([good])
    assert first.chunks_quarantined == 0 and first.chunks_written == 2
    report = silo.ingest([bad])
    assert report.failed == 0 and report.chunks_written == 0
    assert report.chunks_quarantined == len(BAD)
    assert {Path(f.path).name: f.quarantined for f in report.files} == {n: 1 for n in BAD}
    assert set(report.stages) >= {"parse", "score", "embed", "write"}

    listed = {Path(c.source).name: c for c in silo.quarantine_list()}
    assert set(listed) == set(BAD)
    for name, (_, reason) in BAD.items():
        assert reason in listed[name].reasons, (name, listed[name])
        assert listed[name].score < 0.5
    assert silo.store.count(silo.collection) == 2
    assert silo.quarantine_collection == "ragsilo_quarantine"

    # the main collection never returns a quarantined chunk
    hits = silo.search("lighthouse keeper lamp", k=10)
    assert {Path(h.source).name for h in hits} <= set(GOOD)
    assert hits[0].metadata[QUALITY_KEY]["score"] == 1.0

    # nothing is written again: the quarantine counts as stored
    again = silo.ingest([good, bad])
    assert (again.skipped, again.chunks_written, again.chunks_quarantined) == (8, 0, 0)

    rep = silo.quality_report()
    assert (rep.kept, rep.quarantined) == (2, len(BAD))
    assert rep.reasons_quarantined["duplicate"] == 1

    para = listed["paraphrase.txt"]
    assert silo.promote([para.id]) == 1
    hits = silo.search("who winds the clockwork of the lens each evening?", k=10)
    promoted = [h for h in hits if h.id == para.id]
    assert promoted and promoted[0].metadata[QUALITY_KEY]["promoted"] is True
    assert para.id not in {c.id for c in silo.quarantine_list()}
    # promoted stays promoted, and the rest is skipped
    assert silo.ingest([bad]).skipped == len(BAD)

    assert silo.purge() == len(BAD) - 1
    assert silo.quarantine_list() == []
    # purged chunks are not brought back by ingesting the same files again
    assert silo.ingest([bad]).chunks_quarantined == 0
    assert silo.quarantine_list() == []

    # a changed file is scored again
    (bad / "menu.txt").write_text(
        "The menu lists soups, breads and three kinds of pie made fresh every morning.",
        encoding="utf-8",
    )
    changed = silo.ingest([bad])
    assert changed.ingested == 1 and changed.chunks_written == 1
    assert len(silo.search("fresh pie", k=1, where={"source": str(bad / "menu.txt")})) == 1


def test_quality_off_writes_everything(tmp_path: Path, embedder) -> None:
    settings = load_settings(
        None, {"milvus": {"uri": str(tmp_path / "off.db")}, "quality": {"enabled": False}}
    )
    _write(tmp_path / "bad", {n: t for n, (t, _) in BAD.items()})
    with Silo.open(settings, embedder=embedder) as silo:
        report = silo.ingest([tmp_path / "bad"])
        assert report.chunks_written == len(BAD) and report.chunks_quarantined == 0
        assert "ragsilo_quarantine" not in silo.collections()

"""Images through the whole ingest on Milvus Lite: found by their text, shown by their
thumbnail; bad inputs each fail on their own with a clear message."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

pytest.importorskip("pytesseract", reason='OCR needs pytesseract: pip install "ragsilo[image]"')
from tests.parsers.test_image import _tesseract, bomb_png, text_image  # noqa: E402

pytestmark = [
    pytest.mark.lite,
    pytest.mark.embed,
    pytest.mark.skipif(not _tesseract(), reason="the tesseract program is not installed"),
]


def test_an_image_only_document_is_found_by_its_text(tmp_path: Path, make_silo, docs) -> None:
    text_image_path = docs / "notice.png"
    text_image_path.write_bytes(
        text_image(["Ferry timetable", "Boats leave the pier", "every hour"], size=(1000, 300))
    )
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(buf, "JPEG")
    (docs / "red.jpg").write_bytes(buf.getvalue())
    silo = make_silo()
    report = silo.ingest([docs])
    assert report.failed == 0 and report.ingested == 5
    hits = silo.search("when do the boats leave the pier?", k=3)
    top = hits[0]
    assert Path(top.source).name == "notice.png"
    assert "ferry timetable" in top.text.lower()
    image = top.metadata["image"]
    assert image["format"] == "PNG" and image["thumbnail"].startswith("data:image/jpeg;base64,")
    red = silo.search("red.jpg image", k=5)
    assert "red.jpg" in {Path(h.source).name for h in red}


def test_bad_inputs_fail_one_by_one_and_the_rest_is_ingested(tmp_path: Path, make_silo) -> None:
    from pypdf import PdfWriter

    d = tmp_path / "mixed"
    d.mkdir()
    (d / "good.png").write_bytes(text_image(["Volcanic ash cloud warning"]))
    (d / "note.md").write_text("# Note\n\nGlaciers carve deep valleys over thousands of years.")
    (d / "bomb.png").write_bytes(bomb_png())
    (d / "empty.png").write_bytes(b"")
    (d / "fake.jpg").write_text("plain text wearing an image's name", encoding="utf-8")
    writer = PdfWriter()
    for _ in range(10_000):
        writer.add_blank_page(10, 10)
    with (d / "huge.pdf").open("wb") as f:
        writer.write(f)
    os.mkfifo(d / "pipe.txt")
    locked = d / "locked"
    locked.mkdir()
    (locked / "secret.txt").write_text("Not to be read.", encoding="utf-8")
    os.symlink(d / "missing-target.txt", d / "dangling.txt")
    silo = make_silo(ingest={"follow_symlinks": True})
    locked.chmod(0)
    try:
        report = silo.ingest([d])
    finally:
        locked.chmod(0o755)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["good.png"].status == "ingested" and by_name["note.md"].status == "ingested"
    expected = {
        "bomb.png": "decompression bomb",
        "empty.png": "empty",
        "fake.jpg": "named .jpg but its bytes are not an image",
        "huge.pdf": "10000 pages",
        "pipe.txt": "not a regular file",
        "dangling.txt": "broken symbolic link",
    }
    for name, words in expected.items():
        assert by_name[name].status == "failed", by_name[name]
        assert words in (by_name[name].message or ""), by_name[name]
    if os.geteuid() != 0:  # root reads any folder
        assert by_name["locked"].status == "failed"
    assert "volcanic ash" in silo.search("volcano ash warning", k=1)[0].text.lower()

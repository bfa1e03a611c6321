"""Images: OCR of generated pictures with known text, metadata and thumbnails, and the
ways an image file can be bad. Needs Pillow, pytesseract and the tesseract program."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest

from ragsilo.errors import ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.image import ImageParser, parsers_for
from ragsilo.settings import ImageSettings

pytest.importorskip("pytesseract", reason='OCR needs pytesseract: pip install "ragsilo[image]"')
Image = pytest.importorskip("PIL.Image")


def _tesseract() -> bool:
    import pytesseract

    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _tesseract(),
    reason="the tesseract program is not installed (apt-get install tesseract-ocr)",
)
PARSERS = parsers_for(ImageSettings())


def text_image(lines: list[str], size: tuple[int, int] = (1000, 240), **save) -> bytes:
    """An image with ``lines`` drawn large in black on white, encoded as ``save`` says."""
    from PIL import ImageDraw, ImageFont

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=44)
    for n, line in enumerate(lines):
        draw.text((24, 30 + n * 70), line, fill="black", font=font)
    buf = io.BytesIO()
    fmt = save.pop("format", "PNG")
    img.save(buf, fmt, **save)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP"])
def test_ocr_reads_the_text_of_each_format(fmt: str) -> None:
    data = text_image(["Lighthouse maintenance", "starts on Monday"], format=fmt)
    doc = parse_bytes(data, f"sign.{fmt.lower()}", parsers=PARSERS)
    text = doc.text.lower()
    assert "lighthouse maintenance" in text and "monday" in text
    assert doc.mime_type == f"image/{'jpeg' if fmt == 'JPEG' else fmt.lower()}"
    assert doc.sections[0].metadata == {"ocr": True}
    meta = doc.metadata["image"]
    assert (meta["width"], meta["height"], meta["format"]) == (1000, 240, fmt)


def test_metadata_thumbnail_and_exif() -> None:
    img = Image.open(io.BytesIO(text_image(["Harbour tide table"])))
    exif = Image.Exif()
    exif[270] = "A tide table at the harbour"
    exif[271] = "ExampleCam"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    doc = parse_bytes(buf.getvalue(), "tides.jpg", parsers=PARSERS)
    meta = doc.metadata["image"]
    assert meta["exif"] == {"description": "A tide table at the harbour", "make": "ExampleCam"}
    prefix = "data:image/jpeg;base64,"
    assert meta["thumbnail"].startswith(prefix)
    thumb = Image.open(io.BytesIO(base64.b64decode(meta["thumbnail"][len(prefix) :])))
    assert max(thumb.size) == 96 and thumb.format == "JPEG"
    small = ImageParser(ImageSettings(thumbnail_px=0)).parse(buf.getvalue(), "tides.jpg")
    assert "thumbnail" not in small.metadata["image"]


def test_each_tiff_page_is_a_section() -> None:
    pages = [
        Image.open(io.BytesIO(text_image([t]))).convert("RGB") for t in ("Page one", "Page two")
    ]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    doc = parse_bytes(buf.getvalue(), "scan.tiff", parsers=PARSERS)
    assert [s.page for s in doc.sections] == [1, 2]
    assert "one" in doc.sections[0].text.lower() and "two" in doc.sections[1].text.lower()


def test_an_image_without_text_gets_a_caption() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 120, 200)).save(buf, "PNG")
    doc = parse_bytes(buf.getvalue(), "/photos/sky.png", parsers=PARSERS)
    assert doc.text == "Image sky.png, 320×200 PNG"
    assert doc.sections[0].metadata == {"caption": True}
    off = ImageParser(ImageSettings(ocr=False)).parse(text_image(["Hello there"]), "h.png")
    assert off.text.startswith("Image h.png")


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_bad_images_fail_clearly() -> None:
    with pytest.raises(ParseError, match="decompression bomb"):
        parse_bytes(bomb_png(), "bomb.png", parsers=PARSERS)
    with pytest.raises(ParseError, match="empty"):
        parse_bytes(b"", "empty.png", parsers=PARSERS)
    with pytest.raises(ParseError, match=r"named \.png but its bytes are not an image"):
        parse_bytes(b"just some text, not a picture", "fake.png", parsers=PARSERS)
    truncated = text_image(["Truncated"])[:400]
    with pytest.raises(ParseError, match="could not be decoded"):
        parse_bytes(truncated, "cut.png", parsers=PARSERS)
    # the bytes decide: a PNG named .jpg is read as the PNG it is
    doc = parse_bytes(text_image(["Misnamed picture"]), "photo.jpg", parsers=PARSERS)
    assert doc.mime_type == "image/png" and "misnamed" in doc.text.lower()


def test_images_inside_pdf_and_docx_when_asked() -> None:
    from docx import Document
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = text_image(["Boiler pressure gauge"])
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.drawString(72, 780, "Plant room inspection notes.")
    pdf.drawImage(ImageReader(io.BytesIO(picture)), 72, 400, width=500, height=120)
    pdf.save()
    with_images = parsers_for(ImageSettings(pdf_images=True, docx_images=True))
    plain = parse_bytes(buf.getvalue(), "notes.pdf", parsers=PARSERS)
    assert "pressure" not in plain.text.lower()
    doc = parse_bytes(buf.getvalue(), "notes.pdf", parsers=with_images)
    assert "boiler pressure gauge" in doc.text.lower()
    assert [s.page for s in doc.sections] == [1, 1] and doc.sections[1].metadata == {"ocr": True}

    word = Document()
    word.add_paragraph("Inspection photos follow.")
    word.add_picture(io.BytesIO(picture))
    out = io.BytesIO()
    word.save(out)
    docx = parse_bytes(out.getvalue(), "photos.docx", parsers=with_images)
    assert "boiler pressure gauge" in docx.text.lower()
    assert "boiler" not in parse_bytes(out.getvalue(), "photos.docx").text.lower()

"""Content-type detection and the dispatch in parse_bytes, including every way a file can fail."""

from __future__ import annotations

import io
import random
import sys
import zipfile
from collections.abc import Callable

import pytest

from ragsilo.errors import (
    DocumentError,
    MissingDependencyError,
    ParseError,
    UnsupportedFormatError,
)
from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers import (
    PARSERS,
    SUPPORTED_EXTENSIONS,
    Parser,
    TextParser,
    default_parsers,
    detect_mime,
    parse_bytes,
)
from ragsilo.parsers import detect as mime

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
BMP_BYTES = (
    b"BM"
    + (70).to_bytes(4, "little")
    + bytes(4)
    + (54).to_bytes(4, "little")
    + (40).to_bytes(4, "little")
    + bytes(40)
)


def random_bytes(n: int = 4096) -> bytes:
    return random.Random(1234).randbytes(n)


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Compost needs air and water.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# -- detect_mime ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG_BYTES, mime.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(30), mime.JPEG),
        (b"GIF89a" + bytes(30), mime.GIF),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(30), mime.WEBP),
        (b"II*\x00\x08\x00\x00\x00" + bytes(30), mime.TIFF),
        (b"MM\x00*\x00\x00\x00\x08" + bytes(30), mime.TIFF),
        (BMP_BYTES, mime.BMP),
        (b"\x00\x00\x00\x18ftypheic" + bytes(30), mime.HEIC),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(60), mime.DOC),
        (b"{\\rtf1\\ansi Hello}", mime.RTF),
        (b"\x1f\x8b\x08\x00" + bytes(30), mime.GZIP),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(60), mime.EXECUTABLE),
        (b"SQLite format 3\x00" + bytes(80), mime.SQLITE),
    ],
)
def test_binary_formats_are_recognised_by_signature(data: bytes, expected: str) -> None:
    assert detect_mime(data, "whatever.txt") == expected


def test_pdf_and_docx_are_recognised_whatever_their_name(make_pdf: Callable[..., bytes]) -> None:
    assert detect_mime(make_pdf(["one page"]), "notes.txt") == mime.PDF
    assert detect_mime(docx_bytes(), "notes.bin") == mime.DOCX


def test_other_zip_archives_are_told_apart_from_word() -> None:
    assert detect_mime(zip_bytes({"a.txt": b"x"}), "a.zip") == mime.ZIP
    assert detect_mime(zip_bytes({"xl/workbook.xml": b"<x/>"}), "a.xlsx") == mime.XLSX
    assert detect_mime(zip_bytes({"mimetype": b"application/epub+zip"}), "b.epub") == mime.EPUB


def test_a_truncated_docx_is_still_seen_as_word() -> None:
    data = docx_bytes()
    assert detect_mime(data[: len(data) // 2], "cut.docx") == mime.DOCX


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("guide.md", mime.MARKDOWN),
        ("guide.MARKDOWN", mime.MARKDOWN),
        ("page.html", mime.HTML),
        ("page.htm", mime.HTML),
        ("table.csv", mime.CSV),
        ("table.tsv", mime.TSV),
        ("data.json", mime.JSON),
        ("data.jsonl", mime.JSON),
        ("notes.txt", mime.TEXT),
        ("notes.rst", mime.TEXT),
        ("script.py", mime.TEXT),
        ("README", mime.TEXT),
    ],
)
def test_text_kinds_come_from_the_extension(name: str, expected: str) -> None:
    assert detect_mime(b"plain words, nothing else\n", name) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body>hi</body></html>",
        b"\n  <html lang='en'><body>hi</body></html>",
        b"<!-- saved page --><!doctype HTML><html></html>",
        b"\xef\xbb\xbf<!doctype html><p>x</p>",
    ],
)
def test_html_without_an_extension_is_sniffed(data: bytes) -> None:
    assert detect_mime(data, "download") == mime.HTML


def test_html_named_txt_stays_plain_text_but_other_names_are_sniffed() -> None:
    page = b"<!doctype html><html><body><p>hi</p></body></html>"
    assert detect_mime(page, "saved.txt") == mime.TEXT
    assert detect_mime(page, "index.php") == mime.HTML


def test_text_that_starts_like_a_signature_is_still_text() -> None:
    assert detect_mime(b"BMW and Audi are car makers, not bitmaps.", "cars.txt") == mime.TEXT
    assert detect_mime(b"MZ is a postcode prefix", "codes.txt") == mime.TEXT


def test_utf16_and_utf32_text_is_not_mistaken_for_binary() -> None:
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        data = "Compost, soil and worms.\n".encode(encoding)
        assert detect_mime(data, "notes.txt") == mime.TEXT, encoding


def test_binary_junk_is_octet_stream() -> None:
    assert detect_mime(random_bytes(), "junk.txt") == mime.OCTET_STREAM
    controls = bytes(range(1, 8)) * 200 + b"a little text"
    assert detect_mime(controls, "junk.txt") == mime.OCTET_STREAM


def test_every_supported_extension_has_a_parser(make_pdf: Callable[..., bytes]) -> None:
    samples = {".pdf": make_pdf(["x"]), ".docx": docx_bytes()}
    for ext in SUPPORTED_EXTENSIONS:
        data = samples.get(ext, b"some words\n")
        assert detect_mime(data, f"file{ext}") in PARSERS, ext


def test_built_in_parsers_satisfy_the_protocol() -> None:
    assert all(isinstance(p, Parser) for p in default_parsers().values())
    with pytest.raises(TypeError):
        PARSERS["text/plain"] = TextParser()  # type: ignore[index]


# -- parse_bytes: dispatch and errors -------------------------------------------


def test_parse_bytes_reads_by_content_not_name(make_pdf: Callable[..., bytes]) -> None:
    doc = parse_bytes(make_pdf(["Leaf mould takes two years."]), "misnamed.txt")
    assert doc.mime_type == mime.PDF
    assert doc.sections[0].page == 1
    assert "Leaf mould" in doc.text


def test_random_bytes_named_txt_are_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        parse_bytes(random_bytes(), "junk.txt")
    message = str(info.value)
    assert "junk.txt" in message
    assert "binary" in message
    assert "PDF" in message and "Markdown" in message  # says what is supported


def test_empty_file_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="file is empty"):
        parse_bytes(b"", "empty.txt")


@pytest.mark.parametrize("name", ["blank.txt", "blank.md", "blank.html", "blank.csv"])
def test_whitespace_only_file_has_no_text(name: str) -> None:
    with pytest.raises(ParseError, match="no text found"):
        parse_bytes(b" \n\n\t \r\n", name)


def test_text_named_docx_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b"This is a plain text file.", "report.docx")
    assert "named .docx but its bytes are not a Word document" in str(info.value)
    assert "plain text" in str(info.value)


def test_zip_named_docx_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a Word document"):
        parse_bytes(zip_bytes({"notes.txt": b"hello"}), "report.docx")


def test_truncated_docx_is_a_parse_error() -> None:
    data = docx_bytes()
    with pytest.raises(ParseError, match="damaged or truncated"):
        parse_bytes(data[: len(data) // 2], "cut.docx")


def test_fake_image_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b"I am text pretending to be a picture", "photo.png")
    assert "named .png but its bytes are not an image" in str(info.value)


def test_text_named_pdf_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="named .pdf but its bytes are not a PDF"):
        parse_bytes(b"Just words.", "paper.pdf")


def test_real_image_is_unsupported_with_a_clear_reason() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        parse_bytes(PNG_BYTES, "photo.png")
    message = str(info.value)
    assert "PNG image" in message
    assert "images are not ingested by this version's text pipeline" in message


def test_old_word_file_is_unsupported_with_a_hint() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        parse_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.doc")
    assert "Word 97-2003" in str(info.value)
    assert info.value.hint is not None and ".docx" in info.value.hint


def test_password_protected_office_file_is_a_parse_error() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    data = ole + "EncryptedPackage".encode("utf-16-le") + bytes(500)
    assert detect_mime(data, "secret.docx") == mime.ENCRYPTED_OFFICE
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "secret.docx")
    assert "password-protected Office document" in str(info.value)


def test_document_errors_map_to_the_documented_codes() -> None:
    with pytest.raises(DocumentError) as info:
        parse_bytes(random_bytes(), "junk.bin")
    assert info.value.code == "unsupported_format"
    assert info.value.http_status == 422
    assert info.value.exit_code == 2


def test_missing_pypdf_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, make_pdf: Callable[..., bytes]
) -> None:
    data = make_pdf(["x"])
    monkeypatch.setitem(sys.modules, "pypdf", None)
    with pytest.raises(MissingDependencyError) as info:
        parse_bytes(data, "a.pdf")
    assert info.value.package == "pypdf"
    assert 'pip install "ragsilo[pdf]"' in str(info.value)
    assert "reading PDF files" in str(info.value)


def test_missing_python_docx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    data = docx_bytes()
    monkeypatch.setitem(sys.modules, "docx", None)
    with pytest.raises(MissingDependencyError) as info:
        parse_bytes(data, "a.docx")
    assert info.value.package == "python-docx"
    assert 'pip install "ragsilo[docx]"' in str(info.value)


class _Exploding:
    def parse(self, data: bytes, name: str) -> ParsedDocument:
        raise KeyError("surprise")


class _Blank:
    def parse(self, data: bytes, name: str) -> ParsedDocument:
        return ParsedDocument(
            title="", mime_type=mime.TEXT, sections=(Section(text="  "), Section(text="kept"))
        )


def test_unexpected_parser_failures_become_parse_errors() -> None:
    with pytest.raises(ParseError, match="could not be read as plain text"):
        parse_bytes(b"hello", "a.txt", parsers={mime.TEXT: _Exploding()})


def test_custom_registry_results_are_cleaned() -> None:
    doc = parse_bytes(b"hello", "dir/notes.txt", parsers={mime.TEXT: _Blank()})
    assert [s.text for s in doc.sections] == ["kept"]
    assert doc.title == "notes"


def test_type_without_a_parser_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError, match="Markdown"):
        parse_bytes(b"# Title\n\ntext", "a.md", parsers={mime.TEXT: TextParser()})

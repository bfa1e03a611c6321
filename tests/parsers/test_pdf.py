"""PDF: pages, titles, and damaged, encrypted, huge or empty files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ragsilo.errors import FileOverBudgetError, ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.pdf import PdfParser

MakePdf = Callable[..., bytes]


@pytest.fixture(autouse=True, params=["pdfium", "pypdf"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs twice: text through PDFium, and through pypdf (the fallback)."""
    from ragsilo.parsers import pdf

    if request.param == "pdfium" and not pdf.pdfium_available():
        pytest.skip("pypdfium2 is not installed")
    if request.param == "pypdf":
        monkeypatch.setattr(pdf, "_open_pdfium", lambda data: None)
    return str(request.param)


def test_one_section_per_page(make_pdf: MakePdf) -> None:
    data = make_pdf(
        ["Compost needs air.\nTurn it weekly.", "Water it like a sponge.", "Harvest after months."],
        title="Compost Basics",
    )
    doc = PdfParser().parse(data, "basics.pdf")
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert doc.sections[0].text == "Compost needs air.\nTurn it weekly."
    assert doc.sections[2].text == "Harvest after months."
    assert doc.title == "Compost Basics"
    assert doc.metadata["pages"] == 3
    assert doc.mime_type == "application/pdf"


def test_title_falls_back_to_file_stem(make_pdf: MakePdf) -> None:
    assert PdfParser().parse(make_pdf(["text"]), "/x/leaf-mould.pdf").title == "leaf-mould"


def test_pages_without_text_are_skipped_but_numbering_holds(make_pdf: MakePdf) -> None:
    doc = PdfParser().parse(make_pdf(["first", "", "third"]), "gap.pdf")
    assert [(s.page, s.text) for s in doc.sections] == [(1, "first"), (3, "third")]


def test_pdf_without_any_text_says_so(make_pdf: MakePdf) -> None:
    with pytest.raises(ParseError) as info:
        PdfParser().parse(make_pdf(["", ""]), "scan.pdf")
    assert "no text found" in str(info.value)
    assert "OCR" in str(info.value)


def test_truncated_pdf_is_a_parse_error(make_pdf: MakePdf) -> None:
    data = make_pdf(["one", "two", "three"])
    with pytest.raises(ParseError) as info:
        parse_bytes(data[: len(data) // 2], "cut.pdf")
    assert "cut.pdf" in str(info.value)
    assert "truncated" in str(info.value)


def test_garbage_after_the_header_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="PDF"):
        parse_bytes(b"%PDF-1.7\n" + b"this is not a pdf body " * 50 + b"\n%%EOF\n", "bad.pdf")


def test_encrypted_pdf_needs_a_password(make_pdf: MakePdf) -> None:
    data = make_pdf(["secret compost recipe"], user_password="hunter2", owner_password="owner")
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "locked.pdf")
    assert "encrypted" in str(info.value)
    assert "password" in str(info.value)


def test_pdf_encrypted_with_an_empty_user_password_opens(make_pdf: MakePdf) -> None:
    data = make_pdf(["readable despite encryption"], user_password="", owner_password="owner")
    assert parse_bytes(data, "restricted.pdf").text == "readable despite encryption"


def test_too_many_pages_is_refused(make_pdf: MakePdf) -> None:
    with pytest.raises(FileOverBudgetError) as info:
        PdfParser(max_pages=2).parse(make_pdf(["a", "b", "c"]), "long.pdf")
    assert "3 pages" in str(info.value)
    assert "limit of 2" in str(info.value)
    assert info.value.code == "file_over_budget"
    assert info.value.setting == "parsing.max_pdf_pages"


def test_max_pages_is_validated() -> None:
    with pytest.raises(ValueError, match="max_pages"):
        PdfParser(max_pages=0)

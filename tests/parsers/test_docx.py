"""Word: headings, document order of paragraphs and tables, titles, and damaged files."""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from ragsilo.errors import ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.docx import DocxParser

MakeDocx = Callable[..., bytes]


def fill_methods(doc: Any) -> None:
    doc.add_paragraph("Composting Methods", style="Title")
    doc.add_paragraph("Four ways to turn scraps into soil.")
    doc.add_heading("Hot composting", level=1)
    doc.add_paragraph("A hot pile reaches 55 to 65 degrees Celsius.")
    table = doc.add_table(rows=3, cols=3)
    rows = [
        ["Method", "Time to finish", "Effort"],
        ["Hot pile", "1 to 3 months", "High"],
        ["Cold heap", "6 to 24 months", ""],
    ]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    doc.add_paragraph("Turn the pile when it cools.")
    doc.add_heading("Turning", level=2)
    doc.add_paragraph("Use a fork.", style="List Bullet")
    doc.add_heading("Worm bins", level=1)
    doc.add_paragraph("Red wigglers eat half their weight a day.")


def test_headings_make_paths_under_the_title(make_docx: MakeDocx) -> None:
    doc = DocxParser().parse(make_docx(fill_methods), "methods.docx")
    assert [s.heading for s in doc.sections] == [
        "Composting Methods",
        "Composting Methods > Hot composting",
        "Composting Methods > Hot composting > Turning",
        "Composting Methods > Worm bins",
    ]
    assert doc.title == "Composting Methods"
    assert doc.mime_type.endswith("wordprocessingml.document")


def test_tables_sit_between_paragraphs_in_document_order(make_docx: MakeDocx) -> None:
    doc = DocxParser().parse(make_docx(fill_methods), "methods.docx")
    assert doc.sections[1].text == (
        "Hot composting\n\n"
        "A hot pile reaches 55 to 65 degrees Celsius.\n\n"
        "Method: Hot pile; Time to finish: 1 to 3 months; Effort: High\n"
        "Method: Cold heap; Time to finish: 6 to 24 months\n\n"
        "Turn the pile when it cools."
    )


def test_list_paragraphs_are_marked(make_docx: MakeDocx) -> None:
    doc = DocxParser().parse(make_docx(fill_methods), "methods.docx")
    assert doc.sections[2].text == "Turning\n\n- Use a fork."


def test_core_title_wins_and_stem_is_the_last_resort(make_docx: MakeDocx) -> None:
    titled = make_docx(fill_methods, title="Methods Handbook")
    assert DocxParser().parse(titled, "m.docx").title == "Methods Handbook"
    plain = make_docx(lambda d: d.add_paragraph("Just a note."), title="")
    assert DocxParser().parse(plain, "dir/note.docx").title == "note"


def test_merged_header_cells_name_every_column(make_docx: MakeDocx) -> None:
    def fill(doc: Any) -> None:
        table = doc.add_table(rows=2, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "Ratio"
        table.cell(0, 2).text = "Notes"
        for c, value in enumerate(["30", "1", "balanced"]):
            table.cell(1, c).text = value

    doc = DocxParser().parse(make_docx(fill), "t.docx")
    assert doc.text == "Ratio: 30; Ratio: 1; Notes: balanced"


def test_content_controls_are_read_in_place(make_docx: MakeDocx) -> None:
    def fill(doc: Any) -> None:
        from docx.oxml import OxmlElement

        doc.add_paragraph("Before the control.")
        inside = doc.add_paragraph("Inside a content control.")
        doc.add_paragraph("After the control.")
        sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
        sdt.append(content)
        inside._p.addprevious(sdt)
        content.append(copy.deepcopy(inside._p))
        inside._p.getparent().remove(inside._p)

    text = DocxParser().parse(make_docx(fill), "sdt.docx").text
    assert text == "Before the control.\n\nInside a content control.\n\nAfter the control."


def test_empty_document_has_no_text(make_docx: MakeDocx) -> None:
    with pytest.raises(ParseError, match="no text found"):
        DocxParser().parse(make_docx(lambda d: None), "empty.docx")


def test_damaged_archive_is_a_parse_error(make_docx: MakeDocx) -> None:
    data = make_docx(fill_methods)
    with pytest.raises(ParseError, match="damaged or truncated"):
        DocxParser().parse(data[:-200], "cut.docx")


def test_archive_with_broken_xml_is_a_parse_error(make_docx: MakeDocx) -> None:
    source = zipfile.ZipFile(io.BytesIO(make_docx(fill_methods)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for item in source.infolist():
            data = source.read(item)
            zf.writestr(item, b"<w:document" if item.filename == "word/document.xml" else data)
    with pytest.raises(ParseError, match="damaged Word document"):
        parse_bytes(out.getvalue(), "broken.docx")


def test_zip_bomb_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b" " * (50 * 1024 * 1024))
    with pytest.raises(ParseError, match="zip bomb"):
        DocxParser().parse(out.getvalue(), "bomb.docx")


def test_a_long_document_parses_in_linear_time() -> None:
    """Style names are looked up once per style, not by scanning every style per paragraph."""
    import time

    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    source = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    para = b"<w:p><w:r><w:t>Paragraph %d about leaf mould.</w:t></w:r></w:p>"
    heading = b'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Part %d</w:t></w:r></w:p>'
    body = b"".join((heading if i % 500 == 0 else para) % i for i in range(8000))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>")
                data = head + b"<w:body>" + body + tail
            z.writestr(info, data)
    t0 = time.perf_counter()
    doc = DocxParser().parse(out.getvalue(), "long.docx")
    seconds = time.perf_counter() - t0
    assert [s.heading for s in doc.sections][:2] == ["Part 0", "Part 500"]
    assert "Paragraph 7999 about leaf mould." in doc.sections[-1].text
    # About 1.5 s; scanning the styles for every paragraph took about 19 s.
    assert seconds < 6, seconds

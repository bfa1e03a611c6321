"""Per-file budgets: crafted files are refused fast, in bounded memory, naming the setting."""

from __future__ import annotations

import io
import json
import resource
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from ragsilo.errors import FileOverBudgetError
from ragsilo.parsers import ParseBudget, default_parsers, parse_bytes
from ragsilo.parsers.budget import TRUNCATED_KEY
from ragsilo.parsers.docx import DocxParser
from ragsilo.parsers.pdf import PdfParser, pdfium_available
from ragsilo.parsers.tabular import CsvParser, JsonParser
from ragsilo.settings import ParsingSettings, load_settings

MB = 1024 * 1024


def measured(fn: Callable[[], Any], *, trace: bool = True) -> tuple[Any, float, float]:
    """``(result or raised error, seconds, peak MB)``.

    The peak is that of Python's allocations (tracemalloc), or with
    ``trace=False`` (tracemalloc slows allocation-heavy code several-fold)
    the growth of the process's peak resident memory, an upper bound.
    """
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    try:
        result: Any = fn()
    except FileOverBudgetError as e:
        result = e
    finally:
        seconds = time.perf_counter() - t0
        if trace:
            peak = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
        else:
            peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    return result, seconds, peak


def over_budget(result: Any, setting: str) -> FileOverBudgetError:
    assert isinstance(result, FileOverBudgetError), result
    assert result.code == "file_over_budget" and result.http_status == 413
    assert result.setting == f"parsing.{setting}"
    assert f"parsing.{setting}" in str(result)
    assert f"RAGSILO_PARSING__{setting.upper()}" in str(result)
    return result


# ---------------------------------------------------------------- settings


def test_settings_and_budget_defaults_agree() -> None:
    assert ParseBudget.from_settings(ParsingSettings()) == ParseBudget()


def test_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGSILO_PARSING__MAX_COLUMNS", "12")
    settings = load_settings()
    assert ParseBudget.from_settings(settings.parsing).max_columns == 12


def test_budget_values_are_validated() -> None:
    with pytest.raises(ValueError, match="max_columns"):
        ParseBudget(max_columns=0)
    with pytest.raises(ValueError, match="max_unpacked_mb"):
        ParseBudget(max_unpacked_mb=0)


# ---------------------------------------------------------------- CSV


def test_csv_with_100000_columns_is_refused_fast() -> None:
    header = ",".join(f"c{i}" for i in range(100_000))
    row = ",".join("x" for _ in range(100_000))
    data = f"{header}\n{row}\n{row}\n".encode()
    assert len(data) < 1.2 * MB
    result, seconds, peak = measured(lambda: parse_bytes(data, "wide.csv"))
    error = over_budget(result, "max_columns")
    assert "100,000 columns" in str(error) and "wide.csv line 1" in str(error)
    assert seconds < 5 and peak < 64, (seconds, peak)


def test_single_line_45_mb_csv_is_refused_fast() -> None:
    data = b"a," * (45 * MB // 2)
    result, seconds, _ = measured(lambda: parse_bytes(data, "one-line.csv"))
    error = over_budget(result, "max_line_chars")
    assert "one-line.csv line 1" in str(error)
    assert seconds < 20, seconds


def test_many_columns_under_the_limit_carry_capped_metadata_into_chunks() -> None:
    from ragsilo.chunking import RecursiveChunker

    columns = 900
    header = ",".join(f"field_{i}" for i in range(columns))
    row = ",".join(f"value number {i} " * 3 for i in range(columns))
    data = f"{header}\n{row}\n{row}\n".encode()
    doc = parse_bytes(data, "wide.csv")
    budget = ParseBudget()
    for section in doc.sections:
        meta = section.metadata
        assert len(meta) <= budget.max_metadata_fields + 1
        assert len(json.dumps(meta)) <= budget.max_metadata_bytes
        assert meta[TRUNCATED_KEY] == columns - (len(meta) - 1)
        assert "field_899: value number 899" in section.text  # the text keeps every field
    assert len(doc.metadata["columns"]) <= budget.max_metadata_fields
    assert doc.metadata["column_count"] == columns
    chunks = RecursiveChunker(lambda t: len(t.split()), 200).chunk(
        doc, doc_id="d", source="wide.csv", file_sha256="0" * 64
    )
    assert len(chunks) > 10
    per_chunk = max(len(json.dumps(c.metadata)) for c in chunks)
    assert per_chunk <= 2 * budget.max_metadata_bytes


def test_csv_metadata_under_the_caps_is_untouched() -> None:
    doc = CsvParser().parse(b"name,size\nbin,large\n", "small.csv")
    assert doc.sections[0].metadata == {"name": "bin", "size": "large"}
    assert doc.metadata == {"columns": ["name", "size"], "rows": 1, "delimiter": ","}


def test_csv_text_budget() -> None:
    data = ("a,b\n" + "word word,more words\n" * 2000).encode()
    result, _, _ = measured(
        lambda: CsvParser(ParseBudget(max_text_chars=10_000)).parse(data, "long.csv")
    )
    over_budget(result, "max_text_chars")


# ---------------------------------------------------------------- JSON and Markdown


def test_json_record_metadata_is_capped() -> None:
    record = {f"key{i}": f"value {i}" for i in range(5000)}
    data = json.dumps([record, record]).encode()
    doc = JsonParser().parse(data, "wide.json")
    for section in doc.sections:
        assert len(section.metadata) <= ParseBudget().max_metadata_fields + 1
        assert section.metadata[TRUNCATED_KEY] > 4900
        assert "key4999: value 4999" in section.text


def test_json_lines_line_length_budget() -> None:
    data = b'{"a": 1}\n{"b": "' + b"x" * 5000 + b'"}\n'
    result, _, _ = measured(
        lambda: JsonParser(ParseBudget(max_line_chars=1000)).parse(data, "x.jsonl")
    )
    over_budget(result, "max_line_chars")


def test_markdown_front_matter_is_capped() -> None:
    front = "\n".join(f"k{i}: v{i}" for i in range(300))
    doc = parse_bytes(f"---\n{front}\n---\n# Title\n\nBody text.\n".encode(), "fm.md")
    assert len(doc.metadata) == ParseBudget().max_metadata_fields + 1
    assert doc.metadata[TRUNCATED_KEY] == 300 - ParseBudget().max_metadata_fields


def test_text_budget_applies_to_every_format() -> None:
    parsers = default_parsers(ParseBudget(max_text_chars=1000))
    result, _, _ = measured(lambda: parse_bytes(b"words " * 1000, "a.txt", parsers=parsers))
    over_budget(result, "max_text_chars")
    html = b"<html><body>" + b"<p>words and words</p>" * 200 + b"</body></html>"
    result, _, _ = measured(lambda: parse_bytes(html, "a.html", parsers=parsers))
    over_budget(result, "max_text_chars")


# ---------------------------------------------------------------- Word


def _docx_bomb(inflated_mb: int) -> bytes:
    """A real Word file whose document.xml inflates to ``inflated_mb`` MB, written streaming."""
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    source = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    para = b"<w:p><w:r><w:t>Compost needs air and water, batch %07d.</w:t></w:r></w:p>"
    block = b"".join(para % i for i in range(8000))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info.filename, source.read(info))
                continue
            head, tail = source.read(info).split(b"<w:body>")
            with z.open("word/document.xml", "w", force_zip64=True) as f:
                f.write(head + b"<w:body>")
                for _ in range(inflated_mb * MB // len(block)):
                    f.write(block)
                f.write(tail)
    return out.getvalue()


def test_docx_inflating_to_hundreds_of_mb_is_refused_before_inflating() -> None:
    data = _docx_bomb(200)
    assert len(data) < 16 * MB  # far under the 1000:1 ratio check: only the total cap catches it
    result, seconds, peak = measured(lambda: parse_bytes(data, "bomb.docx"))
    error = over_budget(result, "max_unpacked_mb")
    assert "bomb.docx unpacks to 200 MB" in str(error)
    assert seconds < 2 and peak < 8 + len(data) / MB, (seconds, peak)


def test_docx_budget_can_be_lowered_and_raised(make_docx: Callable[..., bytes]) -> None:
    data = make_docx(lambda d: d.add_paragraph("Leaves rot slowly."))
    assert "Leaves rot slowly." in DocxParser(budget=ParseBudget()).parse(data, "a.docx").text
    result, _, _ = measured(
        lambda: DocxParser(budget=ParseBudget(max_unpacked_mb=0.001)).parse(data, "a.docx")
    )
    over_budget(result, "max_unpacked_mb")


def test_docx_with_a_compression_method_word_never_writes_is_refused(
    make_docx: Callable[..., bytes],
) -> None:
    from ragsilo.errors import ParseError

    data = make_docx(lambda d: d.add_paragraph("text"))
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2) as z:
        for info in source.infolist():
            z.writestr(info.filename, source.read(info))
    with pytest.raises(ParseError, match="compression method"):
        parse_bytes(out.getvalue(), "odd.docx")


# ---------------------------------------------------------------- PDF


def shared_stream_pdf(pages: int, content: bytes, *, as_form: bool = False) -> bytes:
    """A PDF whose ``pages`` pages all draw one Flate-compressed content stream.

    ``as_form``: the heavy stream is a form XObject that each page's own small
    content stream draws (``/X1 Do``).
    """
    packed = zlib.compress(content, 9)
    form = b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " if as_form else b""
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< %s/Resources << /Font << /F1 3 0 R >> >> /Length %d /Filter /FlateDecode >>\n"
        % (form, len(packed))
        + b"stream\n"
        + packed
        + b"\nendstream",
        b"<< /Length 6 >>\nstream\n/X1 Do\nendstream",
    ]
    resources = b"/Font << /F1 3 0 R >>" + (b" /XObject << /X1 4 0 R >>" if as_form else b"")
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << %s >> "
        b"/Contents %d 0 R >>" % (resources, 5 if as_form else 4)
    )
    objects += [page] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def heavy_text(mb: float) -> bytes:
    line = b"1 0 0 1 72 700 Tm (lorem ipsum dolor sit amet) Tj\n"
    return b"BT /F1 10 Tf\n" + line * int(mb * MB / len(line)) + b"ET"


def test_pages_sharing_one_heavy_stream_are_refused_before_extraction() -> None:
    data = shared_stream_pdf(4999, heavy_text(1.5))
    assert len(data) < MB
    result, seconds, peak = measured(lambda: parse_bytes(data, "shared.pdf"), trace=False)
    error = over_budget(result, "max_pdf_content_mb")
    assert "shared.pdf" in str(error) and "counts for each" in str(error)
    # 16 s a page before; now the stream is inflated once and no page is extracted
    # (about 2 s, most of it pypdf reading the 4,999 page objects)
    assert seconds < 15 and peak < 300, (seconds, peak)


def test_pages_sharing_one_heavy_form_xobject_are_refused() -> None:
    data = shared_stream_pdf(2000, heavy_text(1.5), as_form=True)
    result, seconds, _ = measured(lambda: parse_bytes(data, "forms.pdf"), trace=False)
    over_budget(result, "max_pdf_content_mb")
    assert seconds < 10, seconds


def test_a_small_form_xobject_is_read() -> None:
    text = b"BT /F1 12 Tf 72 700 Td (Leaf mould takes a year.) Tj ET"
    doc = parse_bytes(shared_stream_pdf(2, text, as_form=True), "form.pdf")
    assert [(s.page, s.text) for s in doc.sections] == [
        (1, "Leaf mould takes a year."),
        (2, "Leaf mould takes a year."),
    ]


def test_one_page_over_the_page_content_budget_is_refused() -> None:
    data = shared_stream_pdf(1, heavy_text(5))
    result, seconds, _ = measured(lambda: parse_bytes(data, "dense.pdf"))
    error = over_budget(result, "max_page_content_mb")
    assert "dense.pdf page 1" in str(error)
    assert seconds < 5, seconds


def test_pdf_content_budget_counts_a_shared_stream_per_page() -> None:
    data = shared_stream_pdf(3, b"BT /F1 12 Tf 72 700 Td (Worms turn the heap.) Tj ET")
    doc = parse_bytes(data, "ok.pdf")
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert doc.sections[0].text == "Worms turn the heap."
    size = len(b"BT /F1 12 Tf 72 700 Td (Worms turn the heap.) Tj ET")
    tight = ParseBudget(max_pdf_content_mb=2.5 * size / MB)
    result, _, _ = measured(lambda: PdfParser(budget=tight).parse(data, "ok.pdf"))
    over_budget(result, "max_pdf_content_mb")


@pytest.mark.skipif(not pdfium_available(), reason="pypdfium2 is not installed")
def test_pdfium_and_pypdf_read_the_same_text(make_pdf: Callable[..., bytes]) -> None:
    from pathlib import Path

    sample = Path(__file__).parents[2] / "samples" / "compost-troubleshooting.pdf"
    built = make_pdf(["Browns: straw, card and leaves.\nGreens: grass and peelings.", "Turn it."])
    for data in (sample.read_bytes(), built):
        fast = PdfParser(engine="pdfium").parse(data, "a.pdf")
        slow = PdfParser(engine="pypdf").parse(data, "a.pdf")
        assert [(s.page, s.text) for s in fast.sections] == [
            (s.page, s.text) for s in slow.sections
        ]
        assert (fast.title, fast.metadata) == (slow.title, slow.metadata)


def test_engine_is_validated() -> None:
    with pytest.raises(ValueError, match="engine"):
        PdfParser(engine="fitz")  # type: ignore[arg-type]

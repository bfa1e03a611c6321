"""Word (.docx): paragraphs and tables in document order, sections by heading."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

from ragsilo.errors import MissingDependencyError, ParseError
from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers._common import (
    SectionBuilder,
    build_document,
    collapse_spaces,
    display_name,
    normalize_text,
)
from ragsilo.parsers.budget import MB, ParseBudget, over_budget
from ragsilo.parsers.detect import DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"heading\s*([1-9])$", re.IGNORECASE)
# A real document never compresses its XML a thousand-fold; the inflated total
# is capped too (parsing.max_unpacked_mb), since 200:1 is ordinary for XML.
_MAX_RATIO = 1000
_WORD_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class DocxParser:
    """Word documents (.docx), read with python-docx.

    The body is walked in document order, paragraphs and tables interleaved
    (content controls included). Paragraphs styled "Title" or "Heading N" (or
    carrying an outline level) start sections with heading paths. A table
    becomes one line per row, ``header: value; header: value``, with the first
    row as the header. Bulleted and numbered paragraphs get a leading "- ".
    The title is the document's core-properties title, else its first
    "Title" paragraph, else the file name. Needs ``python-docx``
    (``pip install "ragsilo[docx]"``).

    Before anything is inflated, the ZIP directory is checked: members that
    inflate to more than ``parsing.max_unpacked_mb`` in all raise
    :class:`~ragsilo.errors.FileOverBudgetError` (the sizes it declares are
    the most Python's zipfile will inflate, so the check cannot be lied to).
    """

    mime_type = DOCX

    def __init__(
        self,
        *,
        image_text: Callable[[bytes, str], str] | None = None,
        budget: ParseBudget | None = None,
    ) -> None:
        # OCR for embedded images (``images.docx_images``); None: text only
        self.image_text = image_text
        self.budget = budget or ParseBudget()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Extract the body text of the Word document in ``data``."""
        try:
            import docx
        except ImportError as e:
            raise MissingDependencyError("python-docx", "docx", "reading Word files") from e

        shown = display_name(name)
        _check_archive(data, shown, self.budget)
        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as e:  # python-docx raises KeyError, ValueError, lxml errors ...
            detail = collapse_spaces(str(e))[:200] or type(e).__name__
            raise ParseError(
                f"{shown} is a damaged Word document that cannot be read: {detail}"
            ) from e

        walker = _Walker(document)
        walker.walk(document.element.body)
        sections = walker.finish()
        if self.image_text is not None:
            sections.extend(self._images(document, shown))
        self.budget.check_text(sum(len(s.text) for s in sections), shown)

        metadata: dict[str, Any] = {}
        core_title = None
        try:
            props = document.core_properties
            core_title = collapse_spaces(props.title or "") or None
            author = collapse_spaces(props.author or "")
            if author:
                metadata["author"] = author[:512]
        except Exception:  # damaged core properties only cost the title
            pass
        return build_document(
            name=name,
            mime_type=self.mime_type,
            title=core_title or walker.title,
            sections=sections,
            metadata=metadata,
        )

    def _images(self, document: Any, shown: str) -> list[Section]:
        """One section of OCR text per embedded image that holds text."""
        assert self.image_text is not None
        out = []
        for n, part in enumerate(
            p for p in document.part.package.parts if p.content_type.startswith("image/")
        ):
            text = self.image_text(part.blob, f"{shown} image {n + 1}")
            if text.strip():
                out.append(Section(text=text, heading=f"Image {n + 1}", metadata={"ocr": True}))
        return out


def _check_archive(data: bytes, shown: str, budget: ParseBudget) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ParseError(
            f"{shown} is a damaged or truncated Word document: its ZIP structure cannot be read"
        ) from e
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise ParseError(
            f"{shown} is a ZIP archive but not a Word document (it has no word/document.xml)"
        )
    odd = next((i for i in infos if i.compress_type not in _WORD_COMPRESSION), None)
    if odd is not None:
        # Word writes stored or deflated members; other methods inflate without a bound.
        raise ParseError(
            f"{shown} is not a Word document as Word writes it: its part {odd.filename!r} "
            f"uses ZIP compression method {odd.compress_type}",
            hint="open it in Word or LibreOffice, save it as .docx again and ingest that",
        )
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if unpacked > budget.max_unpacked_bytes:
        raise over_budget(
            f"{shown} unpacks to {unpacked / MB:.0f} MB from {len(data) / MB:.1f} MB, more than "
            f"the limit of {budget.max_unpacked_mb:.3g} MB unpacked for one Word file",
            "max_unpacked_mb",
        )
    if unpacked > _MAX_RATIO * max(packed, 1):
        raise ParseError(
            f"{shown} unpacks to {unpacked / 1e6:.0f} MB from {len(data) / 1e6:.1f} MB; "
            "refusing a file that looks like a zip bomb"
        )


class _Walker:
    """Collects lines under the current heading path while walking the body."""

    def __init__(self, document: Any) -> None:
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        self._paragraph = Paragraph
        self._table = Table
        self._parent = document
        self.builder = SectionBuilder()
        self.title: str | None = None
        self._in_list = False
        # Style names by style id: python-docx looks a style up by scanning
        # every style (milliseconds a paragraph), so each id is looked up once.
        self._style_names: dict[str | None, str] = {}

    def walk(self, body: Any) -> None:
        # Content controls (w:sdt) wrap ordinary paragraphs and tables; an
        # explicit stack walks into them without recursion.
        todo = list(reversed(list(body.iterchildren())))
        while todo:
            element = todo.pop()
            tag = element.tag
            if tag == f"{_W}p":
                self._add_paragraph(self._paragraph(element, self._parent))
            elif tag == f"{_W}tbl":
                self._add_table(self._table(element, self._parent))
            elif tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"):
                inner = element.find(f"{_W}sdtContent") if tag == f"{_W}sdt" else element
                if inner is not None:
                    todo.extend(reversed(list(inner.iterchildren())))

    def finish(self) -> list[Section]:
        return self.builder.finish()

    def _add_paragraph(self, paragraph: Any) -> None:
        text = normalize_text(paragraph.text or "")
        if not text:
            return
        style_name = self._style_name(paragraph)
        level = _heading_level(paragraph, style_name)
        if level is not None:
            heading = collapse_spaces(text)
            if level == 0 and self.title is None:
                self.title = heading
            self._close_list()
            self.builder.heading(level, heading)
            return
        if _is_list_item(paragraph, style_name):
            # Items of one list stay on consecutive lines; a blank line closes the list.
            self.builder.add(f"- {text}")
            self._in_list = True
            return
        self._close_list()
        self.builder.add(text)
        self.builder.add("")

    def _style_name(self, paragraph: Any) -> str:
        """The paragraph's style name, lower case ("" when it has none or it dangles)."""
        try:
            style_id = paragraph._p.style
        except Exception:  # an odd pPr reads as body text
            return ""
        name = self._style_names.get(style_id)
        if name is None:
            try:
                style = paragraph.style
                name = (style.name or "") if style is not None else ""
            except Exception:  # a dangling style reference reads as body text
                name = ""
            name = name.strip().lower()
            self._style_names[style_id] = name
        return name

    def _close_list(self) -> None:
        if self._in_list:
            self.builder.add("")
            self._in_list = False

    def _add_table(self, table: Any) -> None:
        self._close_list()
        rows = self._table_rows(table)
        if not rows:
            return
        if len(rows) == 1:
            self.builder.add(" | ".join(v for v in rows[0] if v))
        else:
            header = _spread_header(rows[0])
            for row in rows[1:]:
                pairs = [
                    f"{header[i] if i < len(header) else f'column {i + 1}'}: {value}"
                    for i, value in enumerate(row)
                    if value
                ]
                if pairs:
                    self.builder.add("; ".join(pairs))
        self.builder.add("")

    def _table_rows(self, table: Any) -> list[list[str | None]]:
        """Cell texts per row on the table grid, empty rows dropped.

        A cell spanning several grid columns holds its text in the first and
        None in the others; a vertically merged continuation cell is empty.
        """
        rows: list[list[str | None]] = []
        for tr in table._tbl.tr_lst:
            cells: list[str | None] = [None] * _int_attr(tr.trPr, "gridBefore")
            for tc in tr.tc_lst:
                tc_pr = tc.tcPr
                v_merge = tc_pr.find(f"{_W}vMerge") if tc_pr is not None else None
                if v_merge is not None and v_merge.get(f"{_W}val") in (None, "continue"):
                    text = ""
                else:
                    text = collapse_spaces(
                        " ".join(self._paragraph(p, self._parent).text for p in tc.iter(f"{_W}p"))
                    )
                cells.append(text)
                cells.extend([None] * (max(_int_attr(tc_pr, "gridSpan"), 1) - 1))
            if any(cells):
                rows.append(cells)
        return rows


def _heading_level(paragraph: Any, name: str) -> int | None:
    """0 for a Title, N for "Heading N" or outline level N-1, None for body text.

    ``name`` is the paragraph's style name in lower case.
    """
    if name == "title":
        return 0
    match = _HEADING_STYLE.match(name)
    if match:
        return int(match.group(1))
    p_pr = paragraph._p.pPr
    outline = p_pr.find(f"{_W}outlineLvl") if p_pr is not None else None
    if outline is not None:
        value = outline.get(f"{_W}val", "")
        if value.isdigit() and int(value) < 9:  # 9 means body text
            return int(value) + 1
    return None


def _is_list_item(paragraph: Any, name: str) -> bool:
    p_pr = paragraph._p.pPr
    if p_pr is not None and p_pr.find(f"{_W}numPr") is not None:
        return True
    return name.startswith(("list bullet", "list number"))


def _int_attr(parent: Any, child: str) -> int:
    """The integer ``w:val`` of ``parent``'s ``w:<child>`` element, 0 when absent."""
    element = parent.find(f"{_W}{child}") if parent is not None else None
    value = element.get(f"{_W}val", "") if element is not None else ""
    return int(value) if value.isdigit() else 0


def _spread_header(cells: list[str | None]) -> list[str]:
    """Header names per grid column: a spanning header names every column it covers."""
    names: list[str] = []
    last = ""
    for i, cell in enumerate(cells):
        if cell is None:
            names.append(last or f"column {i + 1}")
        else:
            last = cell
            names.append(cell or f"column {i + 1}")
    return names

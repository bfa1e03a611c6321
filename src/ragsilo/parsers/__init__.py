"""Parsers: bytes of one file in, a :class:`~ragsilo.models.ParsedDocument` out.

:func:`parse_bytes` is the entry point: it detects the content type from the
bytes (then the name), picks the parser registered for that type, and turns
every way a file can be unreadable into a :class:`~ragsilo.errors.DocumentError`
that says what the file is and what to do::

    from ragsilo.parsers import parse_bytes

    doc = parse_bytes(path.read_bytes(), str(path))
    for section in doc.sections:
        print(section.heading, section.page, section.text[:60])

One module per format; each parser is a plain class with a
``parse(data, name)`` method (the :class:`Parser` protocol). PDF and Word
support import their optional libraries only when such a file is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from ragsilo.errors import ParseError, RagsiloError, UnsupportedFormatError
from ragsilo.models import ParsedDocument
from ragsilo.parsers import detect as _mime
from ragsilo.parsers._common import build_document, collapse_spaces, display_name
from ragsilo.parsers.budget import ParseBudget
from ragsilo.parsers.detect import claimed_binary, describe_mime, detect_mime, is_image
from ragsilo.parsers.docx import DocxParser
from ragsilo.parsers.html import HtmlParser
from ragsilo.parsers.markdown import MarkdownParser
from ragsilo.parsers.pdf import PdfParser
from ragsilo.parsers.tabular import CsvParser, JsonParser
from ragsilo.parsers.text import TextParser, decode_text

__all__ = [
    "PARSERS",
    "SUPPORTED_EXTENSIONS",
    "CsvParser",
    "DocxParser",
    "HtmlParser",
    "JsonParser",
    "MarkdownParser",
    "ParseBudget",
    "Parser",
    "PdfParser",
    "TextParser",
    "decode_text",
    "default_parsers",
    "describe_mime",
    "detect_mime",
    "parse_bytes",
]

SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    ".pdf",
    ".docx",
    ".html",
    ".htm",
    ".xhtml",
    ".md",
    ".markdown",
    ".txt",
    ".text",
    ".rst",
    ".log",
    ".csv",
    ".tsv",
    ".json",
    ".jsonl",
    ".ndjson",
)
"""Extensions of the formats ragsilo reads. Any other file whose bytes are text
is read as plain text too; the content, not the name, decides."""

_SUPPORTED_KINDS = "PDF, Word (.docx), HTML, Markdown, plain text, CSV/TSV and JSON"

_HINTS = {
    _mime.DOC: "save it as .docx and ingest that",
    _mime.RTF: "save it as .docx or plain text and ingest that",
    _mime.XLSX: "export the sheets as CSV and ingest those",
    _mime.PPTX: "export it as PDF and ingest that",
    _mime.ODF: "save it as .docx or PDF and ingest that",
    _mime.EPUB: "convert it to PDF or HTML and ingest that",
    _mime.ZIP: "unpack the archive and ingest its files",
    _mime.GZIP: "unpack the archive and ingest its files",
    _mime.SEVEN_ZIP: "unpack the archive and ingest its files",
    _mime.RAR: "unpack the archive and ingest its files",
}


@runtime_checkable
class Parser(Protocol):
    """Turns the bytes of one file into a parsed document.

    ``name`` is the file's name or path, used for the fallback title and in
    messages. Implementations raise :class:`~ragsilo.errors.ParseError` for
    bytes they cannot read and never return a document without text.
    """

    def parse(self, data: bytes, name: str) -> ParsedDocument: ...


def default_parsers(budget: ParseBudget | None = None) -> dict[str, Parser]:
    """A fresh mapping of content type to parser, for building a custom registry.

    ``budget`` is the per-file budget the parsers enforce (the defaults of the
    ``parsing`` settings when None).
    """
    budget = budget or ParseBudget()
    text, csv_parser = TextParser(budget), CsvParser(budget)
    return {
        _mime.TEXT: text,
        _mime.MARKDOWN: MarkdownParser(budget),
        _mime.HTML: HtmlParser(budget),
        _mime.CSV: csv_parser,
        _mime.TSV: csv_parser,
        _mime.JSON: JsonParser(budget),
        _mime.PDF: PdfParser(budget=budget),
        _mime.DOCX: DocxParser(budget=budget),
    }


PARSERS: Mapping[str, Parser] = MappingProxyType(default_parsers())
"""The built-in registry (read-only). Pass ``parsers=`` to :func:`parse_bytes` to change it."""


def parse_bytes(
    data: bytes,
    name: str,
    *,
    parsers: Mapping[str, Parser] | None = None,
    budget: ParseBudget | None = None,
) -> ParsedDocument:
    """Detect the type of ``data`` and parse it with the parser registered for it.

    The parsers enforce their own per-file budgets while they work; the text
    of the finished document is checked against the parser's ``budget``
    (then ``budget``, then the defaults) too, for parsers built elsewhere.

    Raises:
        ParseError: the file is empty or holds no text; its bytes are corrupt;
            or its name promises a format its bytes are not (a text file named
            ``.docx``, a text file named ``.png``).
        UnsupportedFormatError: the bytes are of a kind ragsilo does not read
            (images, archives, other office formats, binary data).
        MissingDependencyError: the optional library for the format is missing.
        FileOverBudgetError: reading the file would cost more than a per-file
            budget allows (``parsing.*`` settings); the message names the setting.
    """
    shown = display_name(name)
    if not data:
        raise ParseError(f"file is empty: {shown} has no bytes")
    registry = PARSERS if parsers is None else parsers
    mime = detect_mime(data, name)
    _check_name_matches(mime, name, shown)
    if mime == _mime.ENCRYPTED_OFFICE:
        raise ParseError(
            f"{shown} is a password-protected Office document; it cannot be read",
            hint="save a copy without the password and ingest that",
        )
    parser = registry.get(mime)
    if parser is None:
        raise UnsupportedFormatError(_unsupported(mime, shown), hint=_HINTS.get(mime))
    try:
        document = parser.parse(data, name)
    except RagsiloError:
        raise
    except RecursionError as e:
        raise ParseError(f"{shown} is nested too deeply to read as {describe_mime(mime)}") from e
    except Exception as e:  # a parser bug or library failure on odd input
        detail = collapse_spaces(str(e))[:200] or type(e).__name__
        raise ParseError(f"{shown} could not be read as {describe_mime(mime)}: {detail}") from e
    limits = getattr(parser, "budget", None)
    if not isinstance(limits, ParseBudget):
        limits = budget or ParseBudget()
    limits.check_text(sum(len(s.text) for s in document.sections), shown)
    # Parsers built elsewhere may not drop blank sections; do it for them.
    return build_document(
        name=name,
        mime_type=document.mime_type,
        title=document.title,
        sections=document.sections,
        metadata=document.metadata,
    )


def _check_name_matches(mime: str, name: str, shown: str) -> None:
    """A name promising a binary format, on bytes that are text or junk, is a corrupt file."""
    claim = claimed_binary(name)
    if claim is None:
        return
    claimed_mime, claimed_kind = claim
    if mime == claimed_mime:
        return
    mismatch = (
        _mime.is_textual(mime)
        or mime in (_mime.OCTET_STREAM, _mime.SVG)
        or (mime == _mime.ZIP and claimed_mime == _mime.DOCX)
    )
    if mismatch:
        suffix = PurePath(name).suffix.lower()
        raise ParseError(
            f"{shown} is named {suffix} but its bytes are not {claimed_kind}; "
            f"they look like {describe_mime(mime)}",
            hint="the file is damaged or misnamed",
        )


def _unsupported(mime: str, shown: str) -> str:
    kind = describe_mime(mime)
    if is_image(mime):
        return (
            f"{shown} is {kind}; images are not ingested by this version's text pipeline, "
            f"which reads {_SUPPORTED_KINDS} files"
        )
    if mime == _mime.OCTET_STREAM:
        return (
            f"{shown} is binary data, not text (it holds NUL bytes or control characters); "
            f"ragsilo reads {_SUPPORTED_KINDS} files"
        )
    return f"{shown} is {kind}, which ragsilo does not read; it reads {_SUPPORTED_KINDS} files"

"""Content-type detection: the bytes decide first, the file name second.

Binary formats are recognised by their magic numbers, so a PDF named
``report.txt`` is still read as a PDF and a text file named ``photo.png`` is
not mistaken for an image. Among textual files the extension picks the kind
(Markdown, HTML, CSV, JSON, plain text); HTML under another name (no
extension, ``.php``, ``.aspx`` ...) is sniffed from its opening tag.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
CSV = "text/csv"
TSV = "text/tab-separated-values"
JSON = "application/json"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODF = "application/vnd.oasis.opendocument"
EPUB = "application/epub+zip"
DOC = "application/msword"
ENCRYPTED_OFFICE = "application/x-ms-encrypted-office"
RTF = "application/rtf"
ZIP = "application/zip"
GZIP = "application/gzip"
SEVEN_ZIP = "application/x-7z-compressed"
RAR = "application/vnd.rar"
EXECUTABLE = "application/x-executable"
SQLITE = "application/vnd.sqlite3"
OCTET_STREAM = "application/octet-stream"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TIFF = "image/tiff"
BMP = "image/bmp"
HEIC = "image/heic"
AVIF = "image/avif"
SVG = "image/svg+xml"

_SNIFF_BYTES = 8192

# Extensions of textual files, mapped to the kind they name.
_TEXT_EXTENSIONS = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".mdown": MARKDOWN,
    ".mkd": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".csv": CSV,
    ".tsv": TSV,
    ".tab": TSV,
    ".json": JSON,
    ".jsonl": JSON,
    ".ndjson": JSON,
    ".svg": SVG,
}

# Extensions that always mean plain text, whatever the text looks like.
_PLAIN_EXTENSIONS = frozenset({".txt", ".text"})

# Extensions that promise a binary format; a textual file carrying one is
# corrupt or misnamed, never "plain text by accident".
_BINARY_CLAIMS = {
    ".pdf": (PDF, "a PDF"),
    ".docx": (DOCX, "a Word document"),
    ".docm": (DOCX, "a Word document"),
    ".doc": (DOC, "a Word document"),
    ".xlsx": (XLSX, "an Excel workbook"),
    ".pptx": (PPTX, "a PowerPoint presentation"),
    ".odt": (ODF, "an OpenDocument file"),
    ".epub": (EPUB, "an EPUB book"),
    ".png": (PNG, "an image"),
    ".jpg": (JPEG, "an image"),
    ".jpeg": (JPEG, "an image"),
    ".gif": (GIF, "an image"),
    ".webp": (WEBP, "an image"),
    ".tif": (TIFF, "an image"),
    ".tiff": (TIFF, "an image"),
    ".bmp": (BMP, "an image"),
    ".heic": (HEIC, "an image"),
    ".avif": (AVIF, "an image"),
    ".zip": (ZIP, "a ZIP archive"),
    ".gz": (GZIP, "a gzip archive"),
}

_DESCRIPTIONS = {
    TEXT: "plain text",
    MARKDOWN: "Markdown",
    HTML: "HTML",
    CSV: "CSV",
    TSV: "tab-separated values",
    JSON: "JSON",
    PDF: "a PDF",
    DOCX: "a Word document (.docx)",
    XLSX: "an Excel workbook (.xlsx)",
    PPTX: "a PowerPoint presentation (.pptx)",
    ODF: "an OpenDocument file",
    EPUB: "an EPUB book",
    DOC: "a Word 97-2003 document (.doc) or another OLE2 Office file",
    ENCRYPTED_OFFICE: "a password-protected Office document",
    RTF: "a Rich Text Format document",
    ZIP: "a ZIP archive",
    GZIP: "a gzip archive",
    SEVEN_ZIP: "a 7-Zip archive",
    RAR: "a RAR archive",
    EXECUTABLE: "an executable program",
    SQLITE: "an SQLite database",
    OCTET_STREAM: "binary data",
    PNG: "a PNG image",
    JPEG: "a JPEG image",
    GIF: "a GIF image",
    WEBP: "a WebP image",
    TIFF: "a TIFF image",
    BMP: "a BMP image",
    HEIC: "a HEIC image",
    AVIF: "an AVIF image",
    SVG: "an SVG image",
}

_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def describe_mime(mime: str) -> str:
    """A short phrase naming a content type for messages ("a PNG image")."""
    return _DESCRIPTIONS.get(mime, mime)


def is_image(mime: str) -> bool:
    """Whether ``mime`` is an image type."""
    return mime.startswith("image/")


def is_textual(mime: str) -> bool:
    """Whether ``mime`` names a kind read as text (not SVG, which is an image)."""
    return mime in (TEXT, MARKDOWN, HTML, CSV, TSV, JSON)


def claimed_binary(name: str) -> tuple[str, str] | None:
    """The binary format a file name promises, as ``(mime, "a PDF")``, or None."""
    return _BINARY_CLAIMS.get(PurePath(name).suffix.lower())


def detect_mime(data: bytes, name: str) -> str:
    """The content type of ``data``, judged from its bytes first, then from ``name``.

    Binary formats are recognised by signature; bytes that are neither a known
    format nor text give ``application/octet-stream``. For text the extension
    chooses between Markdown, HTML, CSV, TSV, JSON and plain text (``.txt`` is
    always plain text); a page under any other name is recognised as HTML by
    its ``<html``/``<!doctype html`` opening.
    """
    head = data[:_SNIFF_BYTES]
    magic = _sniff_magic(data, head)
    if magic is not None:
        return magic
    if not _looks_textual(head):
        return OCTET_STREAM
    suffix = PurePath(name).suffix.lower()
    if suffix in _TEXT_EXTENSIONS:
        return _TEXT_EXTENSIONS[suffix]
    if suffix not in _PLAIN_EXTENSIONS and _looks_like_html(head):
        return HTML
    return TEXT


def _sniff_magic(data: bytes, head: bytes) -> str | None:
    if head.startswith(b"%PDF-") or head.lstrip(b"\xef\xbb\xbf \t\r\n\f").startswith(b"%PDF-"):
        return PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if _is_bmp(head):
        return BMP
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return HEIC
        if brand in (b"avif", b"avis"):
            return AVIF
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # Office stores a password-protected .docx/.xlsx as an OLE2 file with
        # an "EncryptedPackage" stream (its name is UTF-16 in the directory).
        return ENCRYPTED_OFFICE if _ENCRYPTED_PACKAGE in data else DOC
    if head.startswith(b"{\\rtf"):
        return RTF
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return SEVEN_ZIP
    if head.startswith(b"Rar!\x1a\x07"):
        return RAR
    if head.startswith((b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")) and (
        b"\x00" in head[:64]
    ):
        return EXECUTABLE
    if head.startswith(b"SQLite format 3\x00"):
        return SQLITE
    return None


def _is_bmp(head: bytes) -> bool:
    # "BM" alone is too weak (a text may start with it): check the header shape.
    if len(head) < 26 or not head.startswith(b"BM"):
        return False
    return head[6:10] == b"\x00\x00\x00\x00" and int.from_bytes(head[14:18], "little") in (
        _BMP_DIB_SIZES
    )


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
            if "ppt/presentation.xml" in names:
                return PPTX
            if "mimetype" in names:
                kind = zf.read("mimetype")[:100]
                if kind.startswith(b"application/epub+zip"):
                    return EPUB
                if kind.startswith(b"application/vnd.oasis.opendocument"):
                    return ODF
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        # A truncated archive has no central directory, but its local headers
        # still carry the member names.
        head = data[: 1 << 20]
        if b"word/document.xml" in head or b"word/_rels/" in head:
            return DOCX
    return ZIP


def _looks_textual(head: bytes) -> bool:
    """Whether the sample reads as text: a BOM, or few NULs and control characters."""
    if not head:
        return True
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return True
    if utf16_without_bom(head) is not None:
        return True
    nuls = head.count(b"\x00")
    if nuls * 1000 > len(head):
        return False
    controls = len(head) - len(head.translate(None, _BINARY_CONTROLS))
    return controls * 20 <= len(head)


# C0 controls that do not occur in text (backspace, tab, newline, form feed,
# carriage return and escape do), plus DEL.
_BINARY_CONTROLS = bytes(c for c in range(32) if c not in (8, 9, 10, 12, 13, 27)) + b"\x7f"


def utf16_without_bom(sample: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when the sample is mostly-ASCII UTF-16 lacking a BOM.

    Such text has a NUL in nearly every other byte, which would otherwise make
    it look binary.
    """
    n = len(sample) - len(sample) % 2
    if n < 8:
        return None
    even, odd = sample[0:n:2], sample[1:n:2]
    half = n // 2
    even_nuls, odd_nuls = even.count(b"\x00"), odd.count(b"\x00")
    if odd_nuls >= 0.9 * half and even_nuls <= 0.05 * half:
        return "utf-16-le"
    if even_nuls >= 0.9 * half and odd_nuls <= 0.05 * half:
        return "utf-16-be"
    return None


def _looks_like_html(head: bytes) -> bool:
    start = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"<!doctype html") or start.startswith(b"<html"):
        return True
    # An XML declaration or a leading comment may come before the root tag.
    if start.startswith((b"<?xml", b"<!--")):
        return b"<html" in start or b"<!doctype html" in start
    return False

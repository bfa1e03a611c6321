"""Plain text: encoding detection; the whole text is one section."""

from __future__ import annotations

import re

from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers._common import build_document, display_name, normalize_text, split_paragraphs
from ragsilo.parsers.budget import ParseBudget
from ragsilo.parsers.detect import TEXT, utf16_without_bom

_BOMS = (
    # UTF-32 first: its little-endian BOM begins with the UTF-16 one.
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_HIGH = bytes(range(0x80, 0x100))
_HIGH_RUN = re.compile(rb"[\x80-\xff]{3}")


def decode_text(data: bytes) -> str:
    """Bytes to normalised text, whatever the encoding.

    In order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE), UTF-16
    without a mark, strict UTF-8, then a guess. Western text with a few
    accented letters is read as Windows-1252 (a superset of Latin-1) because
    statistical detectors misjudge short samples of it; anything else goes to
    charset-normalizer, with Windows-1252 and finally Latin-1 as the fallback.
    Newlines become ``\\n``; NULs and stray control characters are dropped.
    """
    return normalize_text(_decode(data))


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    bomless = utf16_without_bom(data[:8192])
    if bomless is not None:
        return data.decode(bomless, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    nearly = _mostly_utf8(data)
    if nearly is not None:
        return nearly
    if _sparse_high_bytes(data):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    guessed = _charset_normalizer_guess(data)
    if guessed is not None:
        return guessed
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _mostly_utf8(data: bytes) -> str | None:
    """The UTF-8 reading of ``data`` when only a few bytes in it are invalid.

    A UTF-8 file with one damaged byte should not turn into mojibake. Text in a
    single-byte encoding almost never forms valid multi-byte sequences, so a
    clear majority of valid ones means UTF-8.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return text if good > 0 and bad * 10 <= good else None


def _sparse_high_bytes(data: bytes) -> bool:
    """Whether bytes >= 0x80 come alone or in pairs among ASCII, as in Western text.

    Single-byte Cyrillic, Greek or Hebrew and the multi-byte Asian encodings
    put whole words of high bytes in a row; French, German or Spanish in
    Windows-1252 has an accented letter here and there.
    """
    sample = data[: 1 << 16]
    high = len(sample) - len(sample.translate(None, _HIGH))
    return 0 < high * 2 <= len(sample) and _HIGH_RUN.search(sample) is None


def _charset_normalizer_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


class TextParser:
    """Plain text: the whole text is one section (plain text has no headings or pages), so
    the chunker packs its paragraphs into chunks of the configured size."""

    mime_type = TEXT

    def __init__(self, budget: ParseBudget | None = None) -> None:
        self.budget = budget or ParseBudget()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Decode ``data`` into one section of its paragraphs (separated by blank lines)."""
        text = decode_text(data)
        self.budget.check_text(len(text), display_name(name))
        body = "\n\n".join(split_paragraphs(text))
        sections = [Section(text=body)] if body else []
        return build_document(name=name, mime_type=self.mime_type, title=None, sections=sections)

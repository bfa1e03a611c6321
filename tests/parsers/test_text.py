"""Plain text: decoding every common encoding, paragraphs, and speed on big input."""

from __future__ import annotations

import time

import pytest

from ragsilo.chunking import RecursiveChunker
from ragsilo.errors import ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.text import TextParser, decode_text

FRENCH = "Le compost mûrit en été; la forêt dépose ses feuilles à l'automne. Ça coûte peu."
GERMAN = "Grüße aus Köln: der Komposthaufen braucht Luft, Wasser und Geduld. Maß halten!"
RUSSIAN = (
    "Компост — это смесь перепревших органических остатков. Хороший компост пахнет "
    "лесной землёй и улучшает структуру почвы, удерживая влагу и питательные вещества."
)


def test_the_text_is_one_section_of_its_paragraphs() -> None:
    data = b"First paragraph,\nstill first.\n\n\n\nSecond paragraph.\n   \nThird."
    doc = TextParser().parse(data, "/docs/notes.txt")
    assert [s.text for s in doc.sections] == [
        "First paragraph,\nstill first.\n\nSecond paragraph.\n\nThird."
    ]
    assert doc.title == "notes"
    assert doc.mime_type == "text/plain"
    assert all(s.page is None and s.heading is None for s in doc.sections)


def test_short_paragraphs_are_packed_into_chunks_of_the_size() -> None:
    # one section, so the chunker packs paragraphs up to its size instead of
    # making a chunk of every paragraph (a title alone, a one-line paragraph)
    paragraphs = ["A title of the paper"] + [
        f"Paragraph {i} says one short thing about compost." for i in range(30)
    ]
    doc = TextParser().parse("\n\n".join(paragraphs).encode(), "paper.txt")
    chunker = RecursiveChunker(lambda t: len(t.split()), size=60)
    texts = [c.text for c in chunker.chunk(doc, doc_id="d", source="s", file_sha256="x")]
    assert texts[0].startswith("A title of the paper\n\nParagraph 0 says")
    assert len(texts) == 5  # 245 words in chunks of at most 60, paragraphs whole
    assert all(len(t.split()) <= 60 for t in texts)
    assert "\n\n".join(texts) == "\n\n".join(paragraphs)


def test_newlines_are_normalised_and_nuls_stripped() -> None:
    assert decode_text(b"one\r\ntwo\rthree\x00\nfour  \t\n") == "one\ntwo\nthree\nfour"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_byte_order_marks_pick_the_encoding(encoding: str) -> None:
    data = FRENCH.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        bom = "\ufeff".encode(encoding)
        data = bom + data
    assert decode_text(data) == FRENCH


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised(encoding: str) -> None:
    text = "Plain English notes about compost bins and worms."
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize("text", [FRENCH, GERMAN, "naïve", "Ñandú, señor"])
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_western_single_byte_text_is_decoded_exactly(text: str, encoding: str) -> None:
    assert decode_text(text.encode(encoding)) == text


def test_windows_1252_typography_survives() -> None:
    text = "“Brown” and “green” materials – a 30:1 ratio… roughly."
    assert decode_text(text.encode("cp1252")) == text


def test_cyrillic_single_byte_text_is_detected() -> None:
    assert decode_text(RUSSIAN.encode("cp1251")) == RUSSIAN


def test_utf8_with_one_damaged_byte_stays_utf8() -> None:
    data = (GERMAN + " ").encode() * 5 + b"\xff end"
    decoded = decode_text(data)
    assert decoded.startswith(GERMAN)
    assert decoded.endswith("\ufffd end")


def test_utf16_file_parses_through_parse_bytes() -> None:
    doc = parse_bytes(("\ufeff" + GERMAN + "\r\n\r\n" + FRENCH).encode("utf-16-le"), "w.txt")
    assert [s.text for s in doc.sections] == [f"{GERMAN}\n\n{FRENCH}"]


def test_latin1_file_parses_through_parse_bytes() -> None:
    doc = parse_bytes(FRENCH.encode("latin-1"), "fr.txt")
    assert doc.text == FRENCH


def test_text_with_no_words_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no text found"):
        TextParser().parse(b"\x00\x00\n\n", "nul.txt")


def test_parsing_is_deterministic() -> None:
    data = ("\n\n".join(f"Paragraph {i} about humus." for i in range(200))).encode()
    assert TextParser().parse(data, "a.txt") == TextParser().parse(data, "a.txt")


@pytest.mark.parametrize("name", ["big.txt", "big.md", "big.html", "big"])
def test_two_megabyte_single_line_is_fast(name: str) -> None:
    data = b"compost " * (2 * 1024 * 1024 // 8)
    start = time.perf_counter()
    doc = parse_bytes(data, name)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{name} took {elapsed:.2f}s"
    assert len(doc.text) == len(data) - 1  # the trailing space is trimmed

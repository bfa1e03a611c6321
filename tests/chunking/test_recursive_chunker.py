"""RecursiveChunker: bounds, overlap, structure, ids, metadata and speed."""

from __future__ import annotations

import hashlib
import random
import re
import time
from itertools import pairwise

import pytest

from ragsilo.chunking import (
    Chunker,
    RecursiveChunker,
    create_chunker,
    make_chunk_id,
    make_doc_id,
    normalise_text,
)
from ragsilo.embedding import load_tokenizer_counter
from ragsilo.errors import ConfigError
from ragsilo.models import ParsedDocument, Section
from ragsilo.settings import ChunkingSettings


def count_words(text: str) -> int:
    return len(text.split())


def count_quads(text: str) -> int:
    """One token per started group of four characters of each word."""
    return sum(-(-len(w) // 4) for w in text.split())


def doc(*sections: Section, metadata: dict | None = None) -> ParsedDocument:
    return ParsedDocument(
        title="T", mime_type="text/plain", sections=tuple(sections), metadata=metadata or {}
    )


def chunk(chunker: RecursiveChunker, document: ParsedDocument, doc_id: str = "d" * 32):
    return chunker.chunk(document, doc_id=doc_id, source="/data/a.txt", file_sha256="f" * 64)


def numbered_prose(sentences: int, *, seed: int = 7, prefix: str = "w") -> str:
    """Sentences of unique words (w0, w1, ...) in paragraphs of 1 to 6 sentences."""
    rng = random.Random(seed)
    words = 0
    paragraphs, current = [], []
    for _ in range(sentences):
        length = rng.randint(3, 14)
        sentence = " ".join(f"{prefix}{words + i}" for i in range(length))
        words += length
        current.append(sentence[0].upper() + sentence[1:] + ".")
        if rng.random() < 0.25:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def strip_overlap(texts: list[str], overlap: int) -> list[str]:
    """Each chunk's words, less the words it repeats from the previous chunk."""
    out: list[str] = []
    previous: list[str] = []
    for text in texts:
        words = text.split()
        k = 0
        for size in range(min(overlap, len(words), len(previous)), 0, -1):
            if previous[-size:] == words[:size]:
                k = size
                break
        out.extend(words[k:])
        previous = words
    return out


# -- size ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        numbered_prose(400),
        " ".join(f"word{i}" for i in range(5000)),  # one sentence, no punctuation
        "\n".join(f"line {i} has some words in it" for i in range(800)),
        "Short. " * 3000,
    ],
    ids=["paragraphs", "one-long-sentence", "lines", "many-short-sentences"],
)
@pytest.mark.parametrize("size,overlap", [(16, 0), (50, 10), (200, 32)])
def test_every_chunk_fits_the_size(text: str, size: int, overlap: int) -> None:
    chunker = RecursiveChunker(count_words, size, overlap)
    texts = chunker.split_text(text)
    assert texts
    assert all(1 <= count_words(t) <= size for t in texts)


def test_one_huge_word_is_cut_by_characters_within_both_bounds() -> None:
    word = "".join(random.Random(3).choice("abcdefgh") for _ in range(50_000))
    chunker = RecursiveChunker(count_quads, 64, 8)
    texts = chunker.split_text(f"Before it. {word} After it.")
    assert all(count_quads(t) <= 64 for t in texts)
    assert all(len(t) <= chunker.max_chars for t in texts)
    assert word in "".join(texts).replace(" ", "")  # nothing lost or repeated inside it


def test_characters_bound_text_a_tokenizer_reads_as_few_tokens() -> None:
    # A WordPiece tokenizer counts any word over 100 characters as one [UNK].
    def unk_counter(text: str) -> int:
        return len(text.split())

    chunker = RecursiveChunker(unk_counter, 20, 0, max_chars=500)
    texts = chunker.split_text("x" * 10_000)
    assert len(texts) == 20
    assert all(len(t) == 500 for t in texts)


def test_bound_holds_when_counts_do_not_add_up() -> None:
    # Joined text costs more than its pieces: a space-sensitive tokenizer.
    def superadditive(text: str) -> int:
        return len(text.split()) + text.count(" ") // 4

    chunker = RecursiveChunker(superadditive, 30, 6)
    texts = chunker.split_text(numbered_prose(300))
    assert all(superadditive(t) <= 30 for t in texts)
    assert strip_overlap(texts, 30) == numbered_prose(300).split()


def test_the_last_chunk_is_checked_too() -> None:
    def spaces_cost(text: str) -> int:
        return len(text.split()) + text.count(" ")

    texts = RecursiveChunker(spaces_cost, 10, 0).split_text("w1 w2 w3 w4 w5 w6")
    assert texts == ["w1 w2 w3 w4 w5", "w6"]


def test_real_minilm_counter_bound_and_additivity() -> None:
    counter = load_tokenizer_counter()
    assert counter.tokens_additive
    text = numbered_prose(300) + "\n\nUnicode: naïve café, 東京タワー。次の文。 Ünïcödé Straße."

    def undeclared(t: str) -> int:
        return counter(t)

    fast = RecursiveChunker(counter, 60, 12).split_text(text)
    checked = RecursiveChunker(undeclared, 60, 12).split_text(text)
    assert fast == checked
    assert all(counter(t) <= 60 for t in fast)


# -- content and overlap -------------------------------------------------------------


def test_no_text_is_lost_or_reordered_without_overlap() -> None:
    text = numbered_prose(300)
    texts = RecursiveChunker(count_words, 40, 0).split_text(text)
    assert " ".join(texts).split() == text.split()


def test_overlap_is_present_bounded_and_removable() -> None:
    text = numbered_prose(300)
    texts = RecursiveChunker(count_words, 40, 10).split_text(text)
    for previous, current in pairwise(texts):
        repeated = len(previous.split()) + len(current.split())
        repeated -= len(strip_overlap([previous, current], 10))
        assert repeated <= 10
        if repeated == 0:
            # Overlap gives way only to a whole paragraph that fills the chunk
            # (or when the previous chunk is one short sentence).
            last_sentence = previous.replace("\n", " ").split(". ")[-1]
            first_paragraph = current.split("\n\n")[0]
            assert count_words(last_sentence) + count_words(first_paragraph) > 40 or (
                count_words(previous) <= 10
            )
    assert strip_overlap(texts, 10) == text.split()


def test_overlap_prefers_whole_sentences() -> None:
    sentences = [f"Sentence {i} has exactly six words." for i in range(60)]
    texts = RecursiveChunker(count_words, 30, 13).split_text(" ".join(sentences))
    pattern = re.compile(r"Sentence \d+ has exactly six words\.")
    for previous, current in pairwise(texts):
        # Two whole six-word sentences fit the 13-token budget, and no more.
        assert pattern.findall(current)[:2] == pattern.findall(previous)[-2:]
        assert pattern.match(current)


def test_overlap_falls_back_to_words_inside_a_long_sentence() -> None:
    text = " ".join(f"t{i}" for i in range(100)) + "."
    texts = RecursiveChunker(count_words, 30, 5).split_text(text)
    for previous, current in pairwise(texts):
        assert previous.split()[-5:] == current.split()[:5]


def test_overlap_never_repeats_a_whole_chunk() -> None:
    text = "Tiny.\n\n" + " ".join(f"big{i}" for i in range(40)) + "."
    texts = RecursiveChunker(count_words, 40, 10).split_text(text)
    assert texts[0] == "Tiny."
    assert texts[1].startswith("big0")


def test_no_overlap_when_zero() -> None:
    texts = RecursiveChunker(count_words, 20, 0).split_text(numbered_prose(100))
    words = [w for t in texts for w in t.split()]
    assert len(words) == len(set(words))


# -- structure ----------------------------------------------------------------------


def test_sections_are_never_mixed_and_keep_page_and_heading() -> None:
    sections = [
        Section(text=numbered_prose(40, prefix=f"s{n}x"), page=n + 1, heading=f"Part {n}")
        for n in range(4)
    ]
    chunks = chunk(RecursiveChunker(count_words, 50, 10), doc(*sections))
    assert {c.page for c in chunks} == {1, 2, 3, 4}
    for c in chunks:
        n = c.page - 1
        assert c.section == f"Part {n}"
        assert all(w.lower().startswith(f"s{n}x") for w in c.text.split())
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))


def test_tiny_sections_are_one_chunk_each_with_merged_metadata() -> None:
    rows = [Section(text=f"name: item {i}\nprice: {i}.50", metadata={"row": i}) for i in range(5)]
    document = doc(*rows, metadata={"source_kind": "csv", "row": -1})
    chunks = chunk(RecursiveChunker(count_words, 100, 20), document)
    assert [c.text for c in chunks] == [f"name: item {i}\nprice: {i}.50" for i in range(5)]
    assert [c.metadata for c in chunks] == [{"source_kind": "csv", "row": i} for i in range(5)]
    chunks[0].metadata["row"] = 99
    assert chunks[1].metadata["row"] == 1
    assert document.metadata["row"] == -1 and rows[0].metadata["row"] == 0


def test_chunk_fields_come_from_document_and_arguments() -> None:
    document = ParsedDocument(
        title="Manual", mime_type="application/pdf", sections=(Section("Hello there.", page=3),)
    )
    [c] = RecursiveChunker(count_words, 16).chunk(
        document, doc_id="abc", source="/x/manual.pdf", file_sha256="9" * 64
    )
    assert (c.doc_id, c.source, c.file_sha256) == ("abc", "/x/manual.pdf", "9" * 64)
    assert (c.mime_type, c.title, c.page, c.section, c.chunk_index) == (
        "application/pdf",
        "Manual",
        3,
        None,
        0,
    )


def test_whitespace_is_normalised_and_empty_sections_give_nothing() -> None:
    document = doc(
        Section("  \n\t \n"),
        Section("a  \t b\u00a0 c\r\n\r\n\r\n\n  d\x00e  \n f\u200b"),
        Section(""),
    )
    chunks = chunk(RecursiveChunker(count_words, 16), document)
    assert [c.text for c in chunks] == ["a b c\n\nde\nf"]
    assert normalise_text(" x \n\n\n y ") == "x\n\ny"
    assert chunk(RecursiveChunker(count_words, 16), doc()) == []


def test_cjk_text_without_spaces_is_bounded() -> None:
    def per_char(text: str) -> int:
        return len(text.replace(" ", "").replace("\n", ""))

    text = "東京は日本の首都です。" * 200
    texts = RecursiveChunker(per_char, 50, 10).split_text(text)
    assert all(per_char(t) <= 50 for t in texts)
    assert texts[0].endswith("。")


# -- ids -------------------------------------------------------------------------------


def test_output_is_deterministic() -> None:
    document = doc(Section(numbered_prose(200)), Section("Row.", metadata={"k": 1}))
    first = chunk(RecursiveChunker(count_words, 40, 8), document)
    second = chunk(RecursiveChunker(count_words, 40, 8), document)
    assert first == second


def test_chunk_id_is_the_documented_hash() -> None:
    [c] = chunk(RecursiveChunker(count_words, 16), doc(Section("Hello.")), doc_id="doc1")
    expected = hashlib.sha256(b"doc1\x1f0\x1fHello.").hexdigest()[:32]
    assert c.id == expected == make_chunk_id("doc1", 0, "Hello.")


def test_ids_are_stable_when_an_unrelated_section_changes() -> None:
    a, b, c = (Section(numbered_prose(30, prefix=p, seed=i)) for i, p in enumerate("abc"))
    changed = Section(numbered_prose(45, prefix="b", seed=99))
    chunker = RecursiveChunker(count_words, 40, 8)
    before = chunk(chunker, doc(a, b, c))
    after = chunk(chunker, doc(a, changed, c))
    ids_before = {x.text: x.id for x in before}
    ids_after = {x.text: x.id for x in after}
    for text in (x.text for x in before if x.text[0] in "Aa" or x.text[0] in "Cc"):
        assert ids_after[text] == ids_before[text]
    assert {x.id for x in before if x.text[0] in "Bb"}.isdisjoint(ids_after.values())


def test_repeated_text_gets_distinct_stable_ids() -> None:
    document = doc(*(Section("Same row.") for _ in range(3)), Section("Other."))
    chunks = chunk(RecursiveChunker(count_words, 16), document)
    ids = [c.id for c in chunks]
    assert len(set(ids)) == 4
    assert ids[:3] == [make_chunk_id("d" * 32, n, "Same row.") for n in range(3)]
    other = chunk(RecursiveChunker(count_words, 16), document, doc_id="e" * 32)
    assert set(ids).isdisjoint(c.id for c in other)


def test_make_doc_id_hashes_the_source_path() -> None:
    assert make_doc_id("/data/a.txt") == hashlib.sha256(b"/data/a.txt").hexdigest()[:32]
    assert make_doc_id("/data/a.txt") != make_doc_id("/data/b.txt")
    assert len(make_doc_id("/data/\udcff.txt")) == 32  # an undecodable file name


# -- construction ------------------------------------------------------------------


def test_public_names() -> None:
    import ragsilo.chunking

    assert set(ragsilo.chunking.__all__) == {
        "Chunker", "RecursiveChunker", "create_chunker", "make_chunk_id", "make_doc_id",
        "normalise_text", "split_sentences",
    }  # fmt: skip


def test_create_chunker_follows_the_settings() -> None:
    chunker = create_chunker(ChunkingSettings(size=120, overlap=20), count_words)
    assert isinstance(chunker, Chunker)
    assert isinstance(chunker, RecursiveChunker)
    assert (chunker.size, chunker.overlap) == (120, 20)


@pytest.mark.parametrize("size,overlap", [(0, 0), (10, 10), (10, -1)])
def test_invalid_sizes_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(ConfigError):
        RecursiveChunker(count_words, size, overlap)


# -- speed -----------------------------------------------------------------------------


def test_two_megabyte_single_line_with_the_minilm_counter() -> None:
    rng = random.Random(5)
    vocabulary = [
        "retrieval", "vector", "index", "search", "the", "of", "a", "database", "query",
        "embedding", "cluster", "latency", "3.5", "e.g.", "Dr.", "recall", "throughput",
    ]  # fmt: skip
    sentences = []
    size = 0
    while size < 2_000_000:
        words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 30))]
        sentence = " ".join(words).capitalize() + rng.choice([".", "!", "?", ";"])
        sentences.append(sentence)
        size += len(sentence) + 1
    text = " ".join(sentences)
    counter = load_tokenizer_counter()
    started = time.perf_counter()
    texts = RecursiveChunker(counter, 200, 32).split_text(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"2 MB took {elapsed:.1f} s"
    assert all(counter(t) <= 200 for t in texts)
    assert len(texts) > 2_000_000 / (200 * 6)

"""Rows of chunks: built column-wise, the same as one by one, with terms made ahead."""

from __future__ import annotations

import numpy as np

from ragsilo.models import Chunk
from ragsilo.store.analysis import EnglishTerms
from ragsilo.store.codes import encode_codes
from ragsilo.store.milvus import chunk_row as chunk_row_from_store
from ragsilo.store.rows import (
    chunk_row,
    chunk_rows,
    fit_codes,
    row_terms,
    row_text,
    truncate_utf8,
)
from ragsilo.store.schema import MAX_LENGTHS, TENANT_FIELD, TERMS_FIELD


def _chunks() -> list[Chunk]:
    texts = ["Bees dance to show where flowers are.", "bad \udcff byte", "x" * 70_000]
    return [
        Chunk(
            id=f"c{i}",
            doc_id="d",
            source="notes\udc80.txt",
            file_sha256="s",
            mime_type="text/plain",
            title="Notes",
            page=None,
            section=None,
            text=t,
            chunk_index=i,
            doc_chunks=len(texts),
            metadata={"k\udc81": "v"},
        )
        for i, t in enumerate(texts)
    ]


def test_rows_built_together_equal_rows_built_one_by_one() -> None:
    chunks = _chunks()
    vectors = np.random.default_rng(0).standard_normal((len(chunks), 8)).astype(np.float32)
    english = EnglishTerms()
    terms = [row_terms(c.text, english) for c in chunks]
    rows = chunk_rows(chunks, vectors, [3, -1, 5], terms=terms, tenant="acme")
    for row, c, v, cid, t in zip(rows, chunks, vectors, [3, -1, 5], terms, strict=True):
        one = chunk_row(c, v, cid)
        assert {k: row[k] for k in one} == one
        assert row[TERMS_FIELD] == t and row[TENANT_FIELD] == "acme"
    assert chunk_row_from_store is chunk_row  # still importable from the store module
    assert rows[0][TERMS_FIELD] == "bee danc show where flower"
    assert rows[1]["text"] == "bad \\xff byte" and rows[1]["source"] == "notes\\x80.txt"
    assert rows[1]["metadata"] == {"k\\x81": "v"}
    assert len(rows[2]["text"].encode()) <= MAX_LENGTHS["text"]


def test_row_terms_read_the_text_as_stored() -> None:
    english = EnglishTerms()
    assert row_text("ok \udcff") == "ok \\xff"
    assert row_terms("Running dogs \udcff", english) == english("Running dogs \\xff")
    long = "word " * 30_000
    assert len(row_terms(long, english).encode()) <= MAX_LENGTHS["text"]
    assert truncate_utf8("é" * 10, 5) == "éé"


def test_fit_codes_makes_missing_codes_and_drops_unwanted_ones() -> None:
    vectors = np.asarray([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    coded = {"id": "a", "vector": vectors[0].tolist(), "vector_code": "kept as it is"}
    bare = {"id": "b", "vector": vectors[1].tolist()}
    out = fit_codes([coded, bare], True)
    assert out[0] is coded and out[1]["vector_code"] == encode_codes(vectors[1:])[0]
    assert "vector_code" not in bare  # the caller's rows are not changed
    assert fit_codes([coded, bare], False) == [
        {"id": "a", "vector": vectors[0].tolist()},
        bare,
    ]

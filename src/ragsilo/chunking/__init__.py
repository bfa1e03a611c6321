"""Chunking: the :class:`Chunker` protocol, document and chunk ids, and the chunkers.

A chunk's id is a content hash (:func:`make_chunk_id`) of its document's id
(:func:`make_doc_id`), its text and how often that text occurred earlier in
the document, so re-ingesting an unchanged file writes the same primary keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ragsilo.chunking._ids import make_chunk_id, make_doc_id
from ragsilo.chunking._sentences import split_sentences
from ragsilo.chunking.recursive import RecursiveChunker, normalise_text
from ragsilo.models import Chunk, ParsedDocument
from ragsilo.settings import ChunkingSettings

__all__ = [
    "Chunker",
    "RecursiveChunker",
    "create_chunker",
    "make_chunk_id",
    "make_doc_id",
    "normalise_text",
    "split_sentences",
]


@runtime_checkable
class Chunker(Protocol):
    """Cuts a parsed document into chunks."""

    def chunk(
        self, doc: ParsedDocument, *, doc_id: str, source: str, file_sha256: str
    ) -> list[Chunk]:
        """The chunks of ``doc``, with ``chunk_index`` counting 0.. across it."""
        ...


def create_chunker(settings: ChunkingSettings, count_tokens: Callable[[str], int]) -> Chunker:
    """The chunker for ``settings``, measuring sizes with ``count_tokens``.

    Pass the embedder's ``count_tokens`` so that ``chunking.size`` is in the
    model's own tokens.
    """
    return RecursiveChunker(count_tokens, settings.size, settings.overlap)

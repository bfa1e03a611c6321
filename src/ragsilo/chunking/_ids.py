"""Content-hash identifiers of documents and chunks."""

from __future__ import annotations

import hashlib

ID_LENGTH = 32


def make_doc_id(source: str) -> str:
    """The id of the document at ``source``: sha256 of the path string, 32 hex chars.

    The id depends on where the document lives, not on its content, so a
    changed file keeps its id and its new chunks replace the old ones.
    """
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:ID_LENGTH]


def make_chunk_id(doc_id: str, occurrence: int, text: str) -> str:
    """The id of a chunk: sha256 of document id, occurrence and text, 32 hex chars.

    ``occurrence`` counts the earlier chunks of the same document with the
    same text, so repeated text gets distinct ids while a chunk's id does not
    move when other parts of the document change.
    """
    key = f"{doc_id}\x1f{occurrence}\x1f{text}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:ID_LENGTH]

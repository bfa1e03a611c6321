"""Texts as documents: each text sent in (by the HTTP service, or a caller) becomes one document.

A text's source is ``text://<name>`` when it is given a name, else
``text://<first 16 hex digits of its sha256>``; the source decides the
document id, so sending the same text again writes nothing, and sending new
text under the same name replaces the old.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ragsilo.errors import InputError
from ragsilo.ingest.pipeline import DocumentSource
from ragsilo.models import ParsedDocument
from ragsilo.parsers._common import clip, collapse_spaces, flat_metadata
from ragsilo.parsers.text import TextParser

TextItem = str | tuple[str, Mapping[str, Any]]
"""A bare text, or a text with its fields: ``name``, ``title``, and any other metadata."""

TITLE_CHARS = 80
NAME_CHARS = 200


def text_sources(
    texts: Sequence[TextItem], *, source_prefix: str = "text://"
) -> list[DocumentSource]:
    """One :class:`DocumentSource` per text, ready for :meth:`Ingestor.run_documents`.

    In the mapping beside a text, ``name`` names its source and ``title`` its
    title (default: the text's first words); every other key is metadata,
    stored with each chunk and filterable as ``metadata.<key>``. The same text
    given twice is ingested once; two different texts with one name are refused.
    """
    if isinstance(texts, str):
        raise InputError("give a list of texts, not one string")
    out: list[DocumentSource] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(texts):
        text, fields = _split(item, i)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        name = fields.pop("name", None)
        title = fields.pop("title", None)
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InputError(f"text {i}: 'name' must be a non-empty string")
        if title is not None and not isinstance(title, str):
            raise InputError(f"text {i}: 'title' must be a string")
        if name is not None and len(name) > NAME_CHARS:
            raise InputError(f"text {i}: 'name' is longer than {NAME_CHARS} characters")
        source = source_prefix + (name.strip() if name else digest[:16])
        if source in seen:
            if seen[source] != digest:
                raise InputError(f"two different texts are both named {source!r}")
            continue
        seen[source] = digest
        out.append(
            DocumentSource(
                source=source,
                sha256=digest,
                parse=_parser(text, source, title, flat_metadata(fields)),
            )
        )
    return out


def _split(item: TextItem, i: int) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
        fields = item[1]
        if not isinstance(fields, Mapping):
            raise InputError(f"text {i}: its fields must be a mapping, not {type(fields).__name__}")
        return item[0], dict(fields)
    raise InputError(f"text {i} must be a string or a (text, fields) pair")


def _parser(
    text: str, source: str, title: str | None, metadata: dict[str, Any]
) -> Callable[[], ParsedDocument]:
    # a partial of a module function, not a closure: it pickles, so a parse worker can run it
    return functools.partial(_parse_text, text, source, title, metadata)


def _parse_text(
    text: str, source: str, title: str | None, metadata: dict[str, Any]
) -> ParsedDocument:
    doc = TextParser().parse(text.encode("utf-8", "surrogatepass"), source)
    first = collapse_spaces(doc.sections[0].text)
    return replace(
        doc,
        title=collapse_spaces(title or "") or clip(first, TITLE_CHARS),
        metadata=metadata,
    )

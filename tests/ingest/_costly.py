"""Parsers that make a file costly on purpose, importable by the parse worker processes."""

from __future__ import annotations

import time

from ragsilo.models import ParsedDocument
from ragsilo.parsers import default_parsers
from ragsilo.parsers.text import TEXT, TextParser


class CostlyTextParser:
    """Plain text, except that a file saying SLOW takes a minute and one saying HUNGRY asks
    for 3 GB of memory (as a parser fed a crafted file might)."""

    mime_type = TEXT

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        if b"SLOW" in data:
            time.sleep(60)
        if b"HUNGRY" in data:
            hog = bytearray(3 * 1024 * 1024 * 1024)
            hog[-1] = 1
        return TextParser().parse(data, name)


def costly_parsers() -> dict:
    registry = default_parsers()
    registry[TEXT] = CostlyTextParser()
    return registry

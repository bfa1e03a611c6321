"""Per-file budgets: the most work one file may cost the parsers.

A :class:`ParseBudget` travels with each parser; a file over one of its
limits raises :class:`~ragsilo.errors.FileOverBudgetError`, which names the
limit and the ``parsing.*`` setting that raises it. The checks run before or
while the costly work happens (a Word file's ZIP directory before anything
is inflated, a PDF's content streams before any page is read, a CSV line
before it is split), so a crafted file is refused in bounded time and memory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragsilo.errors import FileOverBudgetError

if TYPE_CHECKING:
    from ragsilo.settings import ParsingSettings

MB = 1024 * 1024
TRUNCATED_KEY = "metadata_truncated"


@dataclass(frozen=True)
class ParseBudget:
    """The per-file limits (the ``parsing`` settings; the defaults are the same)."""

    max_text_chars: int = 50_000_000
    max_pdf_pages: int = 5000
    max_page_content_mb: float = 4.0
    max_pdf_content_mb: float = 256.0
    max_unpacked_mb: float = 64.0
    max_columns: int = 1000
    max_line_chars: int = 1_000_000
    max_metadata_fields: int = 64
    max_metadata_bytes: int = 8192

    def __post_init__(self) -> None:
        for name in ("max_text_chars", "max_pdf_pages", "max_columns", "max_line_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("max_page_content_mb", "max_pdf_content_mb", "max_unpacked_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be above 0, not {getattr(self, name)}")
        for name in ("max_metadata_fields", "max_metadata_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)}")

    @classmethod
    def from_settings(cls, settings: ParsingSettings) -> ParseBudget:
        """The budget the ``parsing`` settings describe."""
        return cls(**settings.model_dump())

    @property
    def max_page_content_bytes(self) -> int:
        return int(self.max_page_content_mb * MB)

    @property
    def max_pdf_content_bytes(self) -> int:
        return int(self.max_pdf_content_mb * MB)

    @property
    def max_unpacked_bytes(self) -> int:
        return int(self.max_unpacked_mb * MB)

    def text_counter(self, shown: str) -> TextCounter:
        """A counter that refuses the file once its text passes ``max_text_chars``."""
        return TextCounter(self.max_text_chars, shown)

    def check_text(self, total_chars: int, shown: str) -> None:
        """Refuse a file whose extracted text is over ``max_text_chars``."""
        if total_chars > self.max_text_chars:
            raise over_budget(
                f"{shown} holds more than {self.max_text_chars:,} characters of text",
                "max_text_chars",
            )

    def check_line(self, length: int, line: int, shown: str) -> None:
        if length > self.max_line_chars:
            raise over_budget(
                f"{shown} line {line} is {length:,} characters long, over the limit of "
                f"{self.max_line_chars:,} characters for one line",
                "max_line_chars",
            )

    def check_lines(self, text: str, shown: str) -> None:
        """Refuse ``text`` when one of its lines is longer than ``max_line_chars``.

        Runs before the text is split into records or fields: a 45 MB line
        costs one scan, not a 45 MB row of Python strings.
        """
        limit = self.max_line_chars
        if len(text) <= limit:
            return
        start, number = 0, 1
        while True:
            end = text.find("\n", start)
            stop = len(text) if end < 0 else end
            if stop - start > limit:
                self.check_line(stop - start, number, shown)
            if end < 0:
                return
            start, number = end + 1, number + 1

    def cap_metadata(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """``metadata`` cut to ``max_metadata_fields`` fields and ``max_metadata_bytes`` bytes.

        Every chunk of a record carries its metadata, so a record with a
        thousand fields would copy them into each chunk. Fields are kept in
        order while they fit; ``metadata_truncated`` counts the fields left out
        (their values are still in the record's text).
        """
        if len(metadata) <= self.max_metadata_fields and (
            _size(metadata) <= self.max_metadata_bytes
        ):
            return dict(metadata)
        out: dict[str, Any] = {}
        used = len(json.dumps({TRUNCATED_KEY: len(metadata)}))
        for key, value in metadata.items():
            if len(out) >= self.max_metadata_fields:
                break
            cost = _field_size(key, value)
            if used + cost > self.max_metadata_bytes:
                break
            out[key] = value
            used += cost
        out[TRUNCATED_KEY] = len(metadata) - len(out)
        return out


class TextCounter:
    """Adds up the characters a parser extracts and refuses the file past the limit."""

    def __init__(self, limit: int, shown: str) -> None:
        self.limit = limit
        self.shown = shown
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        if self.total > self.limit:
            raise over_budget(
                f"{self.shown} holds more than {self.limit:,} characters of text",
                "max_text_chars",
            )


def over_budget(message: str, setting: str) -> FileOverBudgetError:
    """The error for a file over the budget ``parsing.<setting>``."""
    env = f"RAGSILO_PARSING__{setting.upper()}"
    return FileOverBudgetError(
        f"{message}, set by parsing.{setting}",
        setting=f"parsing.{setting}",
        hint=f"if the file is trusted, raise that setting (or {env}) and ingest it again",
    )


def _field_size(key: str, value: Any) -> int:
    # The field as JSON: quotes, colon and comma included.
    if isinstance(value, str):
        return len(key) + len(value.encode("utf-8", "surrogatepass")) + 6
    try:
        return len(key) + len(json.dumps(value, default=str)) + 4
    except (TypeError, ValueError):
        return len(key) + len(str(value)) + 4


def _size(metadata: Mapping[str, Any]) -> int:
    return sum(_field_size(k, v) for k, v in metadata.items())

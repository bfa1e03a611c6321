"""Helpers shared by the parsers: text clean-up and building the result."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from ragsilo.errors import ParseError
from ragsilo.models import ParsedDocument, Section

# C0 controls other than tab and newline, and DEL, vanish; vertical tab, form
# feed and the Unicode line/paragraph separators become newlines.
_CONTROL_TABLE: dict[int, str | None] = {
    **dict.fromkeys((c for c in range(32) if c not in (9, 10, 11, 12)), None),
    11: "\n",
    12: "\n",
    127: None,
    0x2028: "\n",
    0x2029: "\n\n",
    0xFEFF: None,
}
_BLANK_RUNS = re.compile(r"\n{3,}")

METADATA_VALUE_MAX_CHARS = 512


def normalize_text(text: str) -> str:
    """Unix newlines, no NULs or stray control characters, no trailing spaces.

    Runs of blank lines shrink to one. Linear in the length of the text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL_TABLE)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def collapse_spaces(text: str) -> str:
    """Every run of spaces, tabs and newlines as one space, trimmed."""
    return " ".join(text.split())


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of normalised text (separated by blank lines)."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def title_from_name(name: str) -> str:
    """The file's stem, used when a document names no title of its own."""
    stem = PurePath(name).stem
    return stem or PurePath(name).name or "untitled"


def display_name(name: str) -> str:
    """The name to use in messages: the path as given, or a placeholder."""
    return name or "the input"


def heading_path(stack: Iterable[tuple[int, str]]) -> str | None:
    """'Guide > Install' from a stack of ``(level, text)`` headings."""
    parts = [text for _, text in stack if text]
    return " > ".join(parts) if parts else None


def clip(value: str, limit: int = METADATA_VALUE_MAX_CHARS) -> str:
    """``value`` cut to ``limit`` characters (a trailing ellipsis marks the cut)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def scalar_metadata(value: Any) -> str | int | float | bool | None:
    """A JSON- and Milvus-safe scalar: finite numbers and int64 ints stay, the rest is text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else clip(str(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None:
        return None
    return clip(str(value))


def build_document(
    *,
    name: str,
    mime_type: str,
    title: str | None,
    sections: Iterable[Section],
    metadata: Mapping[str, Any] | None = None,
) -> ParsedDocument:
    """The parsed document, without blank sections; ParseError when no text is left."""
    kept = tuple(s for s in sections if s.text.strip())
    if not kept:
        raise ParseError(f"no text found in {display_name(name)}: it holds no readable words")
    return ParsedDocument(
        title=(title or "").strip() or title_from_name(name),
        mime_type=mime_type,
        sections=kept,
        metadata=dict(metadata or {}),
    )


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted.key, value)`` pairs for every leaf of nested dicts and lists.

    Lists of scalars stay whole (one pair holding the list); lists holding
    dicts or lists are indexed (``items.0.name``). Iterative, so deep nesting
    cannot exhaust the stack.
    """
    out: list[tuple[str, Any]] = []
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            children = [(_join_key(key, str(k)), v) for k, v in item.items()]
        elif isinstance(item, list) and any(isinstance(v, (dict, list)) for v in item):
            children = [(_join_key(key, str(i)), v) for i, v in enumerate(item)]
        else:
            out.append((key, item))
            continue
        stack.extend(reversed(children))
    return out


def _join_key(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def render_value(value: Any) -> str:
    """A leaf value as text: lists of scalars joined with ', ', JSON spellings for constants."""
    if isinstance(value, list):
        return ", ".join(render_value(v) for v in value if v is not None and v != "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def flat_lines(value: Any) -> list[str]:
    """``"a.b: value"`` lines for the non-empty leaves of ``value``."""
    lines = []
    for key, leaf in flatten(value):
        text = collapse_spaces(render_value(leaf))
        if text:
            lines.append(f"{key}: {text}" if key else text)
    return lines


def flat_metadata(value: Any) -> dict[str, Any]:
    """Scalar fields of a record: nested dicts as dotted keys, lists of scalars joined.

    Lists holding objects or lists are left out, as are nulls and empty
    strings; text is capped at :data:`METADATA_VALUE_MAX_CHARS` characters.
    """
    out: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed([(_join_key(key, str(k)), v) for k, v in item.items()]))
        elif not key or item is None or item == "":
            continue
        elif isinstance(item, list):
            if not any(isinstance(v, (dict, list)) for v in item):
                joined = render_value(item)
                if joined:
                    out[key] = clip(joined)
        else:
            out[key] = scalar_metadata(item)
    return out


class SectionBuilder:
    """Collects body lines under the current heading path and cuts sections at headings.

    A section's text starts with its heading. A heading with no body of its
    own is kept as a section only when no deeper heading follows it (its
    subsections already carry it in their heading path).
    """

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.stack: list[tuple[int, str]] = []
        self.lines: list[str] = []
        self._heading: str | None = None

    def add(self, line: str) -> None:
        """Append one line of body text ("" separates paragraphs)."""
        self.lines.append(line)

    def heading(self, level: int, text: str) -> None:
        """Start a section under a heading of ``level`` (smaller is higher)."""
        if not text:
            return
        self._flush(next_level=level)
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self._heading = text

    def finish(self) -> list[Section]:
        """The sections collected so far, the last one included."""
        self._flush(next_level=None)
        return self.sections

    def _flush(self, next_level: int | None) -> None:
        body = normalize_text("\n".join(self.lines)) if self.lines else ""
        self.lines.clear()  # cleared in place: callers may hold the list
        heading = self._heading
        if body:
            text = f"{heading}\n\n{body}" if heading else body
        elif heading and (next_level is None or next_level <= self.stack[-1][0]):
            text = heading
        else:
            return
        self.sections.append(Section(text=text, heading=heading_path(self.stack)))

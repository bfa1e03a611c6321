"""Markdown: sections by heading, with the heading path; front matter as metadata."""

from __future__ import annotations

import re
from typing import Any

from ragsilo.models import ParsedDocument
from ragsilo.parsers._common import (
    SectionBuilder,
    build_document,
    collapse_spaces,
    display_name,
    flat_metadata,
)
from ragsilo.parsers.budget import ParseBudget
from ragsilo.parsers.detect import MARKDOWN
from ragsilo.parsers.text import decode_text

_FRONT_MATTER_MAX_LINES = 500
_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\n]*\)")
_LIST_OR_BLOCK = re.compile(r"(?:[-+*][ \t]|\d{1,9}[.)][ \t]|>|\||<)")
# A setext underline turns at most this many preceding lines into a heading.
_SETEXT_MAX_LINES = 3


class MarkdownParser:
    """Markdown (CommonMark-style ATX and setext headings).

    Each heading starts a section whose ``heading`` is the path of headings
    above it ("Guide > Install"). Fenced and indented code stays as text and
    never yields headings. A leading YAML front-matter block becomes the
    document's metadata; the title is the front matter's ``title``, else the
    first level-1 heading, else the file name. Every chunk carries the front
    matter, so it is cut to the budget's ``max_metadata_fields`` and
    ``max_metadata_bytes``.
    """

    mime_type = MARKDOWN

    def __init__(self, budget: ParseBudget | None = None) -> None:
        self.budget = budget or ParseBudget()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Split ``data`` into heading sections."""
        text = decode_text(data)
        self.budget.check_text(len(text), display_name(name))
        metadata, body = split_front_matter(text)
        builder = SectionBuilder()
        first_h1: str | None = None
        fence: tuple[str, int] | None = None
        # Lines of the open paragraph, which a setext underline turns into a
        # heading, unless the block is a list, quote, table, HTML or code.
        paragraph = 0
        blocked = False

        lines = builder.lines
        for line in body.split("\n"):
            if fence is not None:
                lines.append(line)
                if _closes_fence(line, fence):
                    fence = None
                continue
            stripped = line.lstrip(" ")
            if not stripped or stripped.isspace():
                lines.append("")
                paragraph, blocked = 0, False
                continue
            # Indented by a tab or four spaces: code, where no marker counts.
            indented = len(line) - len(stripped) > 3 or stripped[0] == "\t"
            marker = "" if indented else stripped[0]
            if marker in ("`", "~"):
                opened = _opens_fence(stripped)
                if opened is not None:
                    fence = opened
                    lines.append(line)
                    paragraph, blocked = 0, False
                    continue
            elif marker == "#":
                atx = _atx_heading(stripped)
                if atx is not None:
                    level, title = atx
                    if title:
                        builder.heading(level, title)
                        first_h1 = first_h1 or (title if level == 1 else None)
                    paragraph, blocked = 0, False
                    continue
            if marker in ("=", "-") and 0 < paragraph <= _SETEXT_MAX_LINES and not blocked:
                underline = _setext_level(stripped)
                if underline:
                    title = _inline(" ".join(s.strip() for s in lines[-paragraph:]))
                    if title:
                        del lines[-paragraph:]
                        builder.heading(underline, title)
                        first_h1 = first_h1 or (title if underline == 1 else None)
                    paragraph = 0
                    continue
            if marker in ("-", "*", "_") and _is_thematic_break(stripped):
                lines.append("")
                paragraph, blocked = 0, False
                continue
            if paragraph == 0 and (not marker or _LIST_OR_BLOCK.match(stripped)):
                blocked = True  # indented code, a list, quote, table or HTML block
            lines.append(line)
            paragraph += 1

        sections = builder.finish()
        fm_title = metadata.get("title")
        doc_title = first_h1
        if isinstance(fm_title, str) and fm_title.strip():
            doc_title = fm_title
        return build_document(
            name=name,
            mime_type=self.mime_type,
            title=doc_title,
            sections=sections,
            metadata=self.budget.cap_metadata(metadata),
        )


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(metadata, body)``: a leading ``---`` YAML block parsed into flat scalar metadata.

    A block that is not a YAML mapping is left in the body (it may be a
    horizontal rule followed by text, not front matter).
    """
    if not text.startswith("---\n"):
        return {}, text
    lines = text.split("\n", _FRONT_MATTER_MAX_LINES + 1)
    for i in range(1, min(len(lines), _FRONT_MATTER_MAX_LINES + 1)):
        if lines[i].rstrip() in ("---", "..."):
            block = "\n".join(lines[1:i])
            break
    else:
        return {}, text
    import yaml

    try:
        loaded = yaml.safe_load(block)
    except yaml.YAMLError:
        return {}, text
    if not isinstance(loaded, dict):
        return {}, text
    rest = text.split("\n", i + 1)
    body = rest[i + 1] if len(rest) > i + 1 else ""
    return flat_metadata(_json_safe(loaded)), body


def _json_safe(value: Any) -> Any:
    """YAML dates and other non-JSON scalars as strings."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _opens_fence(stripped: str) -> tuple[str, int] | None:
    if not stripped.startswith(("```", "~~~")):
        return None
    char = stripped[0]
    length = len(stripped) - len(stripped.lstrip(char))
    if char == "`" and "`" in stripped[length:]:
        return None  # an inline code span, not a fence
    return char, length


def _closes_fence(line: str, fence: tuple[str, int]) -> bool:
    char, length = fence
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= length
        and stripped == char * len(stripped)
    )


def _atx_heading(stripped: str) -> tuple[int, str] | None:
    level = len(stripped) - len(stripped.lstrip("#"))
    rest = stripped[level:]
    if level > 6 or (rest and rest[0] not in " \t"):
        return None
    rest = rest.strip()
    unclosed = rest.rstrip("#")
    if unclosed != rest and (not unclosed or unclosed[-1] in " \t"):
        rest = unclosed.rstrip()
    return level, _inline(rest)


def _setext_level(stripped: str) -> int:
    stripped = stripped.rstrip()
    if stripped == "=" * len(stripped):
        return 1
    if stripped == "-" * len(stripped):
        return 2
    return 0


def _is_thematic_break(stripped: str) -> bool:
    compact = stripped.replace(" ", "").replace("\t", "")
    return len(compact) >= 3 and compact[0] in "-*_" and compact == compact[0] * len(compact)


def _inline(text: str) -> str:
    """Heading text without link targets, emphasis or code markers."""
    text = _LINK.sub(r"\1", text)
    text = text.replace("`", "").replace("*", "").replace("__", "")
    return collapse_spaces(text.strip("_ "))

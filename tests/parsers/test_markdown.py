"""Markdown: heading paths, code blocks, front matter and titles."""

from __future__ import annotations

import pytest

from ragsilo.errors import ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.markdown import MarkdownParser, split_front_matter

GUIDE = b"""\
---
title: Composting at Home
author: Field Notes
tags: [compost, soil]
date: 2024-03-01
season:
  start: spring
---
A short introduction before any heading.

# Guide

Why compost at all.

## Install a bin

Pick a shady, level spot.

### On clay soil ###

Loosen the ground first.

## Feed the bin

Greens and browns.

# Appendix

The end.
"""


def sections(data: bytes, name: str = "guide.md") -> list[tuple[str | None, str]]:
    doc = MarkdownParser().parse(data, name)
    return [(s.heading, s.text) for s in doc.sections]


def test_headings_build_paths() -> None:
    assert sections(GUIDE) == [
        (None, "A short introduction before any heading."),
        ("Guide", "Guide\n\nWhy compost at all."),
        ("Guide > Install a bin", "Install a bin\n\nPick a shady, level spot."),
        ("Guide > Install a bin > On clay soil", "On clay soil\n\nLoosen the ground first."),
        ("Guide > Feed the bin", "Feed the bin\n\nGreens and browns."),
        ("Appendix", "Appendix\n\nThe end."),
    ]


def test_front_matter_becomes_metadata_and_title() -> None:
    doc = MarkdownParser().parse(GUIDE, "guide.md")
    assert doc.title == "Composting at Home"
    assert doc.metadata == {
        "title": "Composting at Home",
        "author": "Field Notes",
        "tags": "compost, soil",
        "date": "2024-03-01",
        "season.start": "spring",
    }
    assert "author:" not in doc.text
    assert doc.mime_type == "text/markdown"


def test_title_is_first_h1_then_file_stem() -> None:
    assert MarkdownParser().parse(b"## Minor\n\ntext\n\n# Major\n\nmore", "a.md").title == "Major"
    assert MarkdownParser().parse(b"just text", "notes/worms.md").title == "worms"


def test_setext_headings() -> None:
    data = b"Soil\n====\n\nAbout soil.\n\nTexture\n-------\n\nSand, silt, clay.\n"
    assert sections(data) == [
        ("Soil", "Soil\n\nAbout soil."),
        ("Soil > Texture", "Texture\n\nSand, silt, clay."),
    ]


def test_code_blocks_stay_text_and_never_make_headings() -> None:
    data = b"# Tools\n\n```bash\n# not a heading\npip install soil\n```\n\n~~~\n## nor this\n~~~\n"
    [(heading, text)] = sections(data)
    assert heading == "Tools"
    assert "# not a heading" in text
    assert "## nor this" in text
    assert "pip install soil" in text


def test_indented_code_is_not_a_heading() -> None:
    data = b"# Real\n\n    # indented code\n    more code\n"
    [(heading, text)] = sections(data)
    assert heading == "Real"
    assert "# indented code" in text


def test_heading_markup_is_cleaned() -> None:
    data = b"# The **soil** [food web](https://example.org) `guide`\n\ntext"
    [(heading, _)] = sections(data)
    assert heading == "The soil food web guide"


def test_thematic_break_and_lists_do_not_become_headings() -> None:
    data = b"# A\n\n- one\n- two\n---\n\nafter the rule\n"
    [(heading, text)] = sections(data)
    assert heading == "A"
    assert "- one\n- two" in text
    assert "after the rule" in text
    assert "---" not in text


def test_heading_without_body_is_kept_only_as_a_leaf() -> None:
    data = b"# Parent\n## Child\n\nbody\n## Empty leaf\n# Last"
    assert sections(data) == [
        ("Parent > Child", "Child\n\nbody"),
        ("Parent > Empty leaf", "Empty leaf"),
        ("Last", "Last"),
    ]


def test_hash_without_space_is_text() -> None:
    assert sections(b"#hashtag compost\n") == [(None, "#hashtag compost")]


def test_rule_at_the_top_that_is_not_yaml_stays_text() -> None:
    meta, body = split_front_matter("---\njust a rule, then prose\n---\nmore")
    assert meta == {}
    assert body.startswith("---")
    meta, body = split_front_matter("---\n- a list\n---\nbody")
    assert meta == {}


def test_markdown_detected_through_parse_bytes() -> None:
    doc = parse_bytes(GUIDE, "guide.markdown")
    assert doc.mime_type == "text/markdown"
    assert doc.sections[1].heading == "Guide"


def test_only_front_matter_is_no_text() -> None:
    with pytest.raises(ParseError, match="no text found"):
        MarkdownParser().parse(b"---\ntitle: x\n---\n\n", "fm.md")

"""Records: CSV/TSV rows and JSON objects, one section each, with their fields as metadata."""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePath
from typing import Any

from ragsilo.errors import ParseError
from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers._common import (
    build_document,
    clip,
    collapse_spaces,
    display_name,
    flat_lines,
    flat_metadata,
    render_value,
)
from ragsilo.parsers.detect import CSV, JSON, TSV
from ragsilo.parsers.text import decode_text

_SNIFF_CHARS = 4096  # csv.Sniffer's regexes slow down sharply on long samples
_DELIMITERS = ",;\t|"
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


class CsvParser:
    """CSV and TSV files: one section per row.

    The delimiter is sniffed (comma, semicolon, tab or pipe; comma when in
    doubt, tab for ``.tsv``). The first row names the fields. A row's text is
    ``field: value; field: value`` and its ``metadata`` holds the non-empty
    fields as strings of at most 512 characters. Blank rows are skipped; the
    section heading is the line the row starts on.
    """

    mime_type = CSV

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Read the rows of the table in ``data``."""
        shown = display_name(name)
        text = decode_text(data)
        delimiter = _sniff_delimiter(text, name)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header: list[str] | None = None
        sections: list[Section] = []
        start = 1
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                values = [collapse_spaces(v) for v in row]
                if not any(values):
                    continue
                if header is None:
                    header = _field_names(values)
                    continue
                pairs = [
                    (header[i] if i < len(header) else f"column_{i + 1}", v)
                    for i, v in enumerate(values)
                    if v
                ]
                sections.append(
                    Section(
                        text="; ".join(f"{k}: {v}" for k, v in pairs),
                        heading=f"line {line}",
                        metadata={k: clip(v) for k, v in pairs},
                    )
                )
        except csv.Error as e:
            raise ParseError(f"{shown} is not valid CSV at line {reader.line_num}: {e}") from e
        if header is not None and not sections:
            raise ParseError(f"no text found in {shown}: the table has a header row but no data")
        kind = TSV if delimiter == "\t" else self.mime_type
        return build_document(
            name=name,
            mime_type=kind,
            title=None,
            sections=sections,
            metadata={"columns": header or [], "rows": len(sections), "delimiter": delimiter},
        )


def _sniff_delimiter(text: str, name: str) -> str:
    if PurePath(name).suffix.lower() in (".tsv", ".tab"):
        return "\t"
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _field_names(values: list[str]) -> list[str]:
    """Header names, made unique and never empty."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        base = value or f"column_{i + 1}"
        count = seen.get(base, 0) + 1
        seen[base] = count
        names.append(base if count == 1 else f"{base}_{count}")
    return names


class JsonParser:
    """JSON and JSON Lines files.

    A list of objects gives one section per object; a top-level object whose
    only list of objects holds the records ("items", "data", ...) gives those
    records (its other fields, if any, form one leading section); any other object
    gives one section. A section's text is one ``key.path: value`` line per
    field. A record's ``metadata`` holds its scalar fields: nested objects
    flattened to dotted keys, lists of scalars joined with ", ", lists of
    objects left out. ``.jsonl``/``.ndjson`` files, and files that only parse
    line by line, are read as JSON Lines. Invalid JSON raises
    :class:`~ragsilo.errors.ParseError` naming the line and column.
    """

    mime_type = JSON

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Read the records of the JSON document in ``data``."""
        shown = display_name(name)
        text = decode_text(data)
        if PurePath(name).suffix.lower() in _JSON_LINES_SUFFIXES:
            return self._lines(_parse_lines(text, shown), name)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            lines = _try_lines(text)
            if lines is not None:
                return self._lines(lines, name)
            raise ParseError(
                f"{shown} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            ) from e
        except RecursionError as e:
            raise ParseError(f"{shown} is nested too deeply to read as JSON") from e

        metadata: dict[str, Any] = {"format": "json"}
        title = None
        if isinstance(value, list):
            sections = [_record(v, f"record {i}") for i, v in enumerate(value, 1)]
        elif isinstance(value, dict):
            title = _title_of(value)
            key = _records_key(value)
            if key is None:
                sections = [_record(value, None)]
            else:
                sections = [_record(v, f"{key} {i}") for i, v in enumerate(value[key], 1)]
                metadata["records_key"] = key
        else:
            sections = [Section(text=collapse_spaces(render_value(value)))]
        metadata["records"] = sum(1 for s in sections if s.text)
        if isinstance(value, dict) and "records_key" in metadata:
            rest = {k: v for k, v in value.items() if k != metadata["records_key"]}
            if flat_lines(rest):
                sections.insert(0, _record(rest, None))
        return build_document(
            name=name, mime_type=self.mime_type, title=title, sections=sections, metadata=metadata
        )

    def _lines(self, records: list[tuple[int, Any]], name: str) -> ParsedDocument:
        sections = [_record(v, f"line {n}") for n, v in records]
        return build_document(
            name=name,
            mime_type=self.mime_type,
            title=None,
            sections=sections,
            metadata={"format": "jsonl", "records": sum(1 for s in sections if s.text)},
        )


def _parse_lines(text: str, shown: str) -> list[tuple[int, Any]]:
    records: list[tuple[int, Any]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise ParseError(
                f"{shown} is not valid JSON Lines: {e.msg} at line {number}, column {e.colno}"
            ) from e
        except RecursionError as e:
            raise ParseError(f"{shown} line {number} is nested too deeply to read as JSON") from e
    return records


def _try_lines(text: str) -> list[tuple[int, Any]] | None:
    """The records of ``text`` read as JSON Lines, or None when it is not that either."""
    records: list[tuple[int, Any]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except (json.JSONDecodeError, RecursionError):
            return None
    return records if len(records) >= 2 else None


def _records_key(obj: dict[str, Any]) -> str | None:
    """The key of the object's only non-empty list of objects, if it has exactly one."""
    keys = [
        k
        for k, v in obj.items()
        if isinstance(v, list) and v and all(isinstance(item, dict) for item in v)
    ]
    return keys[0] if len(keys) == 1 else None


def _record(value: Any, heading: str | None) -> Section:
    lines = flat_lines(value)
    metadata = flat_metadata(value) if isinstance(value, dict) else {}
    return Section(text="\n".join(lines), heading=heading, metadata=metadata)


def _title_of(obj: dict[str, Any]) -> str | None:
    for key in ("title", "name"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return collapse_spaces(value)[:512]
    return None

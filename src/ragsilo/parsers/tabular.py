"""Records: CSV/TSV rows and JSON objects, one section each, with their fields as metadata."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
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
from ragsilo.parsers.budget import ParseBudget, over_budget
from ragsilo.parsers.detect import CSV, JSON, TSV
from ragsilo.parsers.text import decode_text

_SNIFF_CHARS = 4096  # csv.Sniffer's regexes slow down sharply on long samples
_DELIMITERS = ",;\t|"
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
_MAX_NAME_CHARS = 128  # a field name, as a metadata key


class CsvParser:
    """CSV and TSV files: one section per row.

    The delimiter is sniffed (comma, semicolon, tab or pipe; comma when in
    doubt, tab for ``.tsv``). The first row names the fields. A row's text is
    ``field: value; field: value`` and its ``metadata`` holds the non-empty
    fields as strings of at most 512 characters, within the budget's
    ``max_metadata_fields`` and ``max_metadata_bytes``. Blank rows are
    skipped; the section heading is the line the row starts on.

    The document's ``columns`` lists the header (the first names only, with
    ``column_count``, when the list would not fit the metadata budget). A
    line longer than ``max_line_chars`` or a row of more than ``max_columns``
    columns raises :class:`~ragsilo.errors.FileOverBudgetError`.
    """

    mime_type = CSV

    def __init__(self, budget: ParseBudget | None = None) -> None:
        self.budget = budget or ParseBudget()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Read the rows of the table in ``data``."""
        shown = display_name(name)
        budget = self.budget
        text = decode_text(data)
        budget.check_lines(text, shown)
        counter = budget.text_counter(shown)
        delimiter = _sniff_delimiter(text, name)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header: list[str] | None = None
        sections: list[Section] = []
        start = 1
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if len(row) > budget.max_columns:
                    raise over_budget(
                        f"{shown} line {line} has {len(row):,} columns, over the limit of "
                        f"{budget.max_columns:,} columns for one row",
                        "max_columns",
                    )
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
                row_text = "; ".join(f"{k}: {v}" for k, v in pairs)
                counter.add(row_text)
                sections.append(
                    Section(
                        text=row_text,
                        heading=f"line {line}",
                        metadata=budget.cap_metadata(
                            {clip(k, _MAX_NAME_CHARS): clip(v) for k, v in pairs}
                        ),
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
            metadata=_table_metadata(header or [], len(sections), delimiter, budget),
        )


def _table_metadata(
    header: list[str], rows: int, delimiter: str, budget: ParseBudget
) -> dict[str, Any]:
    """The table's metadata (every chunk carries it): a long header list is cut to fit."""
    columns = [clip(c, _MAX_NAME_CHARS) for c in header]
    meta: dict[str, Any] = {"columns": columns, "rows": rows, "delimiter": delimiter}
    if len(columns) <= budget.max_metadata_fields and (
        len(json.dumps(columns)) <= budget.max_metadata_bytes // 2
    ):
        return meta
    kept: list[str] = []
    size = 2
    for c in columns[: budget.max_metadata_fields]:
        size += len(json.dumps(c)) + 2
        if size > budget.max_metadata_bytes // 2:
            break
        kept.append(c)
    meta["columns"] = kept
    meta["column_count"] = len(columns)
    return meta


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
    objects left out, cut to the budget's ``max_metadata_fields`` and
    ``max_metadata_bytes`` (``metadata_truncated`` counts the fields left out;
    the text keeps them all). ``.jsonl``/``.ndjson`` files, and files that only parse
    line by line, are read as JSON Lines. Invalid JSON raises
    :class:`~ragsilo.errors.ParseError` naming the line and column.
    """

    mime_type = JSON

    def __init__(self, budget: ParseBudget | None = None) -> None:
        self.budget = budget or ParseBudget()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Read the records of the JSON document in ``data``."""
        shown = display_name(name)
        text = decode_text(data)
        if PurePath(name).suffix.lower() in _JSON_LINES_SUFFIXES:
            self.budget.check_lines(text, shown)
            return self._lines(_parse_lines(text, shown), name)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            lines = _try_lines(text)
            if lines is not None:
                self.budget.check_lines(text, shown)
                return self._lines(lines, name)
            raise ParseError(
                f"{shown} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            ) from e
        except RecursionError as e:
            raise ParseError(f"{shown} is nested too deeply to read as JSON") from e

        metadata: dict[str, Any] = {"format": "json"}
        title = None
        record = self._record_builder(shown)
        if isinstance(value, list):
            sections = [record(v, f"record {i}") for i, v in enumerate(value, 1)]
        elif isinstance(value, dict):
            title = _title_of(value)
            key = _records_key(value)
            if key is None:
                sections = [record(value, None)]
            else:
                sections = [record(v, f"{key} {i}") for i, v in enumerate(value[key], 1)]
                metadata["records_key"] = key
        else:
            sections = [Section(text=collapse_spaces(render_value(value)))]
        metadata["records"] = sum(1 for s in sections if s.text)
        if isinstance(value, dict) and "records_key" in metadata:
            rest = {k: v for k, v in value.items() if k != metadata["records_key"]}
            if flat_lines(rest):
                sections.insert(0, record(rest, None))
        return build_document(
            name=name, mime_type=self.mime_type, title=title, sections=sections, metadata=metadata
        )

    def _lines(self, records: list[tuple[int, Any]], name: str) -> ParsedDocument:
        record = self._record_builder(display_name(name))
        sections = [record(v, f"line {n}") for n, v in records]
        return build_document(
            name=name,
            mime_type=self.mime_type,
            title=None,
            sections=sections,
            metadata={"format": "jsonl", "records": sum(1 for s in sections if s.text)},
        )

    def _record_builder(self, shown: str) -> Callable[[Any, str | None], Section]:
        """Makes one record's section, counting its text against the budget."""
        budget = self.budget
        counter = budget.text_counter(shown)

        def record(value: Any, heading: str | None) -> Section:
            text = "\n".join(flat_lines(value))
            counter.add(text)
            metadata = flat_metadata(value) if isinstance(value, dict) else {}
            return Section(text=text, heading=heading, metadata=budget.cap_metadata(metadata))

        return record


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


def _title_of(obj: dict[str, Any]) -> str | None:
    for key in ("title", "name"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return collapse_spaces(value)[:512]
    return None

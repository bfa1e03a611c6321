"""CSV and JSON: one section per record, fields as metadata, clear errors."""

from __future__ import annotations

import json

import pytest

from ragsilo.errors import ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.tabular import CsvParser, JsonParser

# -- CSV --------------------------------------------------------------------------


def test_csv_rows_become_sections_with_field_metadata() -> None:
    data = (
        b"material,type,cn_ratio,notes\n"
        b"Grass clippings,green,20,\n"
        b"Dry leaves,brown,60,shred first\n"
    )
    doc = CsvParser().parse(data, "materials.csv")
    assert [s.text for s in doc.sections] == [
        "material: Grass clippings; type: green; cn_ratio: 20",
        "material: Dry leaves; type: brown; cn_ratio: 60; notes: shred first",
    ]
    assert doc.sections[0].metadata == {
        "material": "Grass clippings",
        "type": "green",
        "cn_ratio": "20",
    }
    assert doc.sections[1].heading == "line 3"
    assert doc.metadata == {
        "columns": ["material", "type", "cn_ratio", "notes"],
        "rows": 2,
        "delimiter": ",",
    }
    assert doc.title == "materials"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    rows = ["name,with comma", "value"], ["Straw", "80"], ["Sawdust", "400"]
    data = "\n".join(delimiter.join(f'"{c}"' if "," in c else c for c in r) for r in rows)
    doc = CsvParser().parse(data.encode(), "ratios.csv")
    assert doc.metadata["delimiter"] == delimiter
    assert doc.sections[0].metadata == {"name,with comma": "Straw", "value": "80"}


def test_tsv_extension_means_tabs() -> None:
    doc = parse_bytes(b"a\tb\n1,5\t2;3\n", "t.tsv")
    assert doc.sections[0].metadata == {"a": "1,5", "b": "2;3"}
    assert doc.mime_type == "text/tab-separated-values"


def test_single_column_falls_back_to_comma() -> None:
    doc = CsvParser().parse(b"tip\nKeep it moist\nTurn it often\n", "tips.csv")
    assert [s.text for s in doc.sections] == ["tip: Keep it moist", "tip: Turn it often"]


def test_blank_rows_skipped_and_quoted_newlines_kept_in_line_numbers() -> None:
    data = b'name,notes\n\nleaves,"multi\nline"\n,\ngrass,fresh\n'
    doc = CsvParser().parse(data, "x.csv")
    assert [(s.heading, s.metadata) for s in doc.sections] == [
        ("line 3", {"name": "leaves", "notes": "multi line"}),
        ("line 6", {"name": "grass", "notes": "fresh"}),
    ]


def test_header_names_are_unique_and_never_empty() -> None:
    doc = CsvParser().parse(b"a,,a\n1,2,3,4\n", "h.csv")
    assert doc.sections[0].metadata == {"a": "1", "column_2": "2", "a_2": "3", "column_4": "4"}


def test_metadata_values_are_capped() -> None:
    doc = CsvParser().parse(b"k,v\nx," + b"y" * 2000 + b"\n", "long.csv")
    value = doc.sections[0].metadata["v"]
    assert len(value) == 512
    assert value.endswith("\u2026")
    assert "y" * 2000 in doc.sections[0].text  # the text keeps everything


def test_latin1_csv_is_decoded() -> None:
    doc = parse_bytes("ville,plat\nLyon,crème brûlée\n".encode("latin-1"), "fr.csv")
    assert doc.sections[0].metadata["plat"] == "crème brûlée"


def test_header_without_rows_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="header row but no data"):
        CsvParser().parse(b"a,b,c\n", "h.csv")


def test_oversized_field_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not valid CSV at line"):
        CsvParser().parse(b"a\n" + b"x" * 200_000 + b"\n", "big.csv")


# -- JSON -------------------------------------------------------------------------

RECORDS = [
    {
        "name": "Red wiggler",
        "latin": "Eisenia fetida",
        "habitat": {"layer": "litter", "depth_cm": 5},
        "foods": ["fruit", "coffee grounds"],
        "sightings": [{"year": 2023}],
        "rating": 4.5,
        "native": False,
        "notes": None,
    },
    {"name": "Nightcrawler", "latin": "Lumbricus terrestris"},
]


def test_list_of_objects_gives_one_section_each() -> None:
    doc = JsonParser().parse(json.dumps(RECORDS).encode(), "worms.json")
    assert len(doc.sections) == 2
    first = doc.sections[0]
    assert first.heading == "record 1"
    assert first.text.split("\n") == [
        "name: Red wiggler",
        "latin: Eisenia fetida",
        "habitat.layer: litter",
        "habitat.depth_cm: 5",
        "foods: fruit, coffee grounds",
        "sightings.0.year: 2023",
        "rating: 4.5",
        "native: false",
    ]
    assert first.metadata == {
        "name": "Red wiggler",
        "latin": "Eisenia fetida",
        "habitat.layer": "litter",
        "habitat.depth_cm": 5,
        "foods": "fruit, coffee grounds",
        "rating": 4.5,
        "native": False,
    }
    assert doc.metadata == {"format": "json", "records": 2}


def test_object_holding_one_list_of_records() -> None:
    data = {"title": "Worm guide", "source": "field notes", "items": RECORDS}
    doc = JsonParser().parse(json.dumps(data).encode(), "guide.json")
    assert doc.title == "Worm guide"
    assert doc.sections[0].text == "title: Worm guide\nsource: field notes"
    assert [s.heading for s in doc.sections[1:]] == ["items 1", "items 2"]
    assert doc.metadata["records"] == 2
    assert doc.metadata["records_key"] == "items"


def test_other_objects_are_flattened_into_one_section() -> None:
    data = {"pile": {"temp": {"max_c": 65}, "moisture": "damp"}, "turns": [1, 2]}
    doc = JsonParser().parse(json.dumps(data).encode(), "pile.json")
    [section] = doc.sections
    assert section.text == "pile.temp.max_c: 65\npile.moisture: damp\nturns: 1, 2"


def test_non_json_values_are_made_safe_for_metadata() -> None:
    data = b'[{"big": 123456789012345678901234567890, "nan": NaN, "ok": 7}]'
    meta = JsonParser().parse(data, "n.json").sections[0].metadata
    assert meta == {"big": "123456789012345678901234567890", "nan": "nan", "ok": 7}


def test_json_lines_by_extension() -> None:
    data = b'{"a": 1}\n\n{"b": {"c": "x"}}\n'
    doc = JsonParser().parse(data, "events.jsonl")
    assert [(s.heading, s.text, s.metadata) for s in doc.sections] == [
        ("line 1", "a: 1", {"a": 1}),
        ("line 3", "b.c: x", {"b.c": "x"}),
    ]
    assert doc.metadata == {"format": "jsonl", "records": 2}


def test_json_lines_recognised_when_the_whole_file_does_not_parse() -> None:
    doc = parse_bytes(b'{"a": 1}\n{"a": 2}\n', "events.json")
    assert doc.metadata["format"] == "jsonl"
    assert [s.text for s in doc.sections] == ["a: 1", "a: 2"]


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b'{\n  "a": 1,\n  "b": \n}', "bad.json")
    message = str(info.value)
    assert "bad.json is not valid JSON" in message
    assert "line 4, column 1" in message


def test_invalid_json_lines_names_the_line() -> None:
    with pytest.raises(ParseError, match="line 2, column"):
        JsonParser().parse(b'{"a": 1}\n{"a": \n', "bad.jsonl")


def test_deeply_nested_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        JsonParser().parse(b"[" * 100_000 + b"]" * 100_000, "deep.json")


def test_empty_json_has_no_text() -> None:
    for data in (b"[]", b"{}", b'[{}, {"a": null}]'):
        with pytest.raises(ParseError, match="no text found"):
            JsonParser().parse(data, "empty.json")


def test_top_level_scalar() -> None:
    assert JsonParser().parse(b'"just a string"', "s.json").text == "just a string"

from __future__ import annotations

import re

import pytest

from ragsilo.errors import FilterError
from ragsilo.store.filters import build_filter, canonical_filter, parse_where, quote, with_tenant


def test_quote_escapes_quotes_and_backslashes() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_injection_stays_inside_the_literal() -> None:
    expr = build_filter({"source": 'x" or 1==1 or "'})
    assert expr == 'source == "x\\" or 1==1 or \\""'


def test_multiple_values_become_in_and_fields_are_anded() -> None:
    expr = build_filter({"source": ["a", "b"], "page": "3"}, "chunk_index > 2")
    assert expr == 'source in ["a", "b"] and page == 3 and (chunk_index > 2)'


def test_int_fields_reject_non_numbers() -> None:
    with pytest.raises(FilterError, match="whole number"):
        build_filter({"page": "2 or 1==1"})


def test_unknown_field_lists_the_filterable_ones() -> None:
    with pytest.raises(FilterError, match="filterable fields are"):
        build_filter({"vector": "1"})


def test_metadata_keys_are_checked() -> None:
    with pytest.raises(FilterError, match="metadata key"):
        build_filter({'metadata.a"]) or (1==1': "x"})
    assert build_filter({"metadata.year": "2020"}) == (
        '(metadata["year"] == "2020" or metadata["year"] == 2020)'
    )


def test_control_characters_refused() -> None:
    with pytest.raises(FilterError, match="control characters"):
        build_filter({"title": "a\nb"})


def test_parse_where() -> None:
    assert parse_where(["a=1", "a=2", "b=x=y"]) == {"a": ["1", "2"], "b": ["x=y"]}
    with pytest.raises(FilterError, match="field=value"):
        parse_where(["novalue"])


def test_empty_means_no_filter() -> None:
    assert build_filter(None, None) == ""
    assert build_filter({}, "  ") == ""


def test_cluster_id_is_filterable_as_a_whole_number() -> None:
    assert build_filter({"cluster_id": ["3", 4]}) == "cluster_id in [3, 4]"
    with pytest.raises(FilterError):
        build_filter({"cluster_id": "three"})


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("page==1)) or ((page==1", "closes a parenthesis that was never opened"),
        ("1==1", "compares two constants"),
        ("(page > 1", "expected ')'"),
        ('source == "x', "never closed"),
        ("page > 1 -- x", "comments are not allowed"),
        ("page = 1", "use =="),
        ("page", "not a condition"),
        ("page > 1 page < 2", "one expression"),
        ("system(1)", "not supported"),
        ('title == "a\\nb"', "backslash may only escape"),
        ("page == 010", "no leading zeros"),
        ("(" * 70 + "page > 1" + ")" * 70, "nests deeper"),
        ('tenant == "ac" + "me"', "arithmetic takes numbers and fields only"),
    ],
)
def test_raw_expressions_that_do_not_parse_are_refused(expr: str, words: str) -> None:
    with pytest.raises(FilterError, match=re.escape(words)):
        build_filter(None, expr)
    with pytest.raises(FilterError, match=re.escape(words)):
        with_tenant(expr, "acme")


def test_raw_expressions_are_written_out_from_the_tree() -> None:
    assert build_filter(None, "a == 1 or b == 2 and not c == 3") == (
        "((a == 1) or ((b == 2) and (not (c == 3))))"
    )
    assert canonical_filter("x == 'it\\'s' && y in [1, -2.5, \"z\"]") == (
        '(x == "it\'s") and (y in [1, -2.5, "z"])'
    )
    assert canonical_filter('metadata["a"][0] like "p%"') == 'metadata["a"][0] like "p%"'
    assert canonical_filter("1 < page <= 5") == "(1 < page) and (page <= 5)"
    # whatever the input, the tenant clause is and-ed with the one whole expression
    assert with_tenant("page > 1 or page < 0", "acme") == (
        'tenant == "acme" and ((page > 1) or (page < 0))'
    )

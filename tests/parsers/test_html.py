"""HTML: main text only, headings as paths, lists and tables as lines."""

from __future__ import annotations

import pytest

from ragsilo.errors import ParseError
from ragsilo.parsers import parse_bytes
from ragsilo.parsers.html import HtmlParser

PAGE = b"""<!doctype html>
<html lang="en">
<head>
  <title>The Soil Food Web | Garden Notes</title>
  <meta name="description" content="Who lives in healthy soil.">
  <style>body { font: 12px serif }</style>
  <script>var tracking = "do not index me";</script>
</head>
<body>
  <a class="skip-link" href="#main">Skip to content</a>
  <header class="site-header"><a href="/">Garden Notes</a>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/blog">Blog</a></li></ul></nav>
  </header>
  <div id="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>
  <ol class="breadcrumbs"><li>Home</li><li>Soil</li></ol>
  <div class="layout">
    <aside><h3>Popular posts</h3><ul><li>Ten tomato tips</li></ul></aside>
    <main id="main">
      <h1>The Soil Food Web</h1>
      <p>Healthy soil is   alive.
         A teaspoon holds <em>billions</em> of bacteria.</p>
      <h2>Bacteria and fungi</h2>
      <p>Bacteria break down simple sugars.</p>
      <ul><li>Bacteria: fast decomposers</li><li>Fungi: break down <b>lignin</b></li></ul>
      <h3>Mycorrhizae</h3>
      <p>Fungal threads trade nutrients for plant sugars.</p>
      <table>
        <caption>Organisms per gram</caption>
        <thead><tr><th>Organism</th><th>Count</th></tr></thead>
        <tbody><tr><td>Bacteria</td><td>100 million to 1 billion</td></tr>
        <tr><td>Protozoa</td><td></td></tr></tbody>
      </table>
      <h2>Earthworms</h2>
      <p>Worms mix organic matter into the soil.<br>Their casts are rich.</p>
      <div role="navigation"><a href="/prev">Previous</a> <a href="/next">Next</a></div>
      <form><label>Subscribe</label><input name="email"></form>
    </main>
  </div>
  <footer><p>Copyright 2024 Garden Notes</p></footer>
</body>
</html>"""


def test_boilerplate_is_dropped() -> None:
    text = HtmlParser().parse(PAGE, "web.html").text
    for junk in (
        "do not index me",
        "font:",
        "Skip to content",
        "Blog",
        "cookies",
        "Popular posts",
        "Home",
        "Previous",
        "Subscribe",
        "Copyright",
    ):
        assert junk not in text, junk


def test_sections_follow_headings() -> None:
    doc = HtmlParser().parse(PAGE, "web.html")
    assert [s.heading for s in doc.sections] == [
        "The Soil Food Web",
        "The Soil Food Web > Bacteria and fungi",
        "The Soil Food Web > Bacteria and fungi > Mycorrhizae",
        "The Soil Food Web > Earthworms",
    ]
    assert doc.sections[0].text == (
        "The Soil Food Web\n\nHealthy soil is alive. A teaspoon holds billions of bacteria."
    )


def test_list_items_and_table_rows_are_lines() -> None:
    doc = HtmlParser().parse(PAGE, "web.html")
    assert "- Bacteria: fast decomposers\n- Fungi: break down lignin" in doc.sections[1].text
    mycorrhizae = doc.sections[2].text
    assert "Organisms per gram" in mycorrhizae
    assert "Organism: Bacteria; Count: 100 million to 1 billion\nOrganism: Protozoa" in mycorrhizae
    assert "Worms mix organic matter into the soil.\nTheir casts are rich." in doc.sections[3].text


def test_title_and_metadata() -> None:
    doc = HtmlParser().parse(PAGE, "web.html")
    assert doc.title == "The Soil Food Web | Garden Notes"
    assert doc.metadata == {"language": "en", "description": "Who lives in healthy soil."}
    assert doc.mime_type == "text/html"


def test_title_falls_back_to_h1_then_stem() -> None:
    assert HtmlParser().parse(b"<h1>Worms</h1><p>x</p>", "a.html").title == "Worms"
    assert HtmlParser().parse(b"<p>only a paragraph</p>", "dir/page.htm").title == "page"


def test_articles_are_read_when_there_is_no_main() -> None:
    data = b"""<body><nav>menu</nav><div class="promo">Buy seeds now</div>
    <article><header><h1>First post</h1><p>by Ann</p></header><p>About leaves.</p></article>
    <article><h1>Second post</h1><p>About worms.</p></article></body>"""
    doc = HtmlParser().parse(data, "blog.html")
    assert "Buy seeds" not in doc.text
    assert [s.heading for s in doc.sections] == ["First post", "Second post"]
    assert "by Ann" in doc.sections[0].text


def test_page_wrapped_in_a_form_keeps_its_text() -> None:
    body = "<p>" + "Mulch keeps soil moist. " * 20 + "</p>"
    data = f"<html><body><form id='aspnetForm'>{body}</form></body></html>".encode()
    assert "Mulch keeps soil moist." in HtmlParser().parse(data, "legacy.aspx.html").text


def test_comments_and_text_after_them_are_handled() -> None:
    data = b"<p>before<!-- hidden note -->after</p>"
    assert HtmlParser().parse(data, "c.html").text == "beforeafter"


def test_declared_charset_is_honoured() -> None:
    data = b'<html><head><meta charset="windows-1252"></head><body><p>caf\xe9 \x93ok\x94</p>'
    assert HtmlParser().parse(data, "w.html").text == "caf\xe9 \u201cok\u201d"


def test_xhtml_with_xml_declaration() -> None:
    data = (
        b'<?xml version="1.0" encoding="iso-8859-1"?>\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>cr\xe8me</p></body></html>'
    )
    assert parse_bytes(data, "page.xhtml").text == "cr\xe8me"


def test_layout_tables_are_read_as_blocks() -> None:
    data = b"""<table><tr><td><h1>Compost</h1><p>Paragraph one.</p></td>
    <td><table><tr><td>inner</td></tr></table></td></tr></table>"""
    doc = HtmlParser().parse(data, "old.html")
    assert doc.sections[0].heading == "Compost"
    assert "Paragraph one." in doc.text and "inner" in doc.text


@pytest.mark.parametrize(
    "data",
    [
        b"<nav>Home | About</nav><footer>(c)</footer>",
        b"<!-- only a comment -->",
        b"<!doctype html>",
        b"<html><head><title>Title only</title></head><body></body></html>",
    ],
)
def test_page_without_content_has_no_text(data: bytes) -> None:
    with pytest.raises(ParseError, match="no text found"):
        HtmlParser().parse(data, "empty.html")

"""HTML: the main text of a page, cut into sections by its headings.

The page is decoded with the encoding it declares (an XML declaration or a
``<meta charset>`` near its start), else by
:func:`~ragsilo.parsers.text.decode_text`, and parsed with lxml's HTML
parser, which is forgiving of broken markup and about twenty times faster than
building a Beautiful Soup tree on large pages.
"""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING, Any

from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers._common import SectionBuilder, build_document, collapse_spaces, display_name
from ragsilo.parsers.budget import ParseBudget
from ragsilo.parsers.detect import HTML
from ragsilo.parsers.text import decode_text

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Elements that never hold the page's prose: dropped wherever they are.
_NEVER_TEXT = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "canvas",
        "head",
        "button",
        "select",
        "textarea",
        "input",
        "dialog",
    }
)
# Page chrome by its tag: dropped unless it wraps the content.
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside"})
# ARIA roles of page chrome.
_CHROME_ROLES = frozenset(
    {
        "navigation",
        "banner",
        "contentinfo",
        "complementary",
        "search",
        "menu",
        "menubar",
        "toolbar",
        "dialog",
        "alertdialog",
    }
)
# class / id values that mark chrome, compared whole and case-insensitively ...
_CHROME_NAMES = frozenset(
    {
        "nav",
        "navigation",
        "nav-menu",
        "menu",
        "main-menu",
        "site-menu",
        "top-menu",
        "menubar",
        "footer",
        "site-footer",
        "page-footer",
        "global-footer",
        "site-header",
        "masthead",
        "sidebar",
        "skip-link",
        "skip-links",
        "skip-to-content",
        "cookies",
        "consent",
        "newsletter-signup",
        "share-buttons",
        "social-share",
        "pagination",
    }
)
# ... and patterns that mark chrome anywhere inside a class or id.
_CHROME_PATTERN = re.compile(
    r"breadcrumb|navbar|gdpr|onetrust|cookiebot"
    r"|cookie[-_]?(?:banner|consent|notice|bar|law|policy|popup|modal|message|wall)"
    r"|consent[-_]?(?:banner|manager|popup|modal)"
)
_KEEP_TAGS = frozenset({"html", "body", "main", "article"})
# A class-marked element holding more than this share of the page's text is
# the page itself (a whole-page <form>, a restaurant's "menu" page), not chrome.
_WRAPPER_SHARE = 0.5

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LAYOUT_MARKERS = frozenset({"table", *_HEADINGS})
# Blocks that end a paragraph (a blank line after them) ...
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "blockquote",
        "ul",
        "ol",
        "dl",
        "figure",
        "address",
        "details",
        "fieldset",
        "hr",
        "center",
        "table",
    }
)
# ... and blocks that only end a line.
_LINE_TAGS = frozenset(
    {"li", "dt", "dd", "figcaption", "summary", "caption", "legend", "tr", "br", "td", "th"}
)
_WS = re.compile(r"\s+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Declared encodings, searched for in the bytes before decoding: an XML
# declaration in the first kilobyte; a <meta charset=...> or <meta
# http-equiv="Content-Type" content="...; charset=..."> near the start.
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_META_CHARSET = re.compile(
    rb"<\s*meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE
)
_XML_SEARCH_BYTES = 1024
_META_SEARCH_BYTES = 2048


class HtmlParser:
    """HTML pages, reduced to their main text.

    Scripts, styles, navigation, headers, footers, sidebars, forms, cookie
    banners and breadcrumbs are dropped (by tag, ARIA role, class or id).
    When the page has a ``<main>`` (or ``role="main"``) or ``<article>``
    elements, only those are read. Headings ``h1``–``h6`` start sections with
    heading paths; list items and table rows keep a line each, and table rows
    under a header row read ``header: value; header: value``. The title comes
    from ``<title>``, else the first ``<h1>``, else the file name.
    """

    mime_type = HTML

    def __init__(self, budget: ParseBudget | None = None) -> None:
        self.budget = budget or ParseBudget()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Extract the main text of the page in ``data``."""
        import lxml.etree
        import lxml.html

        markup = _XML_DECLARATION.sub("", decode_html(data), count=1)
        try:
            root = lxml.html.document_fromstring(markup)
        except (lxml.etree.ParserError, ValueError):
            # "Document is empty": nothing but whitespace, comments or a doctype.
            return build_document(name=name, mime_type=self.mime_type, title=None, sections=())
        title = _title(root)
        metadata = _page_metadata(root)
        _drop_chrome(root)
        walker = _Walker()
        for content in _content_roots(root):
            walker.walk(content)
        sections = walker.finish()
        self.budget.check_text(sum(len(s.text) for s in sections), display_name(name))
        return build_document(
            name=name,
            mime_type=self.mime_type,
            title=title,
            sections=sections,
            metadata=metadata,
        )


def decode_html(data: bytes) -> str:
    """The page's text: a byte-order mark wins, then a declared charset, then detection."""
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        codec = _codec(declared_encoding(data))
        # A page cannot really be UTF-16 if its declaration was readable as
        # ASCII; browsers read such pages as UTF-8 too.
        if codec is not None and not codec.startswith(("utf-16", "utf-32")):
            try:
                return data.decode(codec).replace("\r\n", "\n").replace("\r", "\n")
            except UnicodeDecodeError:
                pass  # the declaration is wrong; detect instead
    return decode_text(data)


def declared_encoding(data: bytes) -> str | None:
    """The encoding the page declares near its start, as written (lower case), or None.

    An XML declaration in the first kilobyte wins; else the first ``<meta>``
    naming a charset within the first 2 KB, or 5% of the page when that is
    more (long ``<head>`` sections push it down).
    """
    match = _XML_ENCODING.search(data, 0, _XML_SEARCH_BYTES)
    if match is None:
        end = max(_META_SEARCH_BYTES, len(data) // 20)
        match = _META_CHARSET.search(data, 0, end)
    if match is None:
        return None
    return match.group(1).decode("ascii").lower()


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None


def _text_of(element: HtmlElement) -> str:
    return collapse_spaces(element.text_content())


def _title(root: HtmlElement) -> str | None:
    for tag in ("title", "h1"):
        for element in root.iter(tag):
            text = _text_of(element)
            if text:
                return text[:512]
            break
    return None


def _page_metadata(root: HtmlElement) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    lang = root.get("lang")
    if lang and lang.strip():
        meta["language"] = lang.strip()[:64]
    for element in root.iter("meta"):
        key = (element.get("name") or "").strip().lower()
        content = element.get("content")
        if key in ("description", "author", "keywords") and content and key not in meta:
            text = collapse_spaces(content)
            if text:
                meta[key] = text[:512]
    return meta


def _drop_chrome(root: HtmlElement) -> None:
    doomed: list[tuple[HtmlElement, bool]] = []  # (element, marked by role, class, id or form)
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str) or tag in _KEEP_TAGS:
            continue
        if tag in _NEVER_TEXT or tag in _CHROME_TAGS:
            doomed.append((element, False))
        elif tag == "form" or _marked_as_chrome(element):
            doomed.append((element, True))
    if not doomed:
        return
    page_chars = len(root.text_content())
    for element, guarded in doomed:
        if _detached(element, root):
            continue  # already gone with an ancestor
        if element.tag not in _NEVER_TEXT:
            if element.tag == "header" and _is_article_header(element):
                continue
            if any(True for _ in element.iter("main", "article")):
                continue  # a wrapper around the content, not chrome
            if guarded and len(element.text_content()) > _WRAPPER_SHARE * page_chars:
                continue
        element.drop_tree()  # keeps the text that follows the element


def _detached(element: HtmlElement, root: HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is root:
            return False
    return element is not root


def _marked_as_chrome(element: HtmlElement) -> bool:
    role = element.get("role")
    if role and role.strip().lower() in _CHROME_ROLES:
        return True
    names = (element.get("class") or "").split()
    ident = element.get("id")
    if ident:
        names.append(ident)
    for raw in names:
        value = raw.lower()
        if value in _CHROME_NAMES or _CHROME_PATTERN.search(value):
            return True
    return False


def _is_article_header(element: HtmlElement) -> bool:
    """A header inside the content that carries the article's heading, not page chrome."""
    inside = any(a.tag in ("main", "article") for a in element.iterancestors())
    return inside and any(True for _ in element.iter(*_HEADINGS))


def _content_roots(root: HtmlElement) -> list[HtmlElement]:
    for element in root.iter("main"):
        return [element]
    for element in root.iter():
        if element.get("role") == "main":
            return [element]
    articles = [
        a for a in root.iter("article") if not any(p.tag == "article" for p in a.iterancestors())
    ]
    if articles:
        return articles
    body = root.find("body")
    return [body] if body is not None else [root]


class _Walker:
    """Turns elements into lines and sections, in document order, without recursion."""

    def __init__(self) -> None:
        self.builder = SectionBuilder()
        self.inline: list[str] = []
        self.prefix = ""

    def walk(self, content: HtmlElement) -> None:
        # (element, leaving) pairs: an element is visited on the way in and
        # out; its tail (the text after it) belongs to the way out, but not
        # for the content root, whose tail lies outside the content.
        todo: list[tuple[Any, bool]] = [(content, False)]
        while todo:
            element, leaving = todo.pop()
            tag = element.tag
            if leaving:
                self._leave(tag)
                if element is not content and element.tail:
                    self.inline.append(element.tail)
                continue
            if not isinstance(tag, str) or tag in _NEVER_TEXT:
                # Comments and processing instructions: only their tail is text.
                if element is not content and element.tail:
                    self.inline.append(element.tail)
                continue
            if tag in _HEADINGS:
                self._end_line()
                self.builder.heading(_HEADINGS[tag], _text_of(element))
            elif tag == "table" and not _is_layout_table(element):
                self._end_line()
                for line in _table_lines(element):
                    self.builder.add(line)
                self.builder.add("")
            elif tag == "pre":
                self._end_line()
                self.builder.add(element.text_content().strip("\n"))
                self.builder.add("")
            else:
                if tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS:
                    self._end_line()
                    if tag == "li":
                        self.prefix = "- "
                if element.text:
                    self.inline.append(element.text)
                todo.append((element, True))
                todo.extend((child, False) for child in reversed(element))
                continue
            # A heading, data table or pre block was read whole; go on after it.
            if element is not content and element.tail:
                self.inline.append(element.tail)

    def finish(self) -> list[Section]:
        self._end_line()
        return self.builder.finish()

    def _leave(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._end_line()
            self.builder.add("")
        elif tag in _LINE_TAGS:
            self._end_line()

    def _end_line(self) -> None:
        text = _WS.sub(" ", "".join(self.inline)).strip()
        self.inline = []
        if text:
            self.builder.add(self.prefix + text)
            self.prefix = ""


def _is_layout_table(table: HtmlElement) -> bool:
    """A table used for page layout (it nests tables or headings), read as ordinary blocks."""
    return any(True for _ in table.iterdescendants(*_LAYOUT_MARKERS))


def _table_rows(table: HtmlElement) -> list[HtmlElement]:
    """The table's own rows (direct or in thead/tbody/tfoot), not those of nested tables."""
    rows: list[HtmlElement] = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(row for row in child if row.tag == "tr")
    return rows


def _table_lines(table: HtmlElement) -> list[str]:
    """One line per row; rows under a header row read ``header: value; header: value``."""
    lines = [_text_of(c) for c in table if c.tag == "caption" and _text_of(c)]
    header: list[str] | None = None
    for row in _table_rows(table):
        cells = [c for c in row if c.tag in ("td", "th")]
        texts = [_text_of(c) for c in cells]
        if not any(texts):
            continue
        parent = row.getparent()
        in_thead = parent is not None and parent.tag == "thead"
        if header is None and (in_thead or all(c.tag == "th" for c in cells)):
            header = texts
            continue
        if header is None:
            lines.append(" | ".join(t for t in texts if t))
            continue
        pairs = [
            f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {v}"
            for i, v in enumerate(texts)
            if v
        ]
        lines.append("; ".join(pairs))
    return lines

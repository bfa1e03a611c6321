"""PDF: one section per page; text through PDFium (pypdfium2) when installed, else pypdf.

pypdf opens the file (encryption, page count, title and author, embedded
images) and measures each page's content streams against the budget before
any text is extracted; PDFium then extracts the text, about ten to fifty times
faster than pypdf's own extraction (BENCHMARKS.md), with pypdf as the
fallback when pypdfium2 is missing or cannot open the file.
"""

from __future__ import annotations

import io
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any, Literal

from ragsilo.errors import MissingDependencyError, ParseError
from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers._common import build_document, collapse_spaces, display_name, normalize_text
from ragsilo.parsers.budget import MB, ParseBudget, over_budget
from ragsilo.parsers.detect import PDF

DEFAULT_MAX_PAGES = ParseBudget.max_pdf_pages
_PLACEHOLDER_TITLES = frozenset({"", "untitled", "untitled document", "document", "title", "none"})
# PDFium is not thread-safe: no two threads may call into it at once, not even
# on different documents. This one lock guards every call in the process.
_PDFIUM_LOCK = threading.Lock()
# PDFium marks a hyphen it found at a line break with U+0002 (or U+FFFE).
_PDFIUM_TEXT = str.maketrans({"\x02": "-", "\ufffe": "-"})
_INFLATE_STEP = 1 << 20
_MAX_FORM_DEPTH = 8

Engine = Literal["auto", "pdfium", "pypdf"]
_ENGINES = ("auto", "pdfium", "pypdf")


class PdfParser:
    """PDF files, one :class:`~ragsilo.models.Section` per page with a 1-based ``page``.

    Pages without extractable text (scans) are left out; a PDF with no text
    at all, an encrypted PDF that needs a password and a damaged or truncated
    file raise :class:`~ragsilo.errors.ParseError`. A PDF of more than
    ``max_pages`` pages (``parsing.max_pdf_pages``), a page whose content
    streams decode to more than ``parsing.max_page_content_mb``, or pages
    whose content streams add up to more than ``parsing.max_pdf_content_mb``
    (a stream shared by many pages counts once per page, as it is read once
    per page) raise :class:`~ragsilo.errors.FileOverBudgetError` before any
    text is extracted. The title is the PDF's own, else the file name.

    ``engine``: ``"auto"`` extracts text with PDFium when ``pypdfium2`` is
    installed and with pypdf otherwise; ``"pdfium"`` and ``"pypdf"`` choose
    one. Needs ``pypdf`` (``pip install "ragsilo[pdf]"``, which brings
    pypdfium2 too).
    """

    mime_type = PDF

    def __init__(
        self,
        max_pages: int | None = None,
        *,
        image_text: Callable[[bytes, str], str] | None = None,
        budget: ParseBudget | None = None,
        engine: Engine = "auto",
    ) -> None:
        if max_pages is not None and max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {max_pages}")
        if engine not in _ENGINES:
            raise ValueError(f"engine must be one of {', '.join(_ENGINES)}, not {engine!r}")
        self.budget = budget or ParseBudget()
        self.max_pages = self.budget.max_pdf_pages if max_pages is None else max_pages
        self.engine = engine
        # OCR for the images on each page (``images.pdf_images``); None: text only
        self.image_text = image_text

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        """Extract the text of every page of the PDF in ``data``."""
        try:
            import pypdf
            from pypdf.errors import DependencyError
        except ImportError as e:
            raise MissingDependencyError("pypdf", "pdf", "reading PDF files") from e

        shown = display_name(name)
        try:
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            # Many PDFs are encrypted with an empty user password (only
            # printing or copying is restricted); those open without asking.
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError(
                    f"{shown} is an encrypted PDF that needs a password; it cannot be read",
                    hint="save a copy without the password and ingest that",
                )
            count = len(reader.pages)
        except ParseError:
            raise
        except DependencyError as e:
            raise ParseError(
                f"{shown} is encrypted with a method that needs the 'cryptography' package",
                hint="install it with: pip install cryptography",
            ) from e
        except Exception as e:  # pypdf raises many kinds on damaged files
            raise ParseError(_damaged(shown, data, e)) from e

        if count == 0:
            raise ParseError(f"no text found in {shown}: the PDF has no pages")
        if count > self.max_pages:
            raise over_budget(
                f"{shown} has {count} pages, more than the limit of {self.max_pages} "
                "pages for one PDF",
                "max_pdf_pages",
            )
        self._check_content(reader, count, shown)

        counter = self.budget.text_counter(shown)
        sections: list[Section] = []
        failed: list[int] = []
        for number, text in self._page_texts(reader, data, count):
            if text is None:  # one broken page must not cost the others
                failed.append(number)
                continue
            text = normalize_text(text)
            counter.add(text)
            if text:
                sections.append(Section(text=text, page=number))
            if self.image_text is not None:
                ocr = self._page_images(reader.pages[number - 1], f"{shown} page {number}")
                if ocr:
                    counter.add(ocr)
                    sections.append(Section(text=ocr, page=number, metadata={"ocr": True}))
        if not sections:
            raise ParseError(
                f"no text found in {shown}: its {count} page(s) hold no extractable text",
                hint="a scanned PDF needs OCR: set images.pdf_images: true",
            )

        metadata: dict[str, Any] = {"pages": count}
        if failed:
            metadata["unreadable_pages"] = failed[:100]
            if len(failed) > 100:
                metadata["unreadable_page_count"] = len(failed)
        title, author = _info(reader)
        if author:
            metadata["author"] = author
        return build_document(
            name=name, mime_type=self.mime_type, title=title, sections=sections, metadata=metadata
        )

    def _check_content(self, reader: Any, count: int, shown: str) -> None:
        """Refuse the file before extraction when its pages' content is over the budget."""
        per_page = self.budget.max_page_content_bytes
        whole = self.budget.max_pdf_content_bytes
        sizes: dict[Any, int] = {}
        total = 0
        for number in range(1, count + 1):
            try:
                page = reader.pages[number - 1]
                size = _page_content_bytes(page, sizes, per_page)
            except Exception:  # unreadable structure: the page fails on its own later
                continue
            if size > per_page:
                raise over_budget(
                    f"{shown} page {number} has content streams that decode to more than "
                    f"{per_page / MB:.3g} MB, the limit for one page",
                    "max_page_content_mb",
                )
            total += size
            if total > whole:
                raise over_budget(
                    f"the content streams of {shown}'s first {number} pages decode to more than "
                    f"{whole / MB:.3g} MB (a stream shared by several pages counts for each), "
                    "the limit for one PDF",
                    "max_pdf_content_mb",
                )

    def _page_texts(self, reader: Any, data: bytes, count: int) -> Iterator[tuple[int, str | None]]:
        """``(page number, text or None when the page cannot be read)`` for every page."""
        if self.engine == "pdfium" and not pdfium_available():
            raise MissingDependencyError("pypdfium2", "pdf", "reading PDF text with PDFium")
        document = _open_pdfium(data) if self.engine != "pypdf" else None
        try:
            for number in range(1, count + 1):
                text = _pdfium_text(document, number) if document is not None else None
                if text is None:
                    text = _pypdf_text(reader, number)
                yield number, text
        finally:
            if document is not None:
                with _PDFIUM_LOCK:
                    document.close()

    def _page_images(self, page: Any, where: str) -> str:
        assert self.image_text is not None
        texts = []
        try:
            images = list(page.images)
        except Exception:  # an undecodable image stream costs only its text
            return ""
        for n, image in enumerate(images):
            text = self.image_text(image.data, f"{where} image {n + 1}")
            if text.strip():
                texts.append(text)
        return normalize_text("\n\n".join(texts))


def pdfium_available() -> bool:
    """Whether PDFium (``pypdfium2``) is installed to extract PDF text."""
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        return False
    return True


def _open_pdfium(data: bytes) -> Any:
    """The PDFium document for ``data``; None when pypdfium2 is missing or cannot open it."""
    try:
        import pypdfium2
    except ImportError:
        return None
    try:
        with _PDFIUM_LOCK:
            return pypdfium2.PdfDocument(data)
    except Exception:  # pypdf read it; let pypdf extract it too
        return None


def _pdfium_text(document: Any, number: int) -> str | None:
    try:
        with _PDFIUM_LOCK:
            page = document[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
    except Exception:  # PDFium could not read this page; pypdf may
        return None
    return text.translate(_PDFIUM_TEXT)


def _pypdf_text(reader: Any, number: int) -> str | None:
    try:
        return reader.pages[number - 1].extract_text() or ""
    except Exception:
        return None


def _page_content_bytes(page: Any, sizes: dict[Any, int], cap: int) -> int:
    """The decoded bytes of a page's content streams and of the form XObjects it may draw.

    ``sizes`` remembers each stream's size by object number, so a stream shared
    by a thousand pages is inflated once. Inflating stops past ``cap``: the
    count is only needed up to the limit.
    """
    total = 0
    for stream, key in _page_streams(page):
        size = sizes.get(key) if key is not None else None
        if size is None:
            size = _decoded_size(stream, cap)
            if key is not None:
                sizes[key] = size
        total += size
        if total > cap:
            break
    return total


def _page_streams(page: Any) -> Iterator[tuple[Any, Any]]:
    """``(stream, key)`` for the page's content streams and the form XObjects in its resources."""
    from pypdf.generic import ArrayObject, IndirectObject

    def resolved(item: Any) -> tuple[Any, Any]:
        if isinstance(item, IndirectObject):
            return item.get_object(), (item.idnum, item.generation)
        return item, None

    contents = page.raw_get("/Contents") if "/Contents" in page else None
    obj, key = resolved(contents)
    if isinstance(obj, ArrayObject):
        for item in obj:
            yield resolved(item)
    elif obj is not None:
        yield obj, key

    # Form XObjects (and forms inside forms) are read again each time a page draws them.
    todo = [(page.get("/Resources"), 0)]
    seen: set[Any] = set()
    while todo:
        resources, depth = todo.pop()
        if not hasattr(resources, "get") or depth > _MAX_FORM_DEPTH:
            continue
        xobjects = resources.get("/XObject")
        if not hasattr(xobjects, "raw_get"):
            continue
        for name in list(xobjects.keys()):
            form, key = resolved(xobjects.raw_get(name))
            if not hasattr(form, "get") or form.get("/Subtype") != "/Form":
                continue
            marker = key if key is not None else id(form)
            if marker in seen:
                continue
            seen.add(marker)
            yield form, key
            todo.append((form.get("/Resources"), depth + 1))


def _decoded_size(stream: Any, cap: int) -> int:
    """The decoded length of one stream, counted without holding more than a step of it."""
    raw = getattr(stream, "_data", None)
    if not isinstance(raw, bytes):
        return 0
    filters = stream.get("/Filter")
    if filters is None:
        return len(raw)
    if not isinstance(filters, list):
        filters = [filters]
    if [str(f) for f in filters] in (["/FlateDecode"], ["/Fl"]):
        return _inflated_size(raw, cap)
    try:
        return len(stream.get_data())
    except Exception:  # an undecodable stream gives no text to extract
        return 0


def _inflated_size(raw: bytes, cap: int) -> int:
    inflater = zlib.decompressobj()
    size = 0
    pending = raw
    try:
        while pending and size <= cap:
            size += len(inflater.decompress(pending, _INFLATE_STEP))
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass  # a damaged stream: what inflated so far counts
    return size


def _damaged(shown: str, data: bytes, error: Exception) -> str:
    detail = collapse_spaces(str(error))[:200] or type(error).__name__
    if b"%%EOF" not in data[-4096:] and b"%%EOF" not in data:
        return f"{shown} is a truncated PDF (it ends before its end-of-file marker): {detail}"
    return f"{shown} is a damaged PDF that cannot be read: {detail}"


def _info(reader: Any) -> tuple[str | None, str | None]:
    try:
        info = reader.metadata
    except Exception:  # a broken info dictionary only costs the title
        return None, None
    if info is None:
        return None, None
    title = _clean(info, "title")
    if title is not None:
        # Producers fill in placeholders; "Microsoft Word - notes.docx" names the source file.
        title = title.removeprefix("Microsoft Word - ").strip()
        if title.lower() in _PLACEHOLDER_TITLES:
            title = None
    return title, _clean(info, "author")


def _clean(info: Any, field: str) -> str | None:
    try:
        value = getattr(info, field)
        text = collapse_spaces(str(value)) if value is not None else ""
    except Exception:  # a malformed entry only costs this one field
        return None
    return text[:512] or None

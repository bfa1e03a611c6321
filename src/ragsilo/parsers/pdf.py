"""PDF: one section per page, read with pypdf."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ragsilo.errors import MissingDependencyError, ParseError
from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers._common import build_document, collapse_spaces, display_name, normalize_text
from ragsilo.parsers.detect import PDF

DEFAULT_MAX_PAGES = 5000
_PLACEHOLDER_TITLES = frozenset({"", "untitled", "untitled document", "document", "title", "none"})


class PdfParser:
    """PDF files, one :class:`~ragsilo.models.Section` per page with a 1-based ``page``.

    Pages without extractable text (scans) are left out; a PDF with no text
    at all, an encrypted PDF that needs a password, a damaged or truncated
    file and a PDF of more than ``max_pages`` pages raise
    :class:`~ragsilo.errors.ParseError`. The title is the PDF's own, else the
    file name. Needs ``pypdf`` (``pip install "ragsilo[pdf]"``).
    """

    mime_type = PDF

    def __init__(
        self,
        max_pages: int = DEFAULT_MAX_PAGES,
        *,
        image_text: Callable[[bytes, str], str] | None = None,
    ) -> None:
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {max_pages}")
        self.max_pages = max_pages
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
            raise ParseError(
                f"{shown} has {count} pages, more than the limit of {self.max_pages} "
                "pages for one PDF",
                hint="split the file into smaller PDFs",
            )

        sections: list[Section] = []
        failed: list[int] = []
        for number in range(1, count + 1):
            try:
                text = reader.pages[number - 1].extract_text() or ""
            except Exception:  # one broken page must not cost the others
                failed.append(number)
                continue
            text = normalize_text(text)
            if text:
                sections.append(Section(text=text, page=number))
            if self.image_text is not None:
                ocr = self._page_images(reader.pages[number - 1], f"{shown} page {number}")
                if ocr:
                    sections.append(Section(text=ocr, page=number, metadata={"ocr": True}))
        if not sections:
            raise ParseError(
                f"no text found in {shown}: its {count} page(s) hold no extractable text",
                hint="a scanned PDF needs OCR: set images.pdf_images: true",
            )

        metadata: dict[str, Any] = {"pages": count}
        if failed:
            metadata["unreadable_pages"] = failed
        title, author = _info(reader)
        if author:
            metadata["author"] = author
        return build_document(
            name=name, mime_type=self.mime_type, title=title, sections=sections, metadata=metadata
        )

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

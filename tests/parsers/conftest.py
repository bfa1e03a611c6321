"""Builders for real PDF and Word files, made in memory for each test."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import pytest


def build_pdf(
    pages: Sequence[str],
    *,
    title: str | None = None,
    user_password: str | None = None,
    owner_password: str | None = None,
) -> bytes:
    """A PDF with one page per string (an empty string gives a page without text)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    if title:
        pdf.setTitle(title)
    for text in pages:
        y = 780
        for line in text.split("\n"):
            pdf.drawString(72, y, line)
            y -= 16
        if not text:
            pdf.rect(100, 100, 200, 200)  # something on the page, but no text
        pdf.showPage()
    pdf.save()
    data = buf.getvalue()
    if user_password is None and owner_password is None:
        return data

    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    # RC4 needs no extra crypto package, unlike AES.
    writer.encrypt(user_password or "", owner_password=owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def make_pdf() -> Callable[..., bytes]:
    return build_pdf


@pytest.fixture
def make_docx() -> Callable[..., bytes]:
    """Builds a .docx from a function that fills a python-docx Document."""

    def make(fill: Callable[..., object], *, title: str | None = None) -> bytes:
        import docx

        document = docx.Document()
        if title is not None:
            document.core_properties.title = title
        fill(document)
        buf = io.BytesIO()
        document.save(buf)
        return buf.getvalue()

    return make

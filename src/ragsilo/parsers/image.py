"""Images (PNG, JPEG, GIF, WebP, TIFF, BMP): OCR text, size, format, EXIF and a thumbnail.

The text Tesseract reads becomes the image's sections (one per frame of a
multi-page TIFF or GIF); an image with no readable text still becomes one
section, a caption of its name, size and EXIF description, so it can be found
(and, with an image model, searched by image). Every chunk carries the image's
metadata under ``image``: width, height, format, frames, a few EXIF fields and
a small JPEG thumbnail as a ``data:`` URI, so a hit can show the image.

Needs Pillow and pytesseract (``pip install "ragsilo[image]"``) and the
``tesseract`` program (``apt-get install tesseract-ocr``).
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from ragsilo.errors import MissingDependencyError, ParseError
from ragsilo.models import ParsedDocument, Section
from ragsilo.parsers import detect as _mime
from ragsilo.parsers._common import build_document, display_name, normalize_text
from ragsilo.parsers.budget import ParseBudget
from ragsilo.settings import ImageSettings

IMAGE_TYPES = (_mime.PNG, _mime.JPEG, _mime.GIF, _mime.WEBP, _mime.TIFF, _mime.BMP)
_MAX_FRAMES = 50
_EXIF_FIELDS = {
    270: "description",
    271: "make",
    272: "model",
    274: "orientation",
    305: "software",
    306: "datetime",
    315: "artist",
}


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise MissingDependencyError("Pillow", "image", "reading images") from e
    return Image


def open_image(data: bytes, name: str, max_pixels: int) -> Any:
    """The decoded image, refused when damaged or larger than ``max_pixels``."""
    Image = _pil()
    shown = display_name(name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ParseError(
                    f"{shown} is {w}×{h} = {w * h:,} pixels, over images.max_pixels "
                    f"({max_pixels:,}); it may be a decompression bomb",
                    hint="raise images.max_pixels if the image is genuine",
                )
            img.load()
    except ParseError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ParseError(
            f"{shown} decodes to too many pixels; it may be a decompression bomb ({e})"
        ) from e
    except Exception as e:  # Pillow raises many kinds on damaged files
        raise ParseError(
            f"{shown} could not be decoded as an image: {str(e)[:200] or type(e).__name__}",
            hint="the file is damaged or truncated",
        ) from e
    return img


def ocr_text(img: Any, settings: ImageSettings) -> str:
    """The text Tesseract reads in ``img`` (empty when there is none)."""
    try:
        import pytesseract
    except ImportError as e:
        raise MissingDependencyError("pytesseract", "image", "reading text in images") from e
    gray = img.convert("L")
    # small images read better enlarged; Tesseract wants text about 30 px high
    if min(gray.size) < 300:
        scale = 300 / max(min(gray.size), 1)
        gray = gray.resize((int(gray.width * scale), int(gray.height * scale)))
    try:
        text = pytesseract.image_to_string(
            gray, lang=settings.ocr_language, timeout=settings.ocr_timeout
        )
    except pytesseract.TesseractNotFoundError as e:
        raise MissingDependencyError(
            "tesseract (system package tesseract-ocr)", "image", "reading text in images"
        ) from e
    except RuntimeError as e:  # pytesseract's timeout
        raise ParseError(f"OCR took longer than images.ocr_timeout ({e})") from e
    except pytesseract.TesseractError as e:
        raise ParseError(
            f"tesseract failed: {e}",
            hint=f"check that the language data for {settings.ocr_language!r} is installed",
        ) from e
    return normalize_text(text)


def image_metadata(img: Any, thumbnail_px: int) -> dict[str, Any]:
    """Size, format, frames, EXIF fields and (with ``thumbnail_px``) a thumbnail data URI."""
    meta: dict[str, Any] = {
        "width": int(img.width),
        "height": int(img.height),
        "format": str(img.format or ""),
        "mode": str(img.mode),
        "frames": int(getattr(img, "n_frames", 1)),
    }
    try:
        exif = img.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF is not worth failing the image
        exif = {}
    fields = {
        key: str(exif[tag]).strip("\x00 ")[:200] for tag, key in _EXIF_FIELDS.items() if tag in exif
    }
    if fields:
        meta["exif"] = fields
    if thumbnail_px:
        thumb = img.convert("RGB")
        thumb.thumbnail((thumbnail_px, thumbnail_px))
        buf = io.BytesIO()
        thumb.save(buf, "JPEG", quality=70)
        meta["thumbnail"] = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    return meta


class ImageParser:
    """Image files: one section of OCR text per frame, or a caption when none is read."""

    def __init__(self, settings: ImageSettings | None = None) -> None:
        self.settings = settings or ImageSettings()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        img = open_image(data, name, self.settings.max_pixels)
        meta = image_metadata(img, self.settings.thumbnail_px)
        sections: list[Section] = []
        if self.settings.ocr:
            for frame in range(min(meta["frames"], _MAX_FRAMES)):
                if frame:
                    img.seek(frame)
                text = ocr_text(img, self.settings)
                if text.strip():
                    page = frame + 1 if meta["frames"] > 1 else None
                    sections.append(Section(text, page=page, metadata={"ocr": True}))
        if not sections:
            sections.append(Section(_caption(name, meta), metadata={"caption": True}))
        mime = Image_mime(img)
        return build_document(
            name=name, mime_type=mime, title=None, sections=sections, metadata={"image": meta}
        )


def Image_mime(img: Any) -> str:  # noqa: N802 - mirrors Pillow's naming
    fmt = str(img.format or "").upper()
    return {
        "PNG": _mime.PNG,
        "JPEG": _mime.JPEG,
        "GIF": _mime.GIF,
        "WEBP": _mime.WEBP,
        "TIFF": _mime.TIFF,
        "BMP": _mime.BMP,
    }.get(fmt, "image/" + fmt.lower())


def _caption(name: str, meta: dict[str, Any]) -> str:
    desc = meta.get("exif", {}).get("description", "")
    base = f"Image {PurePath(name).name}, {meta['width']}×{meta['height']} {meta['format']}"
    return f"{base}: {desc}" if desc else base


def embedded_image_text(settings: ImageSettings) -> Callable[[bytes, str], str]:
    """OCR for images embedded in PDF and Word files: bytes in, text out ('' when unreadable)."""

    def read(data: bytes, name: str) -> str:
        try:
            img = open_image(data, name, settings.max_pixels)
        except ParseError:
            return ""
        if img.width * img.height < 64 * 64:
            return ""  # icons and rules hold no text worth reading
        return ocr_text(img, settings)

    return read


def parsers_for(settings: ImageSettings, budget: ParseBudget | None = None) -> dict[str, Any]:
    """The built-in parsers with images (and, as set, images inside PDF and Word files).

    ``budget``: the per-file budget (``parsing`` settings) the parsers enforce.
    """
    from ragsilo.parsers import default_parsers
    from ragsilo.parsers.docx import DocxParser
    from ragsilo.parsers.pdf import PdfParser

    registry: dict[str, Any] = default_parsers(budget)
    image = ImageParser(settings)
    for mime in IMAGE_TYPES:
        registry[mime] = image
    if settings.pdf_images:
        registry[_mime.PDF] = PdfParser(image_text=embedded_image_text(settings), budget=budget)
    if settings.docx_images:
        registry[_mime.DOCX] = DocxParser(image_text=embedded_image_text(settings), budget=budget)
    return registry

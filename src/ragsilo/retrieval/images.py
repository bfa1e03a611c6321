"""Image search: the images nearest a text (text→image) or another image (image→image).

Ingest with ``images.model`` set stores one CLIP vector per image in the side
collection ``<collection>_images`` (``id``, ``doc_id``, ``source``, ``vector``);
the image's chunk row, with its text (OCR and metadata), stays in the chunk
collection. A search embeds the query with the same CLIP model, finds the
nearest image vectors, and answers with their chunk rows, scored by cosine
similarity.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ragsilo.errors import ConfigError, InputError
from ragsilo.models import Hit
from ragsilo.retrieval.query import check_k, check_text
from ragsilo.settings import Settings
from ragsilo.store import DEFAULT_OUTPUT_FIELDS
from ragsilo.store.protocol import VectorStore
from ragsilo.store.schema import TENANT_FIELD

#: how much deeper a tenant's image search looks (the image vectors carry no tenant)
TENANT_DEPTH_FACTOR = 8
_MAX_DEPTH = 16384


class ImageEmbedder(Protocol):
    """What image search needs of a CLIP model."""

    @property
    def dimension(self) -> int: ...

    def embed_images(self, images: list[Any]) -> np.ndarray: ...

    def embed_texts(self, texts: list[str]) -> np.ndarray: ...


def images_name(collection: str) -> str:
    """Where the image vectors of ``collection`` live: ``<collection>_images``."""
    return f"{collection}_images"


def ensure_images_collection(store: VectorStore, collection: str, clip: ImageEmbedder) -> None:
    """Create ``<collection>_images`` for the vectors of ``clip`` (or check the dimension of
    the one there), and load it."""
    store.ensure_vector_collection(images_name(collection), dimension=clip.dimension)


def read_query_image(path: Path) -> bytes:
    """The bytes of the query image at ``path``; :class:`InputError` when unreadable."""
    try:
        return path.expanduser().read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the query image {str(path)!r}: {e.strerror}") from e


def search_images(
    store: VectorStore,
    collection: str,
    settings: Settings,
    clip: Callable[[], ImageEmbedder | None],
    *,
    query: str | None = None,
    image: str | Path | bytes | None = None,
    k: int | None = None,
    tenant: str | None = None,
    ready: Callable[[], None] = lambda: None,
) -> list[Hit]:
    """The ``k`` images of ``collection`` nearest ``query`` (a text) or ``image`` (a path
    or the bytes of an image), as the hits of their chunk rows; ``tenant`` (already
    checked) keeps only that tenant's. ``clip()`` gives the image model (loaded only
    once the request is known to be sound); ``ready`` opens the chunk collection."""
    if (query is None) == (image is None):
        raise InputError("give either a text query or an image to search images with")
    model = clip()
    if model is None:
        raise ConfigError(
            "searching images needs an image model",
            hint="set images.model to a local CLIP model folder and ingest the images again",
        )
    k = check_k(k, settings.search)
    ready()
    images = images_name(collection)
    if not store.has_collection(images):
        return []
    if image is not None:
        from ragsilo.parsers.image import open_image

        data = image if isinstance(image, bytes) else read_query_image(Path(image))
        vector = model.embed_images([open_image(data, "query", settings.images.max_pixels)])
    else:
        vector = model.embed_texts([check_text(query, settings.search)])
    store.ensure_loaded(images)
    # the image vectors carry no tenant: with tenants, look deeper and keep the
    # tenant's own (by the tenant stored on each chunk row)
    depth = k if tenant is None else min(k * TENANT_DEPTH_FACTOR, _MAX_DEPTH)
    found = store.search(images, vector, k=depth, output_fields=["doc_id"])[0]
    if not found:
        return []
    scores = {str(h["id"]): float(h["distance"]) for h in found}
    fields = list(DEFAULT_OUTPUT_FIELDS)
    extra = [] if tenant is None else [TENANT_FIELD]
    rows = store.get_rows(collection, list(scores), ["id", *fields, *extra])
    if tenant is not None:
        rows = [r for r in rows if r.get(TENANT_FIELD) == tenant]
    hits = [Hit.from_row({**r, "distance": scores[str(r["id"])]}, fields) for r in rows]
    return sorted(hits, key=lambda h: -h.score)[:k]


__all__ = [
    "ImageEmbedder",
    "ensure_images_collection",
    "images_name",
    "read_query_image",
    "search_images",
]

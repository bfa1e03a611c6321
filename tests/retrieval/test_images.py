"""Image search on the in-memory store, with a stand-in image model: text→image and
image→image find the nearest image vectors and answer with their chunk rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragsilo.errors import ConfigError, InputError
from ragsilo.models import Chunk
from ragsilo.retrieval.images import (
    ensure_images_collection,
    images_name,
    read_query_image,
    search_images,
)
from ragsilo.settings import IndexSettings, Settings
from ragsilo.store import plan_index
from ragsilo.store.memory import InMemoryStore

DIM = 4
NAME = "docs"
#: the image vectors: one axis per image, so the nearest image is plain to see
AXES = {"red": 0, "green": 1, "blue": 2}


class StandInClip:
    """Maps the words red/green/blue (and images of that colour) onto their axis."""

    dimension = DIM

    def __init__(self) -> None:
        self.images: list[Any] = []

    @staticmethod
    def _axis(i: int) -> np.ndarray:
        v = np.full(DIM, 0.05, dtype=np.float32)
        v[i] = 1.0
        return v / np.linalg.norm(v)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._axis(AXES.get(t.split()[0], 3)) for t in texts])

    def embed_images(self, images: list[Any]) -> np.ndarray:
        self.images.extend(images)
        out = []
        for im in images:
            r, g, b = im.convert("RGB").getpixel((0, 0))
            out.append(self._axis(int(np.argmax([r, g, b]))))
        return np.stack(out)


def _png(rgb: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), rgb).save(buf, format="PNG")
    return buf.getvalue()


def _settings(**sections: object) -> Settings:
    return Settings.model_validate({"collection": {"name": NAME}, **sections})


def _store(*, tenants: bool = False) -> InMemoryStore:
    store = InMemoryStore()
    plan = plan_index(IndexSettings(type="FLAT"), store.info, DIM)
    store.ensure_collection(
        NAME, dimension=DIM, plan=plan, consistency_level="Strong", tenants=tenants
    )
    clip = StandInClip()
    ensure_images_collection(store, NAME, clip)
    for colour, axis in AXES.items():
        chunk = Chunk(
            id=f"img-{colour}",
            doc_id=f"doc-{colour}",
            source=f"/pics/{colour}.png",
            file_sha256="sha",
            mime_type="image/png",
            title=colour,
            page=None,
            section=None,
            chunk_index=0,
            text=f"a {colour} picture",
            metadata={},
            doc_chunks=1,
        )
        tenant = ("acme" if colour != "blue" else "other") if tenants else None
        store.upsert_chunks(
            NAME, [chunk], np.zeros((1, DIM), np.float32), batch_bytes=1 << 20, tenant=tenant
        )
        store.write_rows(
            images_name(NAME),
            [
                {
                    "id": chunk.id,
                    "doc_id": chunk.doc_id,
                    "source": chunk.source,
                    "vector": clip._axis(axis).tolist(),
                }
            ],
        )
    return store


def test_text_to_image_finds_the_nearest_image_first() -> None:
    hits = search_images(_store(), NAME, _settings(), StandInClip, query="green leaves", k=2)
    assert [h.id for h in hits] == ["img-green", hits[1].id] and len(hits) == 2
    assert hits[0].score > hits[1].score and hits[0].text == "a green picture"


def test_image_to_image_from_bytes_or_a_file(tmp_path: Path) -> None:
    clip = StandInClip()
    hits = search_images(_store(), NAME, _settings(), lambda: clip, image=_png((0, 0, 250)), k=1)
    assert [h.source for h in hits] == ["/pics/blue.png"]
    path = tmp_path / "query.png"
    path.write_bytes(_png((250, 10, 10)))
    hits = search_images(_store(), NAME, _settings(), lambda: clip, image=str(path), k=1)
    assert [h.id for h in hits] == ["img-red"] and len(clip.images) == 2


def test_a_tenant_finds_only_its_own_images() -> None:
    settings = _settings(collection={"name": NAME, "tenants": True})
    store = _store(tenants=True)
    hits = search_images(store, NAME, settings, StandInClip, query="blue sky", k=3, tenant="acme")
    assert {h.id for h in hits} == {"img-red", "img-green"}


def test_no_images_collection_finds_nothing() -> None:
    store = _store()
    store.drop_collection(images_name(NAME))
    assert search_images(store, NAME, _settings(), StandInClip, query="red", k=3) == []


def test_bad_requests_are_refused_before_the_model_loads(tmp_path: Path) -> None:
    def no_load() -> StandInClip:
        raise AssertionError("the model was loaded for a request that was refused")

    store, settings = _store(), _settings()
    with pytest.raises(InputError, match="give either a text query or an image"):
        search_images(store, NAME, settings, no_load)
    with pytest.raises(InputError, match="give either a text query or an image"):
        search_images(store, NAME, settings, no_load, query="red", image=b"x")
    with pytest.raises(ConfigError, match="searching images needs an image model"):
        search_images(store, NAME, settings, lambda: None, query="red")
    with pytest.raises(InputError, match="k must be a whole number from 1"):
        search_images(store, NAME, settings, StandInClip, query="red", k=0)
    with pytest.raises(InputError, match="the query is empty"):
        search_images(store, NAME, settings, StandInClip, query="  ")
    with pytest.raises(InputError, match="cannot read the query image"):
        read_query_image(tmp_path / "missing.png")


def test_the_images_collection_keeps_its_dimension() -> None:
    from ragsilo.errors import DimensionMismatchError

    store = _store()
    ensure_images_collection(store, NAME, StandInClip())  # there already: checked, kept
    assert store.count(images_name(NAME)) == 3

    class Wider(StandInClip):
        dimension = DIM * 2

    with pytest.raises(DimensionMismatchError, match="dimension 4"):
        ensure_images_collection(store, NAME, Wider())

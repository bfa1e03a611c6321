"""Image and text vectors in one space, from a CLIP model (``transformers`` + PyTorch, CPU).

Needs the ``clip`` extra: ``pip install "ragsilo[clip]"``. ``images.model`` is a
local model directory (what ``CLIPModel.save_pretrained`` writes, with its
tokenizer and image processor) or a model name already in the local Hugging Face
cache; nothing is downloaded.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragsilo.embedding._common import l2_normalise
from ragsilo.errors import EmbeddingError, InputError, MissingDependencyError


class ClipEmbedder:
    """Normalised CLIP vectors for images (:meth:`embed_images`) and texts (:meth:`embed_texts`).

    The model is loaded on first use, thread-safely.
    """

    def __init__(self, model: str, *, threads: int | None = None) -> None:
        self.name = model
        self._threads = threads
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._processor: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                import torch
                from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel
            except ImportError as e:
                raise MissingDependencyError(
                    "transformers and torch", "clip", "image vectors (images.model)"
                ) from e
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no progress bars in the CLI's output
            if self._threads:
                torch.set_num_threads(self._threads)
            where = (
                str(Path(self.name).expanduser())
                if Path(self.name).expanduser().exists()
                else self.name
            )
            try:
                model = CLIPModel.from_pretrained(where, local_files_only=True)
                self._tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
                self._processor = CLIPImageProcessor.from_pretrained(where, local_files_only=True)
            except (OSError, ValueError) as e:
                raise EmbeddingError(
                    f"cannot load the CLIP model {self.name!r}: {str(e).splitlines()[0]}",
                    hint="images.model must be a local CLIP folder or a model in the local "
                    "Hugging Face cache; nothing is downloaded",
                ) from e
            model.eval()
            self._model = model

    @property
    def dimension(self) -> int:
        self._load()
        return int(self._model.config.projection_dim)

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        """Vectors for PIL images (or image bytes)."""
        import torch
        from PIL import Image

        self._load()
        pics = [
            (Image.open(io.BytesIO(im)) if isinstance(im, (bytes, bytearray)) else im).convert(
                "RGB"
            )
            for im in images
        ]
        if not pics:
            return np.zeros((0, self.dimension), dtype=np.float32)
        inputs = self._processor(images=pics, return_tensors="pt")
        with torch.no_grad():
            out = self._model.get_image_features(pixel_values=inputs["pixel_values"])
        return l2_normalise(_array(out))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise InputError("the image search query is empty")
        self._load()
        inputs = self._tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            out = self._model.get_text_features(
                input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
            )
        return l2_normalise(_array(out))


def _array(out: Any) -> np.ndarray:
    # newer transformers return a model output object, older ones the tensor
    tensor = getattr(out, "pooler_output", None)
    if tensor is None:
        tensor = out if not isinstance(out, (tuple, list)) else out[0]
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float32)

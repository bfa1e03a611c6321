"""Text embeddings from a sentence-transformers model (PyTorch), CPU or CUDA.

Needs the ``st`` extra: ``pip install "ragsilo[st]"``.

``embedding.model_path`` names a local model directory (what
``SentenceTransformer.save()`` writes); nothing is downloaded for it.
Otherwise ``embedding.model`` is a Hugging Face model name, resolved by
sentence-transformers through the local Hugging Face cache. sentence-transformers
downloads a name that is not cached yet; to forbid that, construct the embedder
with ``local_files_only=True`` (or set ``HF_HUB_OFFLINE=1`` in the process
environment), and a missing model fails instead.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ragsilo.embedding._common import check_dimension, check_texts, first_line, l2_normalise
from ragsilo.errors import EmbeddingError, MissingDependencyError
from ragsilo.settings import EmbeddingSettings

# passages per call on a GPU when embedding.batch_size is left at its default
GPU_BATCH = 256


class SentenceTransformerEmbedder:
    """Normalised embeddings from ``sentence_transformers.SentenceTransformer``.

    Construction is cheap; sentence-transformers is imported and the model
    loaded on first use, thread-safely. ``embedding.device`` ``auto`` picks
    CUDA when ``torch.cuda.is_available()``. ``embedding.max_tokens`` lowers
    the model's ``max_seq_length`` (it never raises it past what the model
    declares).
    """

    def __init__(self, settings: EmbeddingSettings, *, local_files_only: bool = False) -> None:
        self._settings = settings
        self._local_files_only = local_files_only
        self.name = settings.model
        self._lock = threading.Lock()
        self._model: Any = None
        self._dimension: int | None = None
        self._device_name: str | None = None

    @property
    def ingest_batch(self) -> int:
        """How many chunks an ingest hands to :meth:`embed` at once: ``embedding.batch_size``
        when it is set, else one sized for the device (a GPU stays busy only with
        hundreds of passages per call; a CPU does best with the default)."""
        s = self._settings
        if "batch_size" in s.model_fields_set:
            return s.batch_size
        self._ensure_model()
        return max(s.batch_size, GPU_BATCH) if self._device_name == "cuda" else s.batch_size

    @property
    def fills_cores(self) -> bool:
        """Whether embedding keeps every core busy by itself (the model runs on the CPU);
        loads the model the first time. See :attr:`OnnxEmbedder.fills_cores`."""
        self._ensure_model()
        return self._device_name == "cpu"

    @property
    def dimension(self) -> int:
        """The vector length; loads the model the first time."""
        self._ensure_model()
        assert self._dimension is not None
        return self._dimension

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's tokenizer, without special tokens or truncation."""
        model = self._ensure_model()
        return len(model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array of shape ``(len(texts), dimension)``, unit rows."""
        items = check_texts(texts)
        model = self._ensure_model()
        assert self._dimension is not None
        if not items:
            return np.empty((0, self._dimension), dtype=np.float32)
        try:
            vectors = model.encode(
                items,
                batch_size=self.ingest_batch,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as e:  # torch and transformers raise many kinds
            raise EmbeddingError(
                f"sentence-transformers model {self.name!r} failed on {len(items)} texts: "
                f"{first_line(e)}"
            ) from e
        # normalize_embeddings already did this; a second pass fixes float16 models.
        return l2_normalise(np.asarray(vectors, dtype=np.float32).reshape(len(items), -1))

    def _ensure_model(self) -> Any:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> Any:
        try:
            import sentence_transformers  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise MissingDependencyError(
                "sentence-transformers", "st", "the sentence-transformers embedding provider"
            ) from None
        s = self._settings
        target = str(s.model_path) if s.model_path is not None else s.model
        if s.model_path is not None and not s.model_path.exists():
            raise EmbeddingError(f"sentence-transformers model directory {target!r} not found")
        device = self._device()
        self._device_name = device
        try:
            model = sentence_transformers.SentenceTransformer(
                target, device=device, local_files_only=self._local_files_only
            )
        except Exception as e:  # OSError, ValueError, hub errors, ...
            raise EmbeddingError(
                f"sentence-transformers model {target!r} cannot be loaded: {first_line(e)}",
                hint="give a local model directory in embedding.model_path, or a model name "
                "present in the Hugging Face cache",
            ) from e
        current = getattr(model, "max_seq_length", None)
        model.max_seq_length = s.max_tokens if not current else min(current, s.max_tokens)
        dimension = model.get_sentence_embedding_dimension()
        if not dimension:
            dimension = int(np.asarray(model.encode(["dimension"])).shape[-1])
        check_dimension(s.dimension, int(dimension), self.name)
        self._dimension = int(dimension)
        return model

    def _device(self) -> str:
        device = self._settings.device
        if device == "cpu":
            return "cpu"
        import torch  # type: ignore[import-not-found, unused-ignore]

        if torch.cuda.is_available():
            return "cuda"
        if device == "cuda":
            raise EmbeddingError(
                "embedding.device is cuda, but torch sees no CUDA device",
                hint="install a CUDA build of torch, or set embedding.device: cpu",
            )
        return "cpu"

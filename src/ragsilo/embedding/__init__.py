"""Text embedders: the :class:`Embedder` protocol, its providers and their registry.

``embedding.provider`` picks the class:

- ``onnx`` (default): :class:`OnnxEmbedder`, all-MiniLM-L6-v2 int8 on onnxruntime,
  offline, CPU or CUDA;
- ``sentence-transformers``: :class:`SentenceTransformerEmbedder`, needs the
  ``st`` extra;
- ``openai``: :class:`OpenAIEmbedder`, any OpenAI-compatible ``/v1/embeddings``
  server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

import numpy as np

from ragsilo.embedding._common import TokenCounter, load_tokenizer_counter
from ragsilo.embedding.onnx import OnnxEmbedder
from ragsilo.embedding.openai import OpenAIEmbedder
from ragsilo.embedding.sentence_transformers import SentenceTransformerEmbedder
from ragsilo.errors import ConfigError
from ragsilo.settings import EmbeddingSettings

__all__ = [
    "PROVIDERS",
    "Embedder",
    "OnnxEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "TokenCounter",
    "create_embedder",
    "load_tokenizer_counter",
]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors.

    Implementations are cheap to construct and load their model on first use.
    (Not runtime-checkable on purpose: an ``isinstance`` check would read
    ``dimension`` and so load the model.)
    """

    #: The model's name, as recorded beside the vectors it makes.
    name: str

    @property
    def dimension(self) -> int:
        """The vector length (may load the model)."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` as a float32 array of shape ``(len(texts), dimension)``.

        Rows are L2-normalised and in input order; no texts gives ``(0, dimension)``.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's tokenizer, without special tokens."""
        ...


#: ``embedding.provider`` name -> embedder class (each takes the settings).
PROVIDERS: Mapping[str, Callable[[EmbeddingSettings], Embedder]] = MappingProxyType(
    {
        "onnx": OnnxEmbedder,
        "sentence-transformers": SentenceTransformerEmbedder,
        "openai": OpenAIEmbedder,
    }
)


def create_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder ``settings.provider`` names, configured by ``settings``.

    Nothing is loaded yet: the model loads on the first ``embed``,
    ``dimension`` or ``count_tokens``.
    """
    try:
        factory = PROVIDERS[settings.provider]
    except KeyError:
        raise ConfigError(
            f"embedding.provider {settings.provider!r} is unknown; "
            f"choose one of {', '.join(PROVIDERS)}"
        ) from None
    return factory(settings)

"""create_embedder: provider names map to embedder classes, which load nothing yet."""

from __future__ import annotations

import inspect

import pytest

from ragsilo.embedding import (
    PROVIDERS,
    Embedder,
    OnnxEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    create_embedder,
)
from ragsilo.errors import EmbeddingError
from ragsilo.settings import EmbeddingSettings


@pytest.mark.parametrize(
    "settings,cls",
    [
        (EmbeddingSettings(), OnnxEmbedder),
        (
            EmbeddingSettings(provider="sentence-transformers", model="m"),
            SentenceTransformerEmbedder,
        ),
        (EmbeddingSettings(provider="openai", base_url="http://127.0.0.1:9/v1"), OpenAIEmbedder),
    ],
    ids=["onnx", "sentence-transformers", "openai"],
)
def test_each_provider_builds_its_class(settings: EmbeddingSettings, cls: type) -> None:
    embedder: Embedder = create_embedder(settings)
    assert type(embedder) is cls
    assert embedder.name == settings.model
    for member in ("dimension", "embed", "count_tokens"):
        assert inspect.getattr_static(embedder, member, None) is not None


def test_every_settings_provider_is_registered() -> None:
    provider = EmbeddingSettings.model_fields["provider"].annotation
    assert set(PROVIDERS) == set(provider.__args__)


def test_openai_without_base_url_is_refused() -> None:
    settings = EmbeddingSettings.model_construct(provider="openai")  # validation bypassed
    with pytest.raises(EmbeddingError, match="base_url"):
        create_embedder(settings)


def test_public_names() -> None:
    import ragsilo.embedding

    assert set(ragsilo.embedding.__all__) == {
        "PROVIDERS", "Embedder", "OnnxEmbedder", "OpenAIEmbedder", "SentenceTransformerEmbedder",
        "TokenCounter", "create_embedder", "load_tokenizer_counter",
    }  # fmt: skip

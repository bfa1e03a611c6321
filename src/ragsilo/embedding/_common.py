"""Pieces shared by the embedders: the shipped tokenizer, normalisation, checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ragsilo.errors import DimensionMismatchError, EmbeddingError, InputError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_ASSET_PACKAGE = "ragsilo.embedding"
_TOKENIZER_ASSET = "assets/minilm-tokenizer.json"


def read_tokenizer_json(tokenizer_path: str | Path | None = None) -> str:
    """The text of a ``tokenizer.json``: the given file (or a directory holding
    one), else the MiniLM tokenizer shipped with ragsilo."""
    if tokenizer_path is None:
        try:
            return (
                resources.files(_ASSET_PACKAGE)
                .joinpath(_TOKENIZER_ASSET)
                .read_text(encoding="utf-8")
            )
        except (OSError, ModuleNotFoundError) as e:  # a broken installation
            raise EmbeddingError(
                "the MiniLM tokenizer shipped with ragsilo is missing",
                hint="reinstall ragsilo, or set embedding.tokenizer_path",
            ) from e
    path = Path(tokenizer_path)
    if path.is_dir():
        path = path / "tokenizer.json"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise EmbeddingError(
            f"tokenizer file {str(path)!r} cannot be read ({type(e).__name__})",
            hint="embedding.tokenizer_path must name a Hugging Face tokenizer.json",
        ) from e


def load_tokenizer(
    tokenizer_path: str | Path | None = None, *, max_tokens: int | None = None
) -> Tokenizer:
    """A fast tokenizer without padding, truncating to ``max_tokens`` (special
    tokens included) when given, else never truncating."""
    from tokenizers import Tokenizer

    text = read_tokenizer_json(tokenizer_path)
    try:
        tokenizer = Tokenizer.from_str(text)
    except Exception as e:  # tokenizers raises a bare Exception on bad JSON
        where = "the shipped tokenizer" if tokenizer_path is None else repr(str(tokenizer_path))
        raise EmbeddingError(f"{where} is not a valid tokenizer.json: {first_line(e)}") from e
    tokenizer.no_padding()
    if max_tokens is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


# Steps that look at one character or one pre-token at a time, so that they keep
# a count over texts joined by whitespace equal to the sum of their counts.
_LOCAL_NORMALIZERS = frozenset(
    {"BertNormalizer", "Lowercase", "NFC", "NFD", "NFKC", "NFKD", "StripAccents"}
)
_WHITESPACE_PRE_TOKENIZERS = frozenset({"BertPreTokenizer", "Whitespace", "WhitespaceSplit"})


# ASCII that is not printable, nor a space, tab or line break
_NOT_PLAIN = re.compile(r"[^\t\n\r\x20-\x7e]")
# what Python's split takes as whitespace and BERT's tokenizer does not
_NOT_BERT_PLAIN = re.compile("[\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
# distinct words whose counts one counter keeps
_WORD_CACHE = 200_000


class TokenCounter:
    """``count(text) -> int``: tokens of ``text`` by a fast tokenizer, without
    special tokens and without truncation.

    ``tokens_additive`` is true when the tokenizer cuts text at whitespace
    before anything else, so that the count of texts joined by whitespace is
    exactly the sum of their counts; a chunker then need not recount whole
    chunks.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        normalizer = tokenizer.normalizer
        local = normalizer is None or type(normalizer).__name__ in _LOCAL_NORMALIZERS
        splits = type(tokenizer.pre_tokenizer).__name__ in _WHITESPACE_PRE_TOKENIZERS
        self.tokens_additive = local and splits
        # BERT's normaliser and pre-tokeniser take as whitespace what Python's split does,
        # except for the characters _NOT_BERT_PLAIN finds
        self._bert = type(normalizer).__name__ == "BertNormalizer" and type(
            tokenizer.pre_tokenizer
        ).__name__ in {"BertPreTokenizer", "WhitespaceSplit"}
        # with additive counts, plain ASCII text is counted word by word from a cache:
        # prose repeats its words, and a dictionary look-up costs far less than encoding
        self._words: dict[str, int] = {}

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_words": {}}  # the cache stays behind

    def __call__(self, text: str) -> int:
        words = self._plain_words(text)
        if words is not None:
            return self._count_words(words)
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_batch(self, texts: list[str]) -> list[int]:
        """The counts of many texts in one tokenizer call (the same as one by one)."""
        out: list[int] = [0] * len(texts)
        rest: list[int] = []
        for i, text in enumerate(texts):
            words = self._plain_words(text)
            if words is None:
                rest.append(i)
            else:
                out[i] = self._count_words(words)
        if rest:
            encoded = self._tokenizer.encode_batch(
                [texts[i] for i in rest], add_special_tokens=False
            )
            for i, e in zip(rest, encoded, strict=True):
                out[i] = len(e.ids)
        return out

    def _plain_words(self, text: str) -> list[str] | None:
        """``text``'s words when its count is the sum of theirs: an additive tokenizer and
        printable ASCII with no whitespace but space, tab and line breaks (which split
        alike in Python and in the tokenizer; other control characters the normaliser
        removes, joining words), or, with BERT's normaliser and pre-tokeniser, any text
        without the few characters Python splits at and BERT does not."""
        if not self.tokens_additive:
            return None
        if text.isascii():
            return None if _NOT_PLAIN.search(text) else text.split()
        if self._bert and not _NOT_BERT_PLAIN.search(text):
            return text.split()
        return None

    def _count_words(self, words: list[str]) -> int:
        cache = self._words
        try:
            return sum(map(cache.__getitem__, words))
        except KeyError:
            pass
        missing = list({w for w in words if w not in cache})
        if missing:
            encoded = self._tokenizer.encode_batch(missing, add_special_tokens=False)
            new = {w: len(e.ids) for w, e in zip(missing, encoded, strict=True)}
            if len(cache) + len(new) > _WORD_CACHE:  # full: counted, then started afresh
                total = sum(cache[w] if w in cache else new[w] for w in words)
                cache.clear()
                if len(new) <= _WORD_CACHE:
                    cache.update(new)
                return total
            cache.update(new)
        return sum(cache[w] for w in words)


def load_tokenizer_counter(tokenizer_path: str | Path | None = None) -> TokenCounter:
    """A ``count_tokens(text) -> int`` function for chunking.

    It counts the tokens of ``text`` without special tokens and without
    truncation, using the given ``tokenizer.json`` (or a directory holding
    one) or, by default, the MiniLM tokenizer shipped with ragsilo (the one
    the default embedder uses). The tokenizer loads here, once.
    """
    return TokenCounter(load_tokenizer(tokenizer_path))


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, refusing a bare string and non-string items."""
    if isinstance(texts, str):
        raise InputError("embed() takes a sequence of texts, not a single string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise InputError(f"text number {i} to embed is a {type(t).__name__}, not a string")
    return out


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out = np.zeros_like(vectors)
    np.divide(vectors, norms, out=out, where=norms > 0)
    return out


def check_dimension(expected: int | None, actual: int, model: str) -> None:
    """Refuse a model whose vectors are not ``embedding.dimension`` long."""
    if expected is not None and expected != actual:
        raise DimensionMismatchError(
            f"embedding model {model!r} makes vectors of dimension {actual}, "
            f"but embedding.dimension is {expected}",
            hint=f"set embedding.dimension to {actual} or leave it unset",
        )


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__

"""Vector codes: the compact copies of stored vectors that a reranking search fetches."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ragsilo.store.codes import code_length, code_width, decode_codes, encode_codes


def _unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("dim", [1, 2, 3, 16, 383, 384, 385, 768])
def test_every_code_of_a_dimension_has_one_length_without_padding(dim: int) -> None:
    codes = encode_codes(_unit(7, dim))
    assert code_width(dim) % 3 == 0
    assert {len(c) for c in codes} == {code_length(dim)}
    assert not any("=" in c for c in codes)
    assert decode_codes(codes, dim).shape == (7, dim)


def test_decoded_codes_keep_each_component_within_half_a_step() -> None:
    v = _unit(500, 384)
    d = decode_codes(encode_codes(v), 384)
    step = np.abs(v).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(d - v) <= step / 2 + 1e-7)
    # and so the similarities a reranker compares barely move
    n = d / np.linalg.norm(d, axis=1, keepdims=True)
    assert np.abs(n @ n.T - v @ v.T).max() < 0.005


def test_scale_free_and_degenerate_rows() -> None:
    v = np.asarray([[0.0, 0.0, 0.0], [100.0, -50.0, 0.5], [np.nan, 1.0, np.inf]], np.float32)
    d = decode_codes(encode_codes(v), 3)
    assert np.array_equal(d[0], [0.0, 0.0, 0.0])
    assert np.allclose(d[1], [100.0, -50.0, 0.5], atol=100 / 254 + 1e-4)
    assert np.all(np.isfinite(d[2])) and d[2][1] == pytest.approx(1.0, abs=1 / 254)


def test_a_bad_code_decodes_as_a_zero_vector_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    v = _unit(4, 16)
    good = encode_codes(v)
    codes = [good[0], "short", None, "!" * code_length(16), good[3]]
    with caplog.at_level(logging.WARNING, logger="ragsilo.store.codes"):
        d = decode_codes(codes, 16)
    assert not d[1:4].any()
    assert np.allclose(d[[0, 4]], v[[0, 3]], atol=1 / 127)
    assert "3 of 5 vector codes" in caplog.text


def test_encoding_needs_a_matrix() -> None:
    with pytest.raises(ValueError, match="matrix"):
        encode_codes(np.zeros(3))

"""The LAB paper's char-LSTM builder and text sampling."""

from __future__ import annotations

import numpy as np
import pytest

from keras_binary.precision import get_quantizer, is_binary_variable
from model_zoo.models.char_lstm import VARIANTS, build_char_lstm, sample_text


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variants_binarize_what_the_paper_binarizes(variant):
    model = build_char_lstm(vocab_size=11, variant=variant, units=6)
    lstm, logits = model.get_layer("lstm"), model.get_layer("logits")
    kernels = [lstm.cell.kernel, lstm.cell.recurrent_kernel]
    binary = variant != "full"
    assert [is_binary_variable(k) for k in kernels] == [binary] * 2
    assert not is_binary_variable(logits.kernel)  # the softmax layer stays full precision
    assert logits.kernel_quantizer is None and logits.kernel_constraint is None
    assert lstm.input_quantizer is None  # one-hot inputs are never binarized
    assert (lstm.recurrent_input_quantizer is not None) == (variant == "lab2")
    if binary:
        modes = {get_quantizer(k).mode for k in kernels}
        assert modes == {VARIANTS[variant][0]}
        assert len({id(get_quantizer(k)) for k in kernels}) == 2  # one scale per matrix
        assert [get_quantizer(k).groups for k in kernels] == [4, 4]  # LSTM: one per gate
    out = model(np.array([[1, 2, 3, 4]], "int32"))
    assert out.shape == (1, 4, 11)


@pytest.mark.parametrize("variant", ["binaryconnect", "bwn", "lab", "lab2"])
def test_binarize_output_binarizes_the_softmax_layer_with_the_lstm_mode(variant):
    model = build_char_lstm(vocab_size=11, variant=variant, units=6, binarize_output=True)
    logits = model.get_layer("logits")
    assert is_binary_variable(logits.kernel)
    assert get_quantizer(logits.kernel).mode == VARIANTS[variant][0]
    assert get_quantizer(logits.kernel).groups == 1
    kernel = np.asarray(logits.kernel.value)
    effective = np.asarray(get_quantizer(logits.kernel)(logits.kernel.value))
    np.testing.assert_array_equal(np.sign(effective), np.where(kernel >= 0, 1.0, -1.0))
    assert len(np.unique(np.abs(effective).round(7))) == 1  # one alpha for the matrix


def test_binarize_output_leaves_full_precision_alone():
    model = build_char_lstm(vocab_size=11, variant="full", units=6, binarize_output=True)
    assert not is_binary_variable(model.get_layer("logits").kernel)


def test_unit_scale_gives_every_kernel_column_its_own_alpha():
    model = build_char_lstm(vocab_size=7, variant="bwn", units=3, scale="unit",
                            binarize_output=True)
    lstm, logits = model.get_layer("lstm"), model.get_layer("logits")
    kernels = [lstm.cell.kernel, lstm.cell.recurrent_kernel, logits.kernel]
    assert [get_quantizer(k).groups for k in kernels] == [12, 12, 7]
    for kernel in kernels:
        w = np.asarray(kernel.value)
        expected = np.abs(w).mean(axis=0) * np.where(w >= 0, 1.0, -1.0)
        got = np.asarray(get_quantizer(kernel)(kernel.value))
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        assert len(np.unique(np.abs(got).round(7))) == w.shape[-1]  # one magnitude per column


def test_unit_scale_lab_alpha_has_one_entry_per_column():
    model = build_char_lstm(vocab_size=5, variant="lab", units=2, scale="unit",
                            binarize_output=True)
    alphas = [get_quantizer(k).alpha for k in
              (model.get_layer("lstm").cell.kernel, model.get_layer("logits").kernel)]
    assert [tuple(a.shape) for a in alphas] == [(8,), (5,)]


def test_sample_text_generates_characters_of_the_vocabulary():
    chars = "abc d"
    model = build_char_lstm(vocab_size=len(chars), variant="bwn", units=4)
    encode = lambda s: np.array([chars.index(c) for c in s], "int32")  # noqa: E731
    decode = lambda ids: "".join(chars[i] for i in ids)  # noqa: E731
    text = sample_text(model, encode, decode, prime="ab", length=7, seed=3)
    assert len(text) == 7 and set(text) <= set(chars)
    assert text == sample_text(model, encode, decode, prime="ab", length=7, seed=3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown variant"):
        build_char_lstm(10, variant="xnor")
    with pytest.raises(ValueError, match="Unknown scale"):
        build_char_lstm(10, variant="lab", scale="channel")
    with pytest.raises(ValueError, match="vocab_size"):
        build_char_lstm(1)
    model = build_char_lstm(5, units=2)
    with pytest.raises(ValueError, match="prime"):
        sample_text(model, None, None, prime="")

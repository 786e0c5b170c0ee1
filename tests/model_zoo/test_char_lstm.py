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
    kernels = [lstm.cell.kernel, lstm.cell.recurrent_kernel, logits.kernel]
    binary = variant != "full"
    assert [is_binary_variable(k) for k in kernels] == [binary] * 3
    assert lstm.input_quantizer is None  # one-hot inputs are never binarized
    assert (lstm.recurrent_input_quantizer is not None) == (variant == "lab2")
    if binary:
        modes = {get_quantizer(k).mode for k in kernels}
        assert modes == {VARIANTS[variant][0]}
        assert len({id(get_quantizer(k)) for k in kernels}) == 3  # one scale per matrix
        assert [get_quantizer(k).groups for k in kernels] == [4, 4, 1]  # LSTM: one per gate
    out = model(np.array([[1, 2, 3, 4]], "int32"))
    assert out.shape == (1, 4, 11)


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
    with pytest.raises(ValueError, match="vocab_size"):
        build_char_lstm(1)
    model = build_char_lstm(5, units=2)
    with pytest.raises(ValueError, match="prime"):
        sample_text(model, None, None, prime="")

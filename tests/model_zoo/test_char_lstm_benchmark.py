"""The char-LSTM benchmark script's options reach the model it trains (tiny synthetic text)."""

from __future__ import annotations

import pytest

from keras_binary.precision import get_quantizer, is_binary_variable
from model_zoo.datasets import CharVocabulary
from tests.benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("char_lstm")


# Synthetic text (not a corpus): enough windows for the 90/5/5 split at 8 characters a window.
TEXT = "the cat sat on the mat; a dog ran to the log. " * 40


@pytest.mark.parametrize("binarize_output", [False, True])
def test_binarize_output_flag_reaches_the_softmax_layer(bench, binarize_output):
    flags = ["--units", "4", "--seq-len", "8", "--batch-size", "4", "--epochs", "1",
             "--scale", "unit"] + (["--binarize-output"] if binarize_output else [])
    args = bench.parse_args(flags)
    assert args.binarize_output is binarize_output
    row, model = bench.train_variant("lab", TEXT, CharVocabulary.from_text(TEXT), args)
    logits = model.get_layer("logits").kernel
    assert is_binary_variable(model.get_layer("lstm").cell.kernel)
    assert is_binary_variable(logits) is binarize_output
    if binarize_output:
        assert get_quantizer(logits).groups == logits.shape[-1]  # --scale unit: per vocab entry
    assert row["variant"] == "lab" and row["test_cross_entropy"] > 0

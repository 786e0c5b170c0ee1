"""The table that `keras_binary.summary` prints and the profile it returns."""

import keras
import pytest

from keras_binary import summary
from keras_binary.model_summary import COMPRESSION_LABEL
from keras_binary.profile import ModelProfile
from tests.test_profile import binary_dense, small_model


def printed(model, **kwargs):
    lines = []
    profile = summary(model, print_fn=lines.append, **kwargs)
    return profile, lines


def cells(line):
    return [cell.strip() for cell in line.split("|")]


def statistics(lines):
    return dict((part.strip() for part in line.split(" : ", 1)) for line in lines if " : " in line)


def test_table_rows_and_statistics_by_hand():
    model = small_model()
    profile, lines = printed(model)
    assert isinstance(profile, ModelProfile)
    assert lines[0] == f'Model: "{model.name}"'
    header = cells(lines[1])
    assert header == [
        "Layer",
        "Type",
        "Input prec. (bit)",
        "Output shape",
        "# 1-bit params",
        "# 32-bit params",
        "Memory (KiB)",
        "1-bit MACs",
        "32-bit MACs",
    ]
    rows = {cells(line)[0]: dict(zip(header, cells(line), strict=True)) for line in lines[3:6]}
    first, last = model.layers[0].name, model.layers[2].name
    assert rows[first] == {
        "Layer": first,
        "Type": "QuantDense",
        "Input prec. (bit)": "-",
        "Output shape": "(None, 4)",
        "# 1-bit params": "32",
        "# 32-bit params": "4",
        "Memory (KiB)": f"{(32 / 8 + 4 * 4) / 1024:.2f}",
        "1-bit MACs": "0",
        "32-bit MACs": "32",
    }
    assert rows[last]["Input prec. (bit)"] == "1"
    assert rows[last]["1-bit MACs"] == "12"
    totals = cells(lines[7])
    assert totals[0] == "Total"
    assert totals[4:] == ["44", "23", f"{(44 / 8 + 23 * 4) / 1024:.2f}", "12", "32"]

    stats = statistics(lines)
    assert stats["Total params"] == "67"
    assert stats["Trainable params"] == "59"
    assert stats["Non-trainable params"] == "8"
    assert stats["Model size (binary weights packed)"] == f"{(44 / 8 + 23 * 4) / 1024:.2f} KiB"
    assert stats["Float-32 equivalent"] == f"{67 * 4 / 1024:.2f} KiB"
    assert stats[COMPRESSION_LABEL] == f"{67 * 4 / (44 / 8 + 23 * 4):.2f}"
    assert stats["Number of MACs"] == "44"
    assert stats["Ratio of MACs that are binary"] == f"{12 / 44:.4f}"


def test_without_macs():
    profile, lines = printed(small_model(), include_macs=False)
    assert not any("MACs" in line for line in lines)
    assert profile.total_macs == 0
    assert statistics(lines)["Total params"] == "67"


def test_other_precisions_get_their_own_columns():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, dtype="float16")])
    _, lines = printed(model)
    header = cells(lines[1])
    assert "# 16-bit params" in header and "16-bit MACs" in header
    row = dict(zip(header, cells(lines[3]), strict=True))
    assert (row["# 16-bit params"], row["# 1-bit params"], row["16-bit MACs"]) == ("8", "0", "6")


def test_nested_functional_rows_and_unknown_length_footnote():
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, binary_dense(5, name="bin")(inner_in), name="block")
    seq_in = keras.Input((None, 6))
    x = keras.layers.SimpleRNN(6, name="rnn")(seq_in)
    model = keras.Model(seq_in, inner(x))
    _, lines = printed(model)
    names = [cells(line)[0] for line in lines[3:5]]
    assert names == ["rnn", "block/bin"]
    assert cells(lines[3])[-1] == f"{6 * 6 + 6 * 6}*"
    assert lines[-1].startswith("* MACs per unit of an unknown dimension")


def test_prints_with_print_by_default(capsys):
    summary(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="only")]))
    assert "only" in capsys.readouterr().out


def test_print_fn_must_be_callable():
    with pytest.raises(TypeError, match="print_fn"):
        summary(small_model(), print_fn="stdout")

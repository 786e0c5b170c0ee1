"""QuantLSTMCell / QuantLSTM against Keras's LSTM with quantized weights and a numpy LSTM step."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary import summary
from keras_binary.layers.recurrent import QuantLSTM, QuantLSTMCell
from keras_binary.optimizers import LAB, Bop, CaseOptimizer
from keras_binary.precision import get_quantizer, is_binary_variable
from tests.autodiff import vjp
from tests.layers.helpers import ScaledSign, random_inputs

BINARY = {"kernel_quantizer": "ste_sign", "recurrent_quantizer": "ste_sign",
          "kernel_constraint": "weight_clip", "recurrent_constraint": "weight_clip"}


def np_sign(x):
    return np.where(x >= 0, 1.0, -1.0).astype("float32")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    """One LSTM step in numpy (Keras gate order i, f, c~, o)."""
    z = x @ kernel + h @ recurrent_kernel + bias
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    c_new = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_c)
    h_new = sigmoid(z_o) * np.tanh(c_new)
    return h_new, c_new


def spread_weights(layer, seed=1):
    """Latent weights in [-1.5, 1.5] (some beyond the STE clip) and a random bias."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-1.5, 1.5, w.shape).astype("float32")
                       for w in layer.get_weights()])


def keras_lstm_like(layer, **overrides):
    """A keras.layers.LSTM with `layer`'s configuration and its *quantized* weights."""
    config = layer.get_config()
    for name in ("input_quantizer", "kernel_quantizer", "recurrent_quantizer",
                 "recurrent_input_quantizer", "kernel_constraint", "recurrent_constraint"):
        config.pop(name)
    config.update(name="reference", **overrides)
    reference = keras.layers.LSTM.from_config(config)
    return reference


def quantized_weights(cell):
    kernel, recurrent_kernel = (np.asarray(w) for w in cell.quantized_weights())
    return kernel, recurrent_kernel, np.asarray(cell.bias)


def test_cell_equals_keras_lstm_cell_with_quantized_weights_and_inputs():
    x = random_inputs((3, 5))
    states = [random_inputs((3, 4), seed=2), random_inputs((3, 4), seed=3)]
    cell = QuantLSTMCell(4, input_quantizer="ste_sign", **BINARY)
    cell(x, states)
    spread_weights(cell)
    reference = keras.layers.LSTMCell(4)
    reference(x, states)
    reference.set_weights([np_sign(cell.kernel.numpy()), np_sign(cell.recurrent_kernel.numpy()),
                           cell.bias.numpy()])
    h, (h_state, c_state) = cell(x, states)
    h_ref, (_, c_ref) = reference(np_sign(x), states)
    np.testing.assert_allclose(np.asarray(h), np.asarray(h_ref), atol=1e-6)
    np.testing.assert_allclose(np.asarray(h_state), np.asarray(h), atol=0)
    np.testing.assert_allclose(np.asarray(c_state), np.asarray(c_ref), atol=1e-6)


def test_cell_binarizes_hidden_input_against_numpy_step():
    x = random_inputs((2, 3))
    h0, c0 = random_inputs((2, 4), seed=4), random_inputs((2, 4), seed=5)
    cell = QuantLSTMCell(4, recurrent_input_quantizer="ste_sign", kernel_quantizer=ScaledSign(),
                         kernel_constraint="weight_clip")
    cell(x, [h0, c0])
    spread_weights(cell)
    cell.kernel_quantizer.alpha.assign(0.25)
    h, (_, c) = cell(x, [h0, c0])
    kernel = 0.25 * np_sign(cell.kernel.numpy())
    h_ref, c_ref = np_lstm_step(x, np_sign(h0), c0, kernel, cell.recurrent_kernel.numpy(),
                                cell.bias.numpy())
    np.testing.assert_allclose(np.asarray(h), h_ref, atol=1e-5)
    np.testing.assert_allclose(np.asarray(c), c_ref, atol=1e-5)


def test_gradients_reach_latent_kernels_through_the_pseudo_gradient():
    x = random_inputs((3, 5))
    states = [random_inputs((3, 4), seed=2), random_inputs((3, 4), seed=3)]
    cell = QuantLSTMCell(4, **BINARY)
    cell(x, states)
    spread_weights(cell)
    reference = keras.layers.LSTMCell(4)
    reference(x, states)
    latent = [np.asarray(w) for w in cell.get_weights()]
    upstream = random_inputs((3, 4), seed=6)

    def output_of(layer, others):
        def fn(kernel):
            seeds = [v.value for v in layer.non_trainable_variables]  # dropout seed state
            (h, _), _ = layer.stateless_call([kernel, *others], seeds, x, states)
            return h
        return fn

    _, grad = vjp(output_of(cell, latent[1:]), latent[0], upstream, compiled=False)
    signed = [np_sign(latent[0]), np_sign(latent[1]), latent[2]]
    _, grad_ref = vjp(output_of(reference, signed[1:]), signed[0], upstream, compiled=False)
    inside_clip = np.abs(latent[0]) <= 1.0
    assert inside_clip.any() and (~inside_clip).any()
    np.testing.assert_allclose(grad, grad_ref * inside_clip, atol=1e-6)
    assert np.abs(grad[inside_clip]).max() > 0


@pytest.mark.parametrize("options", [
    {"return_sequences": True, "return_state": True},
    {"go_backwards": True, "return_state": True},
    {"return_sequences": True, "unroll": True},
])
def test_layer_equals_keras_lstm_with_quantized_weights(options):
    x = random_inputs((2, 6, 3))
    layer = QuantLSTM(4, input_quantizer="ste_sign", **BINARY, **options)
    layer(x)
    spread_weights(layer)
    reference = keras_lstm_like(layer, use_cudnn=False)
    reference(x)
    reference.set_weights(list(quantized_weights(layer.cell)))
    outputs = layer(x)
    expected = reference(np_sign(x))
    for out, ref in zip(keras.tree.flatten(outputs), keras.tree.flatten(expected), strict=True):
        np.testing.assert_allclose(np.asarray(out), np.asarray(ref), atol=1e-5)


def test_layer_equals_its_cell_in_keras_rnn():
    """Quantizing the kernels once per sequence gives the per-step result."""
    x = random_inputs((2, 5, 3))
    layer = QuantLSTM(4, return_sequences=True, recurrent_input_quantizer="ste_sign", **BINARY)
    layer(x)
    spread_weights(layer)
    rnn = keras.layers.RNN(QuantLSTMCell.from_config(layer.cell.get_config()),
                           return_sequences=True)
    rnn(x)
    rnn.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(rnn(x)), atol=1e-6)


def test_masking_keeps_state_over_masked_steps():
    x = random_inputs((2, 5, 3))
    x[0, 3:] = 0.0
    mask = np.ones((2, 5), bool)
    mask[0, 3:] = False
    layer = QuantLSTM(4, return_sequences=True, **BINARY)
    layer(x)
    spread_weights(layer)
    reference = keras_lstm_like(layer, use_cudnn=False)
    reference(x)
    reference.set_weights(list(quantized_weights(layer.cell)))
    out = np.asarray(layer(x, mask=mask))
    np.testing.assert_allclose(out, np.asarray(reference(x, mask=mask)), atol=1e-5)
    np.testing.assert_allclose(out[0, 3], out[0, 2])  # masked steps repeat the last output


def test_stateful_carries_and_resets_state_like_keras():
    batches = [random_inputs((2, 3, 3), seed=s) for s in (7, 8)]
    layer = QuantLSTM(4, stateful=True, **BINARY)
    layer(batches[0])
    spread_weights(layer)
    layer.reset_state()
    reference = keras_lstm_like(layer, use_cudnn=False)
    reference(batches[0])
    reference.set_weights(list(quantized_weights(layer.cell)))
    reference.reset_state()
    first, second = (np.asarray(layer(b)) for b in batches)
    ref_first, ref_second = (np.asarray(reference(b)) for b in batches)
    np.testing.assert_allclose(first, ref_first, atol=1e-5)
    np.testing.assert_allclose(second, ref_second, atol=1e-5)
    layer.reset_state()
    reference.reset_state()
    fresh = np.asarray(layer(batches[1]))
    np.testing.assert_allclose(fresh, np.asarray(reference(batches[1])), atol=1e-5)
    assert np.abs(fresh - second).max() > 1e-4  # `second` started from the carried state


def test_dropout_only_in_training():
    x = random_inputs((2, 4, 3))
    layer = QuantLSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1, **BINARY)
    plain = QuantLSTM(4, **BINARY)
    layer(x)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), np.asarray(plain(x)),
                               atol=1e-6)
    assert np.abs(np.asarray(layer(x, training=True)) - np.asarray(plain(x))).max() > 1e-3


def test_kernels_record_their_quantizers_and_layer_quantizers_are_built():
    layer = QuantLSTM(4, kernel_quantizer=ScaledSign(), recurrent_quantizer="ste_sign",
                      recurrent_constraint="weight_clip", kernel_constraint="weight_clip")
    layer(random_inputs((1, 2, 3)))
    assert get_quantizer(layer.cell.kernel) is layer.kernel_quantizer
    assert layer.kernel_quantizer.built and layer.kernel_quantizer.alpha.shape == ()
    assert is_binary_variable(layer.cell.recurrent_kernel)
    assert not is_binary_variable(layer.cell.bias)
    precisions = (layer.kernel_precision, layer.recurrent_precision, layer.input_precision)
    assert precisions == (1, 1, None)


def test_save_and_load_round_trip_keeps_quantizer_state(tmp_path):
    x = random_inputs((2, 5, 3))
    model = keras.Sequential([
        keras.Input((5, 3)),
        QuantLSTM(4, kernel_quantizer=ScaledSign(), recurrent_quantizer="ste_sign",
                  recurrent_input_quantizer="ste_sign", kernel_constraint="weight_clip",
                  recurrent_constraint="weight_clip", return_sequences=True),
    ])
    spread_weights(model.layers[0])
    model.layers[0].kernel_quantizer.alpha.assign(0.5)
    path = tmp_path / "lstm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    lstm = loaded.layers[0]
    assert isinstance(lstm, QuantLSTM)
    assert float(lstm.kernel_quantizer.alpha.numpy()) == 0.5
    assert lstm.recurrent_input_quantizer == model.layers[0].recurrent_input_quantizer
    config, original = lstm.get_config(), model.layers[0].get_config()
    assert config.pop("kernel_quantizer")["class_name"] == "ScaledSign"
    original.pop("kernel_quantizer")
    assert config == original
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=0)


def test_trains_with_lab_and_bop():
    x = random_inputs((4, 5, 3))
    y = random_inputs((4, 4), seed=9)
    with pytest.warns(UserWarning, match="latent weights may grow"):  # LAB bounds them itself
        lab_layer = QuantLSTM(4, kernel_quantizer="lab", recurrent_quantizer="lab",
                              recurrent_input_quantizer="ste_sign")
    lab_model = keras.Sequential([keras.Input((5, 3)), lab_layer])
    lab_model.compile(LAB(0.01), "mse")
    lab_model.fit(x, y, epochs=1, verbose=0)
    cell = lab_model.layers[0].cell
    for kernel, quantizer in ((cell.kernel, cell.kernel_quantizer),
                              (cell.recurrent_kernel, cell.recurrent_quantizer)):
        assert np.abs(kernel.numpy()).max() <= 1.0
        assert float(quantizer.alpha.numpy()) != 1.0  # set in closed form by LAB

    bop_model = keras.Sequential([keras.Input((5, 3)), QuantLSTM(4, **BINARY)])
    bop_model.compile(CaseOptimizer((is_binary_variable, Bop(threshold=0.0)),
                                    default_optimizer=keras.optimizers.Adam(0.01)), "mse")
    bias_before = bop_model.layers[0].cell.bias.numpy().copy()
    bop_model.fit(x, y, epochs=1, verbose=0)
    bop_cell = bop_model.layers[0].cell
    for kernel in (bop_cell.kernel, bop_cell.recurrent_kernel):
        np.testing.assert_array_equal(np.abs(kernel.numpy()), 1.0)  # binary, flipped by Bop
    assert not np.array_equal(bop_cell.bias.numpy(), bias_before)


def test_summary_counts_binary_lstm_macs():
    model = keras.Sequential([keras.Input((5, 3)), QuantLSTM(
        4, input_quantizer="ste_sign", recurrent_input_quantizer="ste_sign", **BINARY)])
    lines = []
    profile = summary(model, print_fn=lines.append)
    lstm = profile.layers[0]
    assert lstm.params[1] == 3 * 16 + 4 * 16
    assert lstm.macs == {1: (3 * 16 + 4 * 16) * 5}


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="cuDNN"):
        QuantLSTM(4, use_cudnn=True)
    shared = ScaledSign()
    with pytest.raises(ValueError, match="separate instance"):
        QuantLSTM(4, kernel_quantizer=shared, recurrent_quantizer=shared,
                  kernel_constraint="weight_clip", recurrent_constraint="weight_clip")
    with pytest.raises(ValueError, match="recurrent_input_quantizer"):
        QuantLSTMCell(4, recurrent_input_quantizer="no_such_quantizer")
    with pytest.raises(ValueError, match="no_such_constraint"):
        QuantLSTM(4, kernel_constraint="no_such_constraint")

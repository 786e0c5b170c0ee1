"""Non-finite values are noticed: a NaN input sample makes the loss NaN (TerminateOnNaN fires),
and TerminateOnNonFinite stops training naming the first layer with a non-finite state."""

import keras
import numpy as np

from keras_binary.callbacks import TerminateOnNonFinite
from keras_binary.layers import QuantDense
from keras_binary.non_finite import first_non_finite
from tests.backend_options import JIT_COMPILE
from tests.optimizers.helpers import binary_model, bop_adam, data


def with_nan_sample(x: np.ndarray, row: int) -> np.ndarray:
    x = x.copy()
    x[row, 0] = np.nan
    return x


def test_nan_input_sample_gives_nan_loss_and_terminate_on_nan_fires():
    # On main before sign(NaN) = NaN, the input quantizer turned the NaN into -1: the loss
    # stayed finite and TerminateOnNaN never fired while BatchNorm statistics went NaN.
    x, y = data(n=32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((x.shape[1],)),
        QuantDense(16, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                   kernel_constraint="weight_clip", use_bias=False, name="binary_1"),
        keras.layers.BatchNormalization(name="bn"),
        QuantDense(1, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                   kernel_constraint="weight_clip", name="binary_2"),
    ])
    model.compile(optimizer=bop_adam(), loss="mse", jit_compile=JIT_COMPILE)
    history = model.fit(with_nan_sample(x, 20), y, batch_size=8, epochs=3, shuffle=False,
                        verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert model.stop_training
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])


def test_terminate_on_non_finite_names_the_batch_norm_layer_in_fit():
    x, y = data(n=32)
    model = binary_model()  # binary -> bn -> head
    model.compile(optimizer=bop_adam(), loss="mse", jit_compile=JIT_COMPILE)
    stop = TerminateOnNonFinite(verbose=0)
    history = model.fit(with_nan_sample(x, 12), y, batch_size=8, epochs=3, shuffle=False,
                        verbose=0, callbacks=[stop])
    assert stop.message == ("TerminateOnNonFinite: stopped training at epoch 1, batch 2: "
                            "layer 'bn': statistic 'moving_mean' is non-finite")
    assert len(history.history["loss"]) == 1
    # The optimizer skipped the NaN step: weights and optimizer state are intact.
    assert int(model.optimizer.skipped_steps) == 1
    for layer in ("binary", "head"):
        for variable in model.get_layer(layer).weights:
            assert np.isfinite(keras.ops.convert_to_numpy(variable)).all()


def test_terminate_on_non_finite_lets_finite_training_run():
    x, y = data(n=32)
    model = binary_model()
    model.compile(optimizer=bop_adam(), loss="mse")
    stop = TerminateOnNonFinite(verbose=0)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[stop])
    assert stop.message is None and len(history.history["loss"]) == 2


def test_first_non_finite_names_weights_then_optimizer_state_of_the_first_layer():
    model = binary_model()
    optimizer = bop_adam()
    optimizer.build(model.trainable_variables)
    assert first_non_finite(model, optimizer) is None
    adam = optimizer.optimizers[1]
    slot = [v for v in adam.variables if "head_kernel" in v.name][0]
    slot.assign(np.full(slot.shape, np.inf, "float32"))
    assert first_non_finite(model, optimizer) == (
        f"layer 'head': optimizer state {slot.name!r} is non-finite")
    bias = model.get_layer("head").bias
    bias.assign(np.full(bias.shape, np.nan, "float32"))
    assert first_non_finite(model, optimizer) == "layer 'head': weight 'bias' is non-finite"
    model.get_layer("bn").moving_variance.assign(np.full((8,), np.nan, "float32"))
    assert first_non_finite(model, optimizer) == (
        "layer 'bn': statistic 'moving_variance' is non-finite")
    adam.learning_rate.assign(np.nan)
    model.get_layer("bn").moving_variance.assign(np.ones((8,), "float32"))
    bias.assign(np.zeros(bias.shape, "float32"))
    slot.assign(np.zeros(slot.shape, "float32"))
    assert first_non_finite(model, optimizer) == (
        f"optimizer {adam.name!r}: variable 'learning_rate' is non-finite")

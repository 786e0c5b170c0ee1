"""LAB: one step against the paper's closed form in numpy; BinaryConnect/BWN; plain Adam."""

import keras
import numpy as np
import pytest

from keras_binary.layers import QuantDense
from keras_binary.optimizers import LAB
from keras_binary.precision import set_quantizer
from keras_binary.quantizers import LossAwareBinarizer
from keras_binary.quantizers.loss_aware import grouped_scale

W0 = np.array([[0.9, -0.2], [0.05, -0.98], [0.4, 0.3]], "float32")
G1 = np.array([[-2.0, 0.5], [0.1, 3.0], [-0.3, 0.0]], "float32")
G2 = np.array([[1.0, -0.5], [0.2, -1.0], [0.7, 0.4]], "float32")


def lab_kernel(mode: str) -> tuple[keras.Variable, LossAwareBinarizer]:
    kernel = keras.Variable(W0, name="kernel")
    quantizer = LossAwareBinarizer(mode)
    quantizer.build(W0.shape)
    set_quantizer(kernel, quantizer)
    return kernel, quantizer


def numpy_lab(w, m, v, g, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    d = np.sqrt(v / (1 - b2**t)) + eps
    w = np.clip(w - lr * (m / (1 - b1**t)) / d, -1.0, 1.0)
    return w, m, v, np.sum(d * np.abs(w)) / np.sum(d)


@pytest.mark.parametrize("mode", ["lab", "bwn", "binary_connect"])
def test_two_steps_match_the_closed_form(mode):
    kernel, quantizer = lab_kernel(mode)
    variables = [kernel] + ([quantizer.alpha] if mode == "lab" else [])
    optimizer = LAB(learning_rate=0.1)
    optimizer.build(variables)
    if mode == "lab":  # build: alpha = closed form with uniform d = mean |w|
        np.testing.assert_allclose(quantizer.alpha.numpy(), np.mean(np.abs(W0)), rtol=1e-6)
    w, m, v = W0.astype("float64"), 0.0, 0.0
    for t, g in enumerate((G1, G2), start=1):
        grads = [g] + ([np.float32(123.0)] if mode == "lab" else [])  # alpha's grad is ignored
        optimizer.apply([keras.ops.convert_to_tensor(x) for x in grads], variables)
        w, m, v, alpha = numpy_lab(w, m, v, g, t, lr=0.1)
        np.testing.assert_allclose(kernel.numpy(), w, rtol=1e-5, atol=1e-6)
        if mode == "lab":
            np.testing.assert_allclose(quantizer.alpha.numpy(), alpha, rtol=1e-5)
    assert np.abs(kernel.numpy()).max() <= 1.0 and np.abs(w).max() == 1.0  # the clip was hit
    expected_scale = {"lab": alpha, "bwn": np.mean(np.abs(w)), "binary_connect": 1.0}[mode]
    w_hat = np.asarray(quantizer(kernel))
    np.testing.assert_allclose(w_hat, expected_scale * np.where(w >= 0, 1, -1), rtol=1e-5)


def test_uniform_d_gives_bwn_scale():
    d = np.full(W0.shape, 0.7, "float32")
    np.testing.assert_allclose(grouped_scale(W0, d), np.mean(np.abs(W0)), rtol=1e-6)


def test_other_variables_get_plain_adam():
    bias = keras.Variable(np.array([0.5, -0.5], "float32"), name="bias")
    reference = keras.Variable(np.array([0.5, -0.5], "float32"), name="ref")
    lab, adam = LAB(0.1), keras.optimizers.Adam(0.1, epsilon=1e-8)
    for g in (np.array([1.0, -2.0], "float32"), np.array([0.5, 0.5], "float32")):
        lab.apply([keras.ops.convert_to_tensor(g)], [bias])
        adam.apply([keras.ops.convert_to_tensor(g)], [reference])
    np.testing.assert_allclose(bias.numpy(), reference.numpy(), rtol=1e-6)


def test_config_round_trip_and_amsgrad_refused():
    config = LAB(learning_rate=0.02, beta_2=0.99).get_config()
    restored = LAB.from_config(config)
    assert np.isclose(float(restored.learning_rate), 0.02) and restored.beta_2 == 0.99
    with pytest.raises(ValueError, match="amsgrad"):
        LAB(amsgrad=True)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_first_forward_sees_build_values(jit_compile):
    """`fit` builds the optimizer inside the traced first step on single-device TF; the first
    forward pass must still see the clipped kernel's alpha = mean |clip(w)|, not alpha's init."""
    w = 1.5 * W0  # some entries beyond [-1, 1]: the build's clip changes alpha
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)).astype("float32")
    y = rng.normal(size=(4, 2)).astype("float32")
    with pytest.warns(UserWarning, match="latent weights may grow"):  # the LAB step bounds them
        layer = QuantDense(2, kernel_quantizer="lab", use_bias=False)
    model = keras.Sequential([keras.Input((3,)), layer])
    model.layers[0].kernel.assign(w)
    model.compile(optimizer=LAB(0.1), loss="mse", jit_compile=jit_compile)
    loss = model.fit(x, y, batch_size=4, epochs=1, verbose=0).history["loss"][0]
    alpha = np.mean(np.abs(np.clip(w, -1.0, 1.0)))
    expected = np.mean((x @ (alpha * np.where(w >= 0, 1.0, -1.0)) - y) ** 2)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_grouped_alpha_is_the_closed_form_per_block():
    w0 = np.random.default_rng(3).uniform(-1.2, 1.2, (3, 4)).astype("float32")
    g = np.random.default_rng(4).normal(size=(3, 4)).astype("float32")
    kernel = keras.Variable(w0, name="kernel")
    quantizer = LossAwareBinarizer("lab", groups=2)
    quantizer.build(w0.shape)
    set_quantizer(kernel, quantizer)
    optimizer = LAB(learning_rate=0.1)
    optimizer.build([kernel, quantizer.alpha])
    w = np.clip(w0, -1, 1)
    np.testing.assert_allclose(quantizer.alpha.numpy(), np.abs(w).reshape(3, 2, 2).mean((0, 2)),
                               rtol=1e-6)
    optimizer.apply([keras.ops.convert_to_tensor(g), keras.ops.zeros((2,))],
                    [kernel, quantizer.alpha])
    w, _, v, _ = numpy_lab(w.astype("float64"), 0.0, 0.0, g, 1, lr=0.1)
    d = np.sqrt(v / (1 - 0.999)) + 1e-8
    expected = [np.sum(d[:, b] * np.abs(w[:, b])) / np.sum(d[:, b])
                for b in (slice(0, 2), slice(2, 4))]
    np.testing.assert_allclose(quantizer.alpha.numpy(), expected, rtol=1e-5)

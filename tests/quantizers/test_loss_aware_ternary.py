"""LossAwareTernarizer (LAT): forward alpha * ternary(w), straight-through gradients, the
alternating alpha fit against numpy, config, and one LAB step against a hand-computed step."""

import keras
import numpy as np
import pytest

from keras_binary import quantizers
from keras_binary.optimizers import LAB
from keras_binary.precision import set_quantizer
from keras_binary.quantizers import LossAwareTernarizer
from keras_binary.quantizers.loss_aware import _scaled_codes, is_loss_aware_scale
from keras_binary.quantizers.loss_aware_ternary import ternary_scale
from tests.autodiff import vjp

W = np.array([[0.5, -0.25], [0.0, -1.0], [0.75, 0.1]], "float32")


def numpy_codes(w, alpha):
    return np.where(np.abs(w) > alpha / 2, np.where(w >= 0, 1.0, -1.0), 0.0)


def numpy_ternary_scale(w, d, groups=1, iterations=2):
    """The alternating fit, block by block, in float64."""
    w, d = np.asarray(w, "float64"), np.asarray(d, "float64")
    cols = w.shape[-1] // groups
    alphas = []
    for g in range(groups):
        wb, db = w[..., g * cols:(g + 1) * cols], d[..., g * cols:(g + 1) * cols]
        alpha = np.sum(db * np.abs(wb)) / np.sum(db)
        for _ in range(iterations):
            keep = np.abs(wb) > alpha / 2
            if keep.any():
                alpha = np.sum(db * np.abs(wb) * keep) / np.sum(db * keep)
        alphas.append(alpha)
    return alphas[0] if groups == 1 else np.array(alphas)


def test_forward_is_alpha_times_ternary_codes():
    q = LossAwareTernarizer()
    q.build(W.shape)
    q.alpha.assign(0.6)  # threshold 0.3: -0.25, 0.0 and 0.1 become 0
    expected = 0.6 * np.array([[1, 0], [0, -1], [1, 0]], "float32")
    np.testing.assert_allclose(np.asarray(q(W)), expected, rtol=1e-6)
    np.testing.assert_array_equal(numpy_codes(W, 0.6), expected / 0.6)


@pytest.mark.parametrize("compiled", [False, True])
def test_gradient_is_straight_through_to_w_and_code_sum_to_alpha(compiled):
    upstream = np.array([[1.0, 2.0], [-3.0, 0.5], [4.0, -1.0]], "float32")
    alpha = np.float32(0.6)
    codes = numpy_codes(W, 0.6)
    y, dw = vjp(lambda w: _scaled_codes(w, alpha, ternary=True), W, upstream, compiled)
    np.testing.assert_allclose(y, alpha * codes, rtol=1e-6)
    np.testing.assert_array_equal(dw, upstream)  # zeroed weights still get their gradient
    _, dalpha = vjp(lambda a: _scaled_codes(W, a, ternary=True), alpha, upstream, compiled)
    np.testing.assert_allclose(dalpha, np.sum(upstream * codes), rtol=1e-6)


@pytest.mark.parametrize("groups, iterations", [(1, 1), (1, 3), (2, 2)])
def test_alternating_fit_matches_numpy(groups, iterations):
    rng = np.random.default_rng(groups * 10 + iterations)
    w = rng.uniform(-1, 1, (5, 4)).astype("float32")
    d = rng.uniform(0.1, 2.0, (5, 4)).astype("float32")
    got = keras.ops.convert_to_numpy(ternary_scale(w, d, groups, iterations))
    expected = numpy_ternary_scale(w, d, groups, iterations)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_the_fit_lowers_the_weighted_error_of_the_binary_scale():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.3, (64, 32)).astype("float32")
    d = rng.uniform(0.5, 1.5, w.shape).astype("float32")

    def error(alpha, ternary):
        codes = numpy_codes(w, alpha) if ternary else np.where(w >= 0, 1.0, -1.0)
        return np.sum(d * (w - alpha * codes) ** 2)

    binary_alpha = np.sum(d * np.abs(w)) / np.sum(d)
    alpha = float(keras.ops.convert_to_numpy(ternary_scale(w, d, iterations=5)))
    assert error(alpha, True) < error(binary_alpha, False)


def test_a_block_with_no_weight_above_threshold_keeps_its_alpha():
    w = np.zeros((3, 2), "float32")  # every |w| = 0: no code survives any threshold
    got = keras.ops.convert_to_numpy(ternary_scale(w, np.ones_like(w)))
    assert np.isfinite(got) and got == 0.0


def test_alias_precision_config_round_trip_and_bad_arguments():
    q = quantizers.get("lat")
    assert isinstance(q, LossAwareTernarizer) and q.precision == 2 and q.mode == "lat"
    assert quantizers.precision_of(q) == 2
    q.build((3, 4))
    assert is_loss_aware_scale(q.alpha) and q.alpha.trainable
    q = LossAwareTernarizer(groups=2, iterations=3, name="t")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(q))
    assert isinstance(restored, LossAwareTernarizer)
    assert (restored.groups, restored.iterations) == (2, 3)
    with pytest.raises(ValueError, match="iterations must be a positive int"):
        LossAwareTernarizer(iterations=0)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        LossAwareTernarizer(groups=0)


def test_one_lab_step_matches_the_hand_computed_step():
    w0 = np.array([[0.9, -0.2], [0.05, -1.3], [0.4, 0.3]], "float32")
    g = np.array([[-2.0, 0.5], [0.1, 3.0], [-0.3, 0.0]], "float32")
    kernel = keras.Variable(w0, name="kernel")
    quantizer = LossAwareTernarizer(iterations=2)
    quantizer.build(w0.shape)
    set_quantizer(kernel, quantizer)
    optimizer = LAB(learning_rate=0.1)
    optimizer.build([kernel, quantizer.alpha])
    w = np.clip(w0.astype("float64"), -1, 1)  # build: clip, alpha fitted with uniform d
    np.testing.assert_allclose(quantizer.alpha.numpy(), numpy_ternary_scale(w, np.ones_like(w)),
                               rtol=1e-6)
    optimizer.apply([keras.ops.convert_to_tensor(g), keras.ops.zeros(())],
                    [kernel, quantizer.alpha])
    m, v = 0.1 * g, 0.001 * g * g
    d = np.sqrt(v / (1 - 0.999)) + 1e-8
    w = np.clip(w - 0.1 * (m / (1 - 0.9)) / d, -1, 1)
    np.testing.assert_allclose(kernel.numpy(), w, rtol=1e-5, atol=1e-6)
    alpha = numpy_ternary_scale(w, d)
    np.testing.assert_allclose(quantizer.alpha.numpy(), alpha, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(quantizer(kernel)), alpha * numpy_codes(w, alpha),
                               rtol=1e-5)

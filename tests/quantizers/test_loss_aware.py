"""LossAwareBinarizer: forward alpha * sign(w) per mode, straight-through gradients, config."""

import keras
import numpy as np
import pytest

from keras_binary import quantizers
from keras_binary.quantizers.loss_aware import (
    LossAwareBinarizer,
    _scaled_codes,
    grouped_scale,
    is_loss_aware_scale,
)
from tests.autodiff import vjp

W = np.array([[0.5, -0.25], [0.0, -1.0], [0.75, 0.1]], "float32")
SIGN = np.where(W >= 0, 1.0, -1.0).astype("float32")


@pytest.mark.parametrize(
    "mode, alpha",
    [("binary_connect", 1.0), ("bwn", float(np.mean(np.abs(W)))), ("lab", 0.3)],
)
def test_forward_is_alpha_times_sign(mode, alpha):
    q = LossAwareBinarizer(mode)
    q.build(W.shape)
    if mode == "lab":
        q.alpha.assign(alpha)
    np.testing.assert_allclose(np.asarray(q(W)), alpha * SIGN, rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_gradient_is_straight_through_to_w_and_sign_sum_to_alpha(compiled):
    upstream = np.array([[1.0, 2.0], [-3.0, 0.5], [4.0, -1.0]], "float32")
    alpha = np.float32(0.3)
    y, dw = vjp(lambda w: _scaled_codes(w, alpha), W, upstream, compiled)
    np.testing.assert_allclose(y, alpha * SIGN, rtol=1e-6)
    np.testing.assert_array_equal(dw, upstream)  # identity, no clipping, no alpha factor
    _, dalpha = vjp(lambda a: _scaled_codes(W, a), alpha, upstream, compiled)
    np.testing.assert_allclose(dalpha, np.sum(upstream * SIGN), rtol=1e-6)


def test_alias_modes_precision_and_scale_tag():
    q = quantizers.get("lab")
    assert isinstance(q, LossAwareBinarizer) and q.precision == 1 and q.mode == "lab"
    q.build((3, 2))
    assert is_loss_aware_scale(q.alpha) and q.alpha.trainable
    bwn = LossAwareBinarizer("bwn")
    bwn.build((3, 2))
    assert bwn.alpha is None and not bwn.weights


def test_config_round_trip_and_bad_mode():
    q = LossAwareBinarizer("bwn", name="q")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(q))
    assert isinstance(restored, LossAwareBinarizer) and restored.mode == "bwn"
    with pytest.raises(ValueError, match="mode must be one of"):
        LossAwareBinarizer("xnor")
    with pytest.raises(TypeError, match="floating-point"):
        LossAwareBinarizer("bwn")(np.array([1, -1], "int32"))


def test_one_instance_cannot_serve_two_kernels():
    from keras_binary.layers import QuantDense

    shared = LossAwareBinarizer("lab")
    first = QuantDense(3, kernel_quantizer=shared, kernel_constraint="weight_clip", name="first")
    first.build((None, 4))
    second = QuantDense(3, kernel_quantizer=shared, kernel_constraint="weight_clip", name="second")
    with pytest.raises(ValueError, match="already quantizes 'first.kernel'.*own quantizer"):
        second.build((None, 4))


def numpy_grouped_sign(w, alphas):
    per_channel = np.repeat(np.asarray(alphas, "float32"), w.shape[-1] // len(alphas))
    return per_channel * np.where(w >= 0, 1.0, -1.0)


@pytest.mark.parametrize("mode", ["lab", "bwn"])
def test_groups_give_one_alpha_per_block_of_the_last_axis(mode):
    w = np.random.default_rng(1).normal(size=(3, 8)).astype("float32")
    q = LossAwareBinarizer(mode, groups=4)
    q.build(w.shape)
    if mode == "lab":
        assert tuple(q.alpha.shape) == (4,)
        alphas = np.array([0.1, 0.2, 0.3, 0.4], "float32")
        q.alpha.assign(alphas)
    else:
        alphas = np.abs(w).reshape(3, 4, 2).mean(axis=(0, 2))
    np.testing.assert_allclose(np.asarray(q(w)), numpy_grouped_sign(w, alphas), rtol=1e-6)


def test_grouped_closed_form_and_alpha_gradient():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(5, 6)).astype("float32")
    d = rng.uniform(0.1, 2.0, size=w.shape).astype("float32")
    expected = [np.sum(d[:, b] * np.abs(w[:, b])) / np.sum(d[:, b])
                for b in (slice(0, 2), slice(2, 4), slice(4, 6))]
    np.testing.assert_allclose(grouped_scale(w, d, 3), expected, rtol=1e-6)
    np.testing.assert_allclose(grouped_scale(w, d, 1), np.sum(d * np.abs(w)) / np.sum(d),
                               rtol=1e-6)
    upstream = rng.normal(size=w.shape).astype("float32")
    alpha = np.repeat(np.array([0.5, 1.0, 2.0], "float32"), 2)
    _, dalpha = vjp(lambda a: _scaled_codes(w, a), alpha, upstream, False)
    np.testing.assert_allclose(dalpha, np.sum(upstream * np.where(w >= 0, 1, -1), axis=0),
                               rtol=1e-5)


def test_groups_must_divide_the_last_axis_and_round_trip():
    with pytest.raises(ValueError, match="multiple of 4"):
        LossAwareBinarizer("lab", groups=4).build((3, 6))
    with pytest.raises(ValueError, match="positive int"):
        LossAwareBinarizer("lab", groups=0)
    config = keras.saving.serialize_keras_object(LossAwareBinarizer("bwn", groups=4))
    assert keras.saving.deserialize_keras_object(config).groups == 4

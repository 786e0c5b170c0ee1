"""Forward values and pseudo-gradients of every quantizer against its formula (numpy)."""

import keras
import numpy as np
import pytest

from keras_binary import quantizers
from tests.autodiff import vjp


def np_sign(x):
    return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def sample(shape=(5, 7), seed=0):
    """Random values in [-2, 2] with exact zeros and clip boundaries (+/-1, +/-0.5) planted."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=shape).astype("float32")
    flat = x.reshape(-1)
    flat[:7] = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0]
    return x


# name -> (quantizer, forward(x), gradient scale(x)) written from the formulas in references.md
def _swish_grad(x, beta=5.0):
    return beta * (2 - beta * x * np.tanh(beta * x / 2)) / (1 + np.cosh(beta * x))


ELEMENTWISE = {
    "ste_sign": (quantizers.SteSign(), np_sign, lambda x: (np.abs(x) <= 1).astype("float32")),
    "ste_sign_clip_0.5": (
        quantizers.SteSign(clip_value=0.5),
        np_sign,
        lambda x: (np.abs(x) <= 0.5).astype("float32"),
    ),
    "approx_sign": (
        quantizers.ApproxSign(),
        np_sign,
        lambda x: np.where(np.abs(x) <= 1, 2 - 2 * np.abs(x), 0.0),
    ),
    "swish_sign": (quantizers.SwishSign(), np_sign, _swish_grad),
    "swish_sign_beta_2": (quantizers.SwishSign(beta=2.0), np_sign, lambda x: _swish_grad(x, 2.0)),
    "ste_heaviside": (
        quantizers.SteHeaviside(),
        lambda x: (x > 0).astype("float32"),
        lambda x: (np.abs(x) <= 1).astype("float32"),
    ),
    "ste_tern": (
        quantizers.SteTern(threshold_value=0.5),
        lambda x: np.where(x >= 0.5, 1.0, np.where(x <= -0.5, -1.0, 0.0)),
        lambda x: (np.abs(x) <= 1).astype("float32"),
    ),
    "dorefa_activations_2bit": (
        quantizers.DoReFa(k_bit=2),
        lambda x: np.round(np.clip(x, 0, 1) * 3) / 3,
        lambda x: ((x >= 0) & (x <= 1)).astype("float32"),
    ),
    "noop": (quantizers.NoOp(precision=8), lambda x: x, np.ones_like),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_forward_and_gradient(name, compiled):
    quantizer, forward, grad_scale = ELEMENTWISE[name]
    x = sample()
    g = np.random.default_rng(1).normal(size=x.shape).astype("float32")
    y, dx = vjp(quantizer, x, g, compiled)
    np.testing.assert_allclose(y, forward(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, g * grad_scale(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_magnitude_aware_sign_scale_is_constant_for_gradient(compiled):
    w = sample((3, 3, 4, 6))
    g = np.random.default_rng(2).normal(size=w.shape).astype("float32")
    y, dw = vjp(quantizers.MagnitudeAwareSign(), w, g, compiled)
    alpha = np.abs(w).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(y, alpha * np_sign(w), rtol=1e-6)
    np.testing.assert_allclose(dw, g * alpha * (np.abs(w) <= 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_xnor_weight_scale_gradient_flows_through_the_scale(compiled):
    w = sample((8, 5))
    # |w| has no derivative at 0 and backends pick different subgradients there: move the zero.
    w[w == 0] = 0.25
    g = np.random.default_rng(3).normal(size=w.shape).astype("float32")
    y, dw = vjp(quantizers.XnorWeightScale(), w, g, compiled)
    n = w.shape[0]
    alpha = np.abs(w).mean(axis=0)
    s = np_sign(w)
    np.testing.assert_allclose(y, alpha * s, rtol=1e-6)
    # upstream . d(alpha_j s_ij)/dw_ij = alpha_j 1{|w_ij|<=1} g_ij + sign(w_ij)/n sum_i g_ij s_ij
    expected = alpha * (np.abs(w) <= 1) * g + np.sign(w) / n * (g * s).sum(axis=0)
    np.testing.assert_allclose(dw, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_ternary_weight_networks_threshold(compiled):
    x = sample((6, 6))
    g = np.ones_like(x)
    y, dx = vjp(quantizers.SteTern(ternary_weight_networks=True), x, g, compiled)
    t = 0.7 * np.abs(x).mean()
    np.testing.assert_allclose(y, np.where(x >= t, 1.0, np.where(x <= -t, -1.0, 0.0)))
    np.testing.assert_allclose(dx, (np.abs(x) <= 1).astype("float32"))


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("k_bit", [1, 2, 4])
def test_dorefa_weights(k_bit, compiled):
    x = sample((4, 9), seed=k_bit)
    x.reshape(-1)[6] = -1.9  # a unique max |tanh(x)|: backends split the gradient of tied maxima
    g = np.random.default_rng(4).normal(size=x.shape).astype("float32")
    y, dx = vjp(quantizers.DoReFa(k_bit=k_bit, mode="weights"), x, g, compiled)
    n = 2**k_bit - 1
    t = np.tanh(x.astype("float64"))
    m = np.abs(t).max()
    normalized = t / (2 * m) + 0.5
    np.testing.assert_allclose(y, 2 * np.round(normalized * n) / n - 1, atol=1e-6)
    # Gradient: identity through the rounding, so d/dx of 2 (tanh(x) / (2 max|tanh|) + 1/2) - 1,
    # where the max is attained at i* = argmax |tanh(x)|.
    flat = x.reshape(-1)
    i_max = np.argmax(np.abs(np.tanh(flat)))
    sech2 = 1 - t.reshape(-1) ** 2
    jac = np.diag(sech2 / m)
    jac[:, i_max] -= t.reshape(-1) * np.sign(t.reshape(-1)[i_max]) * sech2[i_max] / m**2
    expected = g.reshape(-1).astype("float64") @ jac
    np.testing.assert_allclose(dx.reshape(-1), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "alias, cls, precision",
    [
        ("ste_sign", quantizers.SteSign, 1),
        ("approx_sign", quantizers.ApproxSign, 1),
        ("swish_sign", quantizers.SwishSign, 1),
        ("magnitude_aware_sign", quantizers.MagnitudeAwareSign, 1),
        ("ste_heaviside", quantizers.SteHeaviside, 1),
        ("ste_tern", quantizers.SteTern, 2),
        ("dorefa", quantizers.DoReFa, 2),
        ("xnor_weight_scale", quantizers.XnorWeightScale, 1),
    ],
)
def test_aliases_precision_and_serialization(alias, cls, precision):
    q = quantizers.get(alias)
    assert isinstance(q, cls)
    assert q.precision == precision
    config = quantizers.serialize(q)
    restored = quantizers.deserialize(config)
    assert restored == q and restored is not q
    assert quantizers.get(config) == q
    assert quantizers.get(q) is q


def test_serialization_keeps_arguments():
    for q in [
        quantizers.SteSign(clip_value=0.25),
        quantizers.SwishSign(beta=3.0),
        quantizers.SteTern(threshold_value=0.1, ternary_weight_networks=True, clip_value=2.0),
        quantizers.DoReFa(k_bit=4, mode="weights"),
        quantizers.NoOp(precision=4),
    ]:
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(q))
        assert restored.get_config() == q.get_config()
        assert restored.precision == q.precision


def test_functional_forms_match_classes():
    x = sample()
    for fn, q in [
        (quantizers.ste_sign, quantizers.SteSign()),
        (quantizers.approx_sign, quantizers.ApproxSign()),
        (quantizers.swish_sign, quantizers.SwishSign()),
        (quantizers.ste_heaviside, quantizers.SteHeaviside()),
        (quantizers.ste_tern, quantizers.SteTern()),
        (quantizers.dorefa, quantizers.DoReFa()),
        (quantizers.magnitude_aware_sign, quantizers.MagnitudeAwareSign()),
        (quantizers.xnor_weight_scale, quantizers.XnorWeightScale()),
    ]:
        np.testing.assert_array_equal(np.asarray(fn(x)), np.asarray(q(x)))


def test_sign_of_zero_is_plus_one():
    zeros = np.zeros((3,), "float32")
    for q in ["ste_sign", "approx_sign", "swish_sign", "magnitude_aware_sign"]:
        out = np.asarray(quantizers.get(q)(zeros + (1.0 if "magnitude" in q else 0.0)))
        assert (out > 0).all(), q
    np.testing.assert_array_equal(np.asarray(quantizers.ste_sign(zeros)), np.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_sign_keeps_nan_beside_infinities_and_gives_pm_one_to_both_infinities(dtype):
    # The torch path checks for NaN through the sum: +inf and -inf together sum to NaN without
    # any NaN, and a NaN must survive beside infinities.
    from keras_binary.math import sign

    both = np.array([np.inf, -np.inf, -0.0, 3.0], dtype)
    np.testing.assert_array_equal(np.asarray(sign(both)), [1.0, -1.0, 1.0, 1.0])
    mixed = np.array([np.inf, np.nan, -np.inf, -2.0], dtype)
    out = np.asarray(quantizers.ste_sign(mixed))
    assert out.dtype == dtype and np.isnan(out[1])
    np.testing.assert_array_equal(out[[0, 2, 3]], [1.0, -1.0, -1.0])


@pytest.mark.parametrize("compiled", [False, True])
def test_ste_sign_gradient_is_zero_at_nan_and_outside_the_clip(compiled):
    x = np.array([np.nan, 1.0, -1.0, 1.5, -np.inf, 0.25], "float32")
    _, grad = vjp(quantizers.SteSign(), x, np.full_like(x, 3.0), compiled)
    np.testing.assert_array_equal(grad, [0.0, 3.0, 3.0, 0.0, 0.0, 3.0])


def test_get_none_and_callable():
    assert quantizers.get(None) is None
    # The library's functional forms become their classes (serializable, with a precision).
    assert quantizers.get(quantizers.ste_sign) == quantizers.SteSign()
    assert quantizers.get(quantizers.approx_sign).precision == 1

    def my_quantizer(x):
        return x

    assert quantizers.get(my_quantizer) is my_quantizer


def test_unknown_alias_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown quantizer 'ste_sgn'.*ste_sign"):
        quantizers.get("ste_sgn")


def test_bad_identifier_type():
    with pytest.raises(ValueError, match="Cannot interpret 3 as a quantizer"):
        quantizers.get(3)


@pytest.mark.parametrize("dtype", ["int32", "int8", "bool"])
def test_integer_input_is_a_clear_error(dtype):
    x = np.ones((2, 2), dtype)
    with pytest.raises(TypeError, match=f"floating-point.*got dtype {dtype}"):
        quantizers.SteSign()(x)
    with pytest.raises(TypeError, match=f"got dtype {dtype}"):
        quantizers.ste_sign(x)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: quantizers.SteSign(clip_value=0), r"clip_value \(or None\) must be > 0"),
        (lambda: quantizers.DoReFa(k_bit=0), "k_bit must be an integer"),
        (lambda: quantizers.DoReFa(mode="gradients"), "mode must be one of"),
        (lambda: quantizers.NoOp(precision=0), "precision must be a positive"),
        (lambda: quantizers.get("noop"), "Unknown quantizer"),
    ],
)
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_other_float_dtypes_keep_their_dtype(dtype):
    x = keras.ops.convert_to_tensor(sample(), dtype=dtype)
    y = quantizers.SteSign()(x)
    # JAX without x64 stores float64 as float32: the output keeps whatever the input holds.
    assert keras.backend.standardize_dtype(y.dtype) == keras.backend.standardize_dtype(x.dtype)
    np.testing.assert_array_equal(
        np.asarray(keras.ops.cast(y, "float32")), np_sign(sample())
    )


def test_quantizing_a_keras_variable_directly():
    w = keras.Variable(sample((4, 3)))
    np.testing.assert_array_equal(np.asarray(quantizers.SteSign()(w)), np_sign(sample((4, 3))))
    np.testing.assert_array_equal(
        np.asarray(quantizers.MagnitudeAwareSign()(w)),
        np.abs(sample((4, 3))).mean(axis=0) * np_sign(sample((4, 3))),
    )


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("k_bit", [1, 2, 4])
def test_dorefa_weights_all_zero_kernel_stays_finite(k_bit, compiled):
    # A zeros-initialized kernel used to give 0 / 0 = NaN weights and gradients.
    x = np.zeros((3, 4), "float32")
    g = np.random.default_rng(5).normal(size=x.shape).astype("float32")
    y, dx = vjp(quantizers.DoReFa(k_bit=k_bit, mode="weights"), x, g, compiled)
    n = 2**k_bit - 1
    np.testing.assert_allclose(y, np.full(x.shape, 2 * np.round(0.5 * n) / n - 1), atol=1e-6)
    np.testing.assert_allclose(dx, g, rtol=1e-6)  # d/dx 2 (tanh(x) / 2 + 1/2) - 1 = 1 at x = 0

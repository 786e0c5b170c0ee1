"""Larq 0.13/0.14 names and documented behaviour that keras-binary keeps (issue #33).

Expected values are written from Larq's documentation and source (`larq/quantizers.py`,
`larq/math.py`, `larq/constraints.py`, `larq/models.py`, `larq/utils.py`), not from our code.
"""

import keras
import numpy as np
import pytest

import keras_binary as kb
from keras_binary import quantizers, summary
from keras_binary.layers import QuantDense
from keras_binary.model_summary import COMPRESSION_LABEL
from keras_binary.optimizers import Bop, CaseOptimizer, is_binary_variable
from keras_binary.precision import get_precision
from keras_binary.profile import ModelProfile
from keras_binary.utils import memory_as_readable_str
from tests.autodiff import vjp
from tests.test_profile import small_model

COMPILED = pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
# Values beyond every default clip (|x| up to 3) and the usual boundary points.
X = np.array([[-3.0, -1.0, -0.5, 0.0], [0.25, 1.0, 1.5, 3.0]], "float32")
G = np.array([[0.3, -1.2, 2.0, 0.7], [-0.4, 1.1, -2.5, 0.9]], "float32")


# -- Unclipped straight-through estimators: `clip_value=None` ------------------------------------


@COMPILED
@pytest.mark.parametrize(
    "quantizer, forward",
    [
        (quantizers.SteSign(clip_value=None), np.where(X >= 0, 1.0, -1.0)),
        (quantizers.SteHeaviside(clip_value=None), (X > 0).astype("float32")),
        (quantizers.SteTern(clip_value=None), np.sign(X) * (np.abs(X) >= 0.05)),
    ],
    ids=["ste_sign", "ste_heaviside", "ste_tern"],
)
def test_clip_value_none_passes_the_gradient_everywhere(quantizer, forward, compiled):
    """Larq: "clip_value: Threshold for clipping gradients. If `None` gradients are not clipped"."""
    y, dx = vjp(quantizer, X, G, compiled)
    np.testing.assert_array_equal(y, forward)
    np.testing.assert_array_equal(dx, G)
    clipped = vjp(type(quantizer)(), X, G, compiled)[1]
    assert not np.array_equal(clipped, G), "the default clip_value=1 must zero |x| > 1"


@COMPILED
def test_magnitude_aware_sign_clip_value_none(compiled):
    w = X.T.copy()  # (4, 2): the scale is per output channel (last axis)
    g = G.T.copy()
    _, dx = vjp(quantizers.MagnitudeAwareSign(clip_value=None), w, g, compiled)
    np.testing.assert_allclose(dx, g * np.abs(w).mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("cls", [quantizers.SteSign, quantizers.SteHeaviside, quantizers.SteTern])
def test_clip_value_none_round_trips_and_bad_values_are_refused(cls):
    quantizer = cls(clip_value=None)
    assert quantizer.get_config()["clip_value"] is None
    assert quantizers.deserialize(quantizers.serialize(quantizer)) == quantizer
    layer = QuantDense(3, kernel_quantizer=quantizer, kernel_constraint="weight_clip")
    clone = QuantDense.from_config(layer.get_config())
    assert clone.kernel_quantizer == quantizer
    for bad in (0.0, -1.0, "1", True):
        with pytest.raises(ValueError, match=r"clip_value \(or None\) must be > 0"):
            cls(clip_value=bad)


# -- Names: NoOpQuantizer, get_kernel_quantizer, math, weight_clip --------------------------------


def test_noop_quantizer_is_larqs_old_name_of_noop():
    assert quantizers.NoOpQuantizer is quantizers.NoOp
    # Larq's NoOp example: the kernel is tagged with the declared precision, values unchanged.
    layer = QuantDense(16, kernel_quantizer=quantizers.NoOpQuantizer(precision=1))
    layer.build((None, 4))
    assert get_precision(layer.kernel) == 1
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(layer(x), x @ np.asarray(layer.kernel.value), rtol=1e-6)


def test_get_kernel_quantizer_accepts_names_instances_functions_and_none():
    def scaled_sign(x):
        return 1.3 * quantizers.ste_sign(x)

    assert quantizers.get_kernel_quantizer(scaled_sign) is scaled_sign
    assert quantizers.get_kernel_quantizer("ste_sign") == quantizers.SteSign()
    assert quantizers.get_kernel_quantizer(quantizers.ste_sign) == quantizers.SteSign()
    instance = quantizers.SteTern(clip_value=None)
    assert quantizers.get_kernel_quantizer(instance) is instance
    assert quantizers.get_kernel_quantizer(None) is None
    with pytest.raises(ValueError, match="Unknown quantizer 'no_such'"):
        quantizers.get_kernel_quantizer("no_such")


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_math_sign_and_heaviside_follow_larq(dtype):
    x = np.array([-2.0, -0.0, 0.0, 1e-3, 5.0, np.nan], dtype)
    sign, step = np.asarray(kb.math.sign(x)), np.asarray(kb.math.heaviside(x))
    assert sign.dtype == dtype and step.dtype == dtype
    # larq.math.sign: -1 for x < 0, +1 for x >= 0 (never 0); heaviside: 1 for x > 0, else 0.
    np.testing.assert_array_equal(sign[:-1], [-1.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(step[:-1], [0.0, 0.0, 0.0, 1.0, 1.0])
    assert np.isnan(sign[-1]) and np.isnan(step[-1]), "NaN must reach the loss, not become +-1/0"
    # Like tf.sign in Larq, plain Python sequences are accepted.
    np.testing.assert_array_equal(kb.math.sign([-1.0, 0.0]), [-1.0, 1.0])


def test_ste_heaviside_keeps_nan():
    y = np.asarray(quantizers.SteHeaviside()(np.array([np.nan, 2.0], "float32")))
    assert np.isnan(y[0]) and y[1] == 1.0


def test_weight_clip_lowercase_alias():
    constraint = kb.constraints.weight_clip(2.0)
    assert isinstance(constraint, kb.constraints.WeightClip)
    np.testing.assert_array_equal(constraint(np.array([-3.0, 1.5, 2.5], "float32")), [-2, 1.5, 2])
    layer = QuantDense(2, kernel_quantizer="ste_sign", kernel_constraint=constraint)
    assert layer.kernel_constraint is constraint


# -- DoReFa weights mode: Larq's stop-gradient through max|tanh(w)| -------------------------------


@COMPILED
@pytest.mark.parametrize("k_bit", [1, 2, 4])
def test_dorefa_weights_larq_gradient_treats_the_max_as_constant(k_bit, compiled):
    w = np.array([[-1.9, 0.3, 0.0], [0.8, -0.2, 1.2]], "float32")
    quantizer = quantizers.DoReFa(k_bit=k_bit, mode="weights", gradient_through_max=False)
    y, dx = vjp(quantizer, w, G[:, :3], compiled)
    default_y, default_dx = vjp(quantizers.DoReFa(k_bit=k_bit, mode="weights"), w, G[:, :3],
                                compiled)
    np.testing.assert_array_equal(y, default_y)
    t = np.tanh(w.astype("float64"))
    m = np.abs(t).max()
    # d/dw [2 (tanh(w) / (2 m) + 1/2) - 1] with m constant = (1 - tanh(w)^2) / m.
    np.testing.assert_allclose(dx, G[:, :3] * (1 - t**2) / m, rtol=1e-5, atol=1e-6)
    assert not np.allclose(dx, default_dx), "the default lets the gradient through the max"


def test_dorefa_option_serializes_and_zero_weights_stay_finite():
    quantizer = quantizers.DoReFa(k_bit=3, mode="weights", gradient_through_max=False)
    assert quantizers.deserialize(quantizers.serialize(quantizer)) == quantizer
    old = {"k_bit": 3, "mode": "weights"}  # a config saved before the option existed
    assert quantizers.DoReFa.from_config(old).gradient_through_max is True
    with pytest.raises(TypeError, match="gradient_through_max must be True or False"):
        quantizers.DoReFa(mode="weights", gradient_through_max="no")
    # Larq normalises an all-zero kernel with divide_no_nan: 0 -> 1/2 before rounding.
    y = np.asarray(quantizer(np.zeros((2, 3), "float32")))
    np.testing.assert_allclose(y, 2 * np.round(0.5 * 7) / 7 - 1, rtol=1e-6)


# -- The programmatic profile: larq.models.ModelProfile ------------------------------------------


def test_model_profile_queries_by_hand():
    model = small_model()  # QuantDense(4) -> BN -> QuantDense(3, binary inputs), from test_profile
    profile = ModelProfile(model)
    dense1, bn, dense2 = profile.layer_profiles
    assert [p.name for p in profile.layer_profiles] == [layer.name for layer in model.layers]
    assert profile.weight_count() == 67 == model.count_params()
    assert profile.weight_count(bitwidth=1) == 8 * 4 + 4 * 3
    assert profile.weight_count(bitwidth=32) == 4 + 16 + 3
    assert profile.weight_count(trainable=False) == 8  # BN moving mean and variance
    assert profile.weight_count(bitwidth=32, trainable=True) == 4 + 8 + 3
    assert bn.weight_count(trainable=True) == 8 and dense1.weight_count(1, True) == 32
    assert profile.op_count("mac") == 44 and profile.op_count("mac", 1) == 12
    assert dense1.op_count("mac", precision=32) == 32 and bn.op_count("mac") == 0
    assert profile.unique_param_bitwidths == profile.unique_param_bidtwidths == [1, 32]
    assert profile.unique_op_precisions == [1, 32]
    assert profile.memory == 44 * 1 + 23 * 32  # bits, as Larq counts
    assert profile.fp_equivalent_memory == 67 * 32
    assert profile.int8_fp_weights_memory == 44 + 23 * 8
    assert profile.input_precision is None and profile.output_shape == (None, 3)
    assert memory_as_readable_str(profile.memory) == f"{(44 + 23 * 32) / 8:,.2f} B"
    with pytest.raises(ValueError, match="op_type must be 'mac'"):
        profile.op_count("flop")
    with pytest.raises(TypeError, match="trainable must be True, False or None"):
        profile.weight_count(trainable="yes")


def test_summary_prints_what_the_profile_holds():
    lines = []
    profile = summary(small_model(), print_fn=lines.append)
    assert isinstance(profile, ModelProfile)
    stats = dict(line.split(" : ", 1) for line in lines if " : " in line)
    stats = {key.strip(): value for key, value in stats.items()}
    # Larq's "Compression Ratio of Memory" is memory / float-32 memory (0.96 in its docs for a
    # mostly float model); ours is the inverse, and the label says which way it goes.
    assert stats[COMPRESSION_LABEL] == f"{profile.fp_equivalent_memory / profile.memory:.2f}"
    larq_ratio = profile.memory / profile.fp_equivalent_memory
    assert profile.compression_ratio == pytest.approx(1 / larq_ratio)
    assert stats["Total params"] == str(profile.weight_count())
    assert stats["Number of MACs"] == str(profile.op_count("mac"))


def test_op_count_is_none_when_it_scales_with_an_unknown_size():
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3)])
    profile = ModelProfile(model)
    assert profile.layer_profiles[0].op_count("mac") is None
    assert profile.op_count("mac") is None
    assert profile.weight_count() == 3 * 3 * 3 * 2 + 2


def test_batch_norm_without_scale_counts_its_variables():
    """Larq counts 2 per channel for every BatchNormalization (it drops beta and gamma as folded
    into the moving statistics); we count the variables the layer holds, as Keras does."""
    model = keras.Sequential([keras.Input((5,)), keras.layers.BatchNormalization(scale=False)])
    profile = ModelProfile(model)
    assert profile.weight_count() == 3 * 5 == model.count_params()
    assert profile.weight_count(trainable=True) == 5  # beta


@pytest.mark.parametrize(
    "bits, text",
    [(0, "0.00 B"), (8 * 1023, "1,023.00 B"), (8 * 1024, "1.00 KiB"),
     (8 * 1536 * 1024, "1.50 MiB"), (8 * 3 * 1024**3, "3.00 GiB")],
)
def test_memory_as_readable_str_like_larq(bits, text):
    assert memory_as_readable_str(bits) == text


def test_memory_as_readable_str_refuses_non_finite_and_non_numbers():
    for bad in (float("nan"), float("inf"), -8):
        with pytest.raises(ValueError, match="finite and >= 0"):
            memory_as_readable_str(bad)
    with pytest.raises(TypeError, match="number of bits"):
        memory_as_readable_str("8")


# -- Documented differences: warnings.warn, CaseOptimizer without a default -----------------------


def test_missing_constraint_goes_through_warnings_warn():
    """Larq logs this with `logging`; keras-binary uses warnings.warn (filterable, testable)."""
    with pytest.warns(UserWarning, match="has no kernel_constraint"):
        QuantDense(4, kernel_quantizer="ste_sign")


def _bop_model(freeze_float_layers: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6,)),
        QuantDense(8, kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                   use_bias=False),
        keras.layers.BatchNormalization(),
    ])
    model.layers[1].trainable = not freeze_float_layers
    return model


def test_case_optimizer_without_default_refuses_unclaimed_variables():
    """Larq warns and leaves unclaimed variables untrained; we refuse and point to the guide."""
    model = _bop_model(freeze_float_layers=False)
    optimizer = CaseOptimizer((is_binary_variable, Bop()))
    with pytest.raises(ValueError, match="trainable=False.*07_migrating_from_larq"):
        optimizer.build(model.trainable_variables)


def test_case_optimizer_without_default_trains_when_the_rest_is_frozen():
    model = _bop_model(freeze_float_layers=True)
    model.compile(optimizer=CaseOptimizer((is_binary_variable, Bop(threshold=0.0))), loss="mse")
    before = np.asarray(model.layers[0].kernel.value) >= 0
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    model.fit(x, np.zeros((32, 8), "float32") - 1.0, epochs=2, verbose=0)
    assert not np.array_equal(np.asarray(model.layers[0].kernel.value) >= 0, before), "Bop flips"


# -- Optimizers and callbacks spelled as in Larq -------------------------------------------------


def test_bop_is_binary_variable_is_larqs_spelling_of_the_predicate():
    assert Bop.is_binary_variable is is_binary_variable
    model = _bop_model(freeze_float_layers=False)
    optimizer = CaseOptimizer((Bop.is_binary_variable, Bop()),
                              default_optimizer=keras.optimizers.Adam())
    optimizer.build(model.trainable_variables)
    assert optimizer.get_config()["predicate_optimizer_pairs"][0][0] is not None


def test_two_argument_schedule_gets_the_current_value():
    """Larq calls `schedule(epoch, current_value)` when the schedule takes two arguments."""
    model = _bop_model(freeze_float_layers=False)
    bop = Bop(gamma=1e-3)
    model.compile(optimizer=CaseOptimizer((is_binary_variable, bop),
                                          default_optimizer=keras.optimizers.Adam()), loss="mse")
    seen = []

    def halve(epoch, gamma):
        seen.append(gamma)
        return gamma / 2

    x = np.ones((8, 6), "float32")
    history = model.fit(x, np.zeros((8, 8), "float32"), epochs=3, verbose=0,
                        callbacks=[kb.callbacks.HyperparameterScheduler(halve, "gamma", bop)])
    np.testing.assert_allclose(seen, [1e-3, 5e-4, 2.5e-4], rtol=1e-6)
    np.testing.assert_allclose(history.history["gamma"], [5e-4, 2.5e-4, 1.25e-4], rtol=1e-6)


# -- The migration guide's table covers every public name of larq 0.14 ----------------------------

# From larq 0.14's modules (`__all__` where defined, else the public module-level names).
LARQ_PUBLIC_NAMES = [
    *(f"layers.{n}" for n in (
        "QuantDense", "QuantConv1D", "QuantConv2D", "QuantConv3D", "QuantDepthwiseConv2D",
        "QuantSeparableConv1D", "QuantSeparableConv2D", "QuantConv2DTranspose",
        "QuantConv3DTranspose", "QuantLocallyConnected1D", "QuantLocallyConnected2D")),
    *(f"layers_base.{n}" for n in (
        "BaseLayer", "QuantizerBase", "QuantizerBaseConv", "QuantizerDepthwiseBase",
        "QuantizerSeparableBase")),
    *(f"quantizers.{n}" for n in (
        "Quantizer", "NoOp", "NoOpQuantizer", "SteSign", "ApproxSign", "SwishSign",
        "MagnitudeAwareSign", "SteHeaviside", "SteTern", "DoReFa", "DoReFaQuantizer",
        "ste_sign", "approx_sign", "swish_sign", "ste_heaviside", "ste_tern", "get",
        "serialize", "deserialize", "get_kernel_quantizer")),
    "optimizers.Bop", "optimizers.Bop.is_binary_variable", "optimizers.CaseOptimizer",
    "constraints.WeightClip", "constraints.weight_clip",
    "activations.hard_tanh", "activations.leaky_tanh",
    "callbacks.HyperparameterScheduler",
    "math.sign", "math.heaviside",
    "metrics.FlipRatio",
    "models.summary", "models.ModelProfile", "models.LayerProfile", "models.WeightProfile",
    "models.OperationProfile",
    "context.quantized_scope", "context.should_quantize", "context.metrics_scope",
    "context.get_training_metrics",
    "quantized_variable.QuantizedVariable",
    *(f"utils.{n}" for n in (
        "memory_as_readable_str", "register_keras_custom_object", "register_alias",
        "set_precision", "patch_object")),
]


def _guide_table():
    import re
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "guides" / "07_migrating_from_larq.py"
    rows = [line[2:].split(" | ") for line in guide.read_text().splitlines()
            if line.startswith("# | `lq.") or line.startswith("# | aliases")]
    return [[re.findall(r"`([^`]+)`", cell) for cell in row[:2]] + [row[2]] for row in rows]


def _resolve(dotted):
    """`kb.a.b` -> the object, importing submodules on the way (kb.inference is not eager)."""
    import importlib

    parts = dotted.split(".")[1:]
    obj = kb
    for i, part in enumerate(parts):
        if not hasattr(obj, part):
            importlib.import_module("keras_binary." + ".".join(parts[: i + 1]))
        obj = getattr(obj, part)
    return obj


def test_migration_table_lists_every_larq_name_and_ours_exist():
    table = _guide_table()
    listed = {name for larq, _, _ in table for name in larq}
    missing = [name for name in LARQ_PUBLIC_NAMES if f"lq.{name}" not in listed]
    assert not missing, f"larq names missing from the guide's table: {missing}"
    for larq, ours, verdict in table:
        assert verdict.startswith(("same", "differs")), (larq, verdict)
        quoted = all(name.startswith('"') for name in larq)
        aliases = [name.strip('"') for name in larq] if quoted else []
        for alias in aliases:  # the row of Larq's quantizer strings: they resolve here too
            assert quantizers.get(alias) is not None, alias
        if verdict.startswith("same") and not aliases:
            assert ours, f"{larq} is 'same' but names no keras-binary counterpart"
        for name in ours:
            if name.startswith("kb."):
                assert _resolve(name) is not None, name

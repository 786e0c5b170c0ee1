"""Property-based tests (hypothesis) of the CPU kernels against the numpy definitions.

Random shapes (word boundaries favoured), strides, dilations, paddings, pad values, groups,
input forms (float or packed), output forms (float or packed), scale/bias epilogues, the ISAs
this CPU has and thread caps; every result bit-exact (the epilogues use dyadic values, exact in
float32). Values include zeros, -0.0, infinities and subnormals; the backends' float ops flush
subnormals to zero (sign(-1e-40) = +1), the kernels agree, and so does the reference here.

Profiles (``KB_FUZZ_PROFILE``): "ci" (default: derandomized, a fixed example set, ~30-60 s
per backend) and "large" (random, `LARGE_EXAMPLES` per test; `benchmarks/fuzz_kernels.py`
runs it on both backends and reports the count). ``KB_FUZZ_EXAMPLES`` overrides the examples
per test. The grouped layer test runs half as many (one kernel call per group).
"""

from __future__ import annotations

import collections
import functools
import os

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_binary import kernels
from keras_binary.inference import BinaryConv2DInference
from keras_binary.kernels.testing import cpu_supports, force_isa
from tests.kernels import numpy_reference as npr

BACKEND = keras.backend.backend()
ON_CPU = (BACKEND in ("jax", "tensorflow", "torch") and kernels.kernel_available()
          and kernels.kernel_info()["platform"] == "cpu")
pytestmark = pytest.mark.skipif(not ON_CPU, reason="needs the CPU kernel route")

LARGE_EXAMPLES = 3000  # per test (the grouped layer test runs half): 10,500 cases in all
PROFILES = {
    "ci": dict(max_examples=60, derandomize=True),
    "large": dict(max_examples=LARGE_EXAMPLES, derandomize=False),
}
PROFILE = os.environ.get("KB_FUZZ_PROFILE", "ci")
if PROFILE not in PROFILES:
    raise ValueError(f"KB_FUZZ_PROFILE must be one of {sorted(PROFILES)}, got {PROFILE!r}")
_options = dict(PROFILES[PROFILE])
if os.environ.get("KB_FUZZ_EXAMPLES"):
    _options["max_examples"] = int(os.environ["KB_FUZZ_EXAMPLES"])
# No deadline: kernel compilation per new shape makes example times vary (no timed tests).
FUZZ = settings(**_options, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

def to_np(x):
    return keras.ops.convert_to_numpy(x)


# The grouped layer test calls the kernel once per group: half the examples keep CI's time.
FUZZ_GROUPED = settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 2))
ISAS = [isa for isa in ("portable", "avx2", "avx512", "amx") if ON_CPU and cpu_supports(isa)]
CASES: collections.Counter = collections.Counter()  # examples run, per test

SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, 1e-40, -1e-40, 1.0, -1.0], np.float32)


def sizes(low: int, high: int):
    """Ints in [low, high], word boundaries (31, 32, 33, 63, ...) drawn more often."""
    edges = [v for v in (31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129) if low <= v <= high]
    return st.one_of(st.integers(low, high), st.sampled_from(edges)) if edges else (
        st.integers(low, high))


def signed_values(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Normal floats with ~10% special values (zeros of both signs, infinities, subnormals)."""
    x = rng.standard_normal(shape).astype(np.float32)
    special = rng.random(shape) < 0.1
    x[special] = rng.choice(SPECIALS, size=int(special.sum()))
    return x


@functools.cache
def flushes_subnormals() -> bool:
    """Whether the backend's own float ops take subnormals as zero (XLA and TensorFlow's CPU
    threads run with flush-to-zero / denormals-are-zero)."""
    return not bool(to_np(keras.ops.less(np.float32(-1e-40), 0.0)))


def as_seen(x: np.ndarray) -> np.ndarray:
    """``x`` as the backend's float ops see it (subnormals flushed where they flush)."""
    if not flushes_subnormals():
        return x
    return np.where(np.abs(x) < np.finfo(np.float32).tiny, np.float32(0), x)


def epilogue(rng: np.random.Generator, kind: str, n: int):
    """(scale, bias, their float64 values) for kind "none", "scale" or "both" (dyadic)."""
    scale = npr.dyadic(rng, n, -2, 2) if kind != "none" else None
    bias = npr.dyadic(rng, n, -3, 3) if kind == "both" else None
    return (scale, bias, 1.0 if scale is None else scale.astype(np.float64),
            0.0 if bias is None else bias.astype(np.float64))


class Conditions:
    """Applies the drawn ISA and thread cap for one example, restoring the defaults after."""

    def __init__(self, isa: str, threads: int):
        self.isa, self.threads = isa, threads
        self.default = kernels.kernel_info()["isa"]

    def __enter__(self):
        force_isa(self.isa)
        kernels.set_num_threads(self.threads)

    def __exit__(self, *exc):
        force_isa(self.default)
        kernels.set_num_threads(0)


conditions = st.builds(Conditions, st.sampled_from(ISAS or ["portable"]),
                       st.sampled_from([0, 1, 3]))
seeds = st.integers(0, 2**32 - 1)


@FUZZ
@given(lead=st.lists(st.integers(1, 5), max_size=2), k=sizes(1, 300), seed=seeds,
       where=conditions)
def test_pack_bits_matches_numpy(lead, k, seed, where):
    CASES["pack"] += 1
    x = signed_values(np.random.default_rng(seed), (*lead, k))
    with where:
        got = to_np(kernels.pack_bits(x, implementation="kernel"))
    np.testing.assert_array_equal(got, npr.pack(as_seen(x)))


@FUZZ
@given(lead=st.lists(st.integers(1, 40), min_size=0, max_size=2), n=sizes(1, 70),
       k=sizes(1, 300), output=st.sampled_from(["float", "packed"]),
       kind=st.sampled_from(["none", "scale", "both"]), seed=seeds, where=conditions)
def test_binary_matmul_matches_numpy(lead, n, k, output, kind, seed, where):
    CASES["matmul"] += 1
    rng = np.random.default_rng(seed)
    x, w = signed_values(rng, (*lead, k)), signed_values(rng, (n, k))
    scale, bias, s, b = epilogue(rng, kind, n)
    want = (npr.signs(x) @ npr.signs(w).T) * s + b
    with where:
        got = to_np(kernels.binary_matmul(npr.pack(x), npr.pack(w), k, scale, bias, output,
                                          implementation="kernel"))
    np.testing.assert_array_equal(got, want if output == "float" else npr.pack(want))


@st.composite
def conv_geometry(draw, max_channels: int = 100):
    """(h, w, kh, kw, strides, dilation, padding): "valid" inputs are at least the dilated
    kernel."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    spans = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    low = spans if padding == "valid" else (1, 1)
    h = draw(st.integers(low[0], low[0] + 8))
    w = draw(st.integers(low[1], low[1] + 8))
    return h, w, kh, kw, strides, dilation, padding


@FUZZ
@given(geometry=conv_geometry(), batch=st.integers(1, 2), cin=sizes(1, 100),
       cout=sizes(1, 40), pad_value=st.sampled_from(["one", "zero"]),
       packed_input=st.booleans(), output=st.sampled_from(["float", "packed"]),
       kind=st.sampled_from(["none", "scale", "both"]), seed=seeds, where=conditions)
def test_binary_conv2d_matches_numpy(geometry, batch, cin, cout, pad_value, packed_input,
                                     output, kind, seed, where):
    CASES["conv2d"] += 1
    h, w, kh, kw, strides, dilation, padding = geometry
    rng = np.random.default_rng(seed)
    x, kernel = signed_values(rng, (batch, h, w, cin)), signed_values(rng, (kh, kw, cin, cout))
    scale, bias, s, b = epilogue(rng, kind, cout)
    want = npr.conv2d(as_seen(x), kernel, strides, padding, dilation, pad_value) * s + b
    packed_kernel = npr.pack(np.transpose(kernel, (3, 0, 1, 2)))
    with where:
        got = to_np(kernels.binary_conv2d(
            npr.pack(as_seen(x)) if packed_input else x, packed_kernel, channels=cin,
            strides=strides, padding=padding, dilation_rate=dilation, pad_value=pad_value,
            scale=scale, bias=bias, output=output, implementation="kernel"))
    np.testing.assert_array_equal(got, want if output == "float" else npr.pack(want))


@FUZZ_GROUPED
@given(geometry=conv_geometry(), groups=st.integers(2, 4), per_in=sizes(1, 40),
       per_out=st.integers(1, 6), pad_value=st.sampled_from(["one", "zero"]),
       packed=st.booleans(), output=st.sampled_from(["float", "packed"]), seed=seeds,
       where=conditions)
def test_grouped_conv2d_layer_matches_numpy(geometry, groups, per_in, per_out, pad_value,
                                            packed, output, seed, where):
    """BinaryConv2DInference with groups: one kernel call per group. A packed input (output)
    needs whole words per group: then the group's channels (filters) are 32 or 64."""
    CASES["grouped"] += 1
    h, w, kh, kw, strides, dilation, padding = geometry
    rng = np.random.default_rng(seed)
    if packed:
        per_in = 32 * (1 + per_in % 2)
    if output == "packed":
        per_out = 32 * (1 + per_out % 2)
    channels, filters = groups * per_in, groups * per_out
    x = signed_values(rng, (1, h, w, channels))
    kernel = signed_values(rng, (kh, kw, per_in, filters))
    scale, bias, s, b = epilogue(rng, "both", filters)
    want = np.concatenate([
        npr.conv2d(as_seen(x)[..., g * per_in:(g + 1) * per_in],
                   kernel[..., g * per_out:(g + 1) * per_out], strides, padding, dilation,
                   pad_value)
        for g in range(groups)], axis=-1) * s + b
    layer = BinaryConv2DInference(filters, (kh, kw), channels=channels, strides=strides,
                                  padding=padding, dilation_rate=dilation, pad_value=pad_value,
                                  output=output, groups=groups)
    inputs = npr.pack(as_seen(x)) if packed else x  # whole words per group, group by group
    layer.build(inputs.shape)
    layer.set_packed_weights(npr.pack(np.transpose(kernel, (3, 0, 1, 2))), scale, bias)
    with where:
        got = to_np(layer(inputs))
    np.testing.assert_array_equal(got, want if output == "float" else npr.pack(want))

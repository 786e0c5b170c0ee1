"""Counting for `keras_binary.summary()`: parameters, memory and MACs per precision.

Precisions are read, never guessed: a weight's precision is its variable's `precision` tag
(`keras_binary.precision.get_precision`), else the bits of its dtype; a layer's input precision is
its `input_quantizer.precision`, else the bits of its compute dtype. A multiply-accumulate runs at
`max(input precision, weight precision)`, an untagged weight being multiplied at the compute dtype
(so a mixed_float16 layer stores 32-bit weights and runs 16-bit MACs).

Nested models (a `keras.Model` used as a layer) are expanded: their layers appear as rows named
`outer/inner`. A layer called several times is profiled at its first call. Variables shared by
several layers are counted once, at the first layer that holds them.

Example:

>>> import keras
>>> from keras_binary.profile import profile_model
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> profile_model(model).total_params
8
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import keras

from keras_binary.precision import get_precision

_DENSE = (keras.layers.Dense,)
_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_CONV_TRANSPOSE = (
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_SEPARABLE = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)


class ProfileCounts:
    """Larq's query methods (`larq.models.LayerProfile`), shared by layer and model profiles.

    Subclasses give `params` (count per precision), `trainable_by_precision` (the trainable part
    of it), `macs` (count per precision) and `macs_per_unknown_dim`. Memory is in bits, as in
    Larq; `keras_binary.utils.memory_as_readable_str` formats it.
    """

    params: dict[int, int]
    trainable_by_precision: dict[int, int]
    macs: dict[int, int]
    macs_per_unknown_dim: bool

    def weight_count(self, bitwidth: int | None = None, trainable: bool | None = None) -> int:
        """Number of weights stored at `bitwidth` bits (all when None) that are trainable, not
        trainable, or either (None)."""
        if bitwidth is not None and (isinstance(bitwidth, bool) or not isinstance(bitwidth, int)):
            raise TypeError(f"bitwidth must be a number of bits or None, got {bitwidth!r}")
        if trainable not in (None, True, False):
            raise TypeError(f"trainable must be True, False or None, got {trainable!r}")
        counts = self.params if trainable is None else self.trainable_by_precision
        if trainable is False:
            counts = {b: n - self.trainable_by_precision.get(b, 0) for b, n in self.params.items()}
        return sum(n for b, n in counts.items() if bitwidth is None or b == bitwidth)

    def op_count(self, op_type: str = "mac", precision: int | None = None) -> int | None:
        """Number of multiply-accumulates at `precision` bits (all when None).

        None when the count scales with a dimension unknown at build time (an image side, a
        sequence length): it is then no total. Only "mac" is counted, as in Larq.
        """
        if op_type != "mac":
            raise ValueError(f"op_type must be 'mac' (only MACs are counted), got {op_type!r}")
        if self.macs_per_unknown_dim:
            return None
        return sum(n for b, n in self.macs.items() if precision is None or b == precision)

    @property
    def memory(self) -> int:
        """Bits of the weights, each stored at its precision."""
        return sum(bits * count for bits, count in self.params.items())

    @property
    def fp_equivalent_memory(self) -> int:
        """Bits of the weights all stored as 32-bit floats."""
        return 32 * sum(self.params.values())

    @property
    def int8_fp_weights_memory(self) -> int:
        """Bits of the weights with those above 8 bits stored as 8 bits."""
        return sum(min(bits, 8) * count for bits, count in self.params.items())

    @property
    def unique_param_bitwidths(self) -> list[int]:
        """The precisions the weights are stored at, ascending."""
        return sorted(self.params)

    # Larq's spelling.
    unique_param_bidtwidths = unique_param_bitwidths

    @property
    def unique_op_precisions(self) -> list[int]:
        """The precisions of the multiply-accumulates, ascending."""
        return sorted(self.macs)


@dataclass
class LayerProfile(ProfileCounts):
    """Counts of one layer. `params` and `macs` map a precision in bits to a count.

    `input_precision` is None for a layer without an input quantizer. `macs_per_unknown_dim` is
    True when a dimension the MACs scale with (a time step, an image side) is unknown: the MACs
    are then given per unit of that dimension. `trainable_by_precision` is the trainable part of
    `params`.

    Args:
        name: Layer name (`outer/inner` inside nested models).
        class_name: Layer class name.
        input_precision: Bits of the quantized inputs, or None.
        output_shape: Output shape of the first call.
        params: Parameter count per precision in bits.
        trainable_by_precision: Trainable parameter count per precision in bits.
        macs: Multiply-accumulate count per precision in bits.
        macs_per_unknown_dim: Whether `macs` are per unit of an unknown dimension.
    """

    name: str
    class_name: str
    input_precision: int | None
    output_shape: Any
    params: dict[int, int] = field(default_factory=dict)
    trainable_by_precision: dict[int, int] = field(default_factory=dict)
    macs: dict[int, int] = field(default_factory=dict)
    macs_per_unknown_dim: bool = False

    @property
    def total_params(self) -> int:
        return sum(self.params.values())

    @property
    def trainable_params(self) -> int:
        return sum(self.trainable_by_precision.values())

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def memory_bytes(self) -> float:
        """Size of the weights, each stored at its precision (binary weights packed 8 per byte)."""
        return self.memory / 8

    @property
    def total_macs(self) -> int:
        return sum(self.macs.values())


class ModelProfile(ProfileCounts):
    """Per-layer counts of a model and the totals over them (Larq's `ModelProfile(model)`).

    Nested models are expanded into rows named `outer/inner` (see the module doc), so
    `layer_profiles` is flat where Larq nests a `ModelProfile` per inner model.

    Args:
        model: a built Keras model.

    Example:

    >>> import keras
    >>> from keras_binary.layers import QuantDense
    >>> model = keras.Sequential([keras.Input((8,)), QuantDense(
    ...     4, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
    ...     kernel_constraint="weight_clip")])
    >>> profile = ModelProfile(model)
    >>> profile.weight_count(bitwidth=1), profile.op_count("mac", 1), profile.memory
    (32, 32, 160)
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Model):
            raise TypeError(f"summary expects a keras.Model, got {type(model).__name__}")
        if not model.built:
            raise ValueError(
                f"Model {model.name!r} is not built yet: give it an Input, call it on data or "
                "call model.build(input_shape) before asking for its summary."
            )
        self.name: str = model.name
        self.layers: list[LayerProfile] = _profile_layers(model, "", set())

    @property
    def layer_profiles(self) -> list[LayerProfile]:
        """The layer profiles (Larq's name for `layers`)."""
        return self.layers

    def _sum(self, attr: str) -> dict[int, int]:
        totals: dict[int, int] = {}
        for layer in self.layers:
            for bits, count in getattr(layer, attr).items():
                totals[bits] = totals.get(bits, 0) + count
        return dict(sorted(totals.items()))

    @property
    def params(self) -> dict[int, int]:
        return self._sum("params")

    @property
    def trainable_by_precision(self) -> dict[int, int]:
        return self._sum("trainable_by_precision")

    @property
    def macs(self) -> dict[int, int]:
        return self._sum("macs")

    @property
    def macs_per_unknown_dim(self) -> bool:
        return any(layer.macs_per_unknown_dim for layer in self.layers)

    def op_count(self, op_type: str = "mac", bitwidth: int | None = None) -> int | None:
        """Number of multiply-accumulates at `bitwidth` bits (all when None) over all layers.

        None when a layer's count scales with an unknown dimension (see `LayerProfile`).
        """
        return super().op_count(op_type, bitwidth)

    @property
    def input_precision(self) -> int | None:
        return self.layers[0].input_precision if self.layers else None

    @property
    def output_shape(self) -> Any:
        return self.layers[-1].output_shape if self.layers else None

    @property
    def params_by_precision(self) -> dict[int, int]:
        return self.params

    @property
    def macs_by_precision(self) -> dict[int, int]:
        return self.macs

    @property
    def total_params(self) -> int:
        return sum(layer.total_params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def memory_bytes(self) -> float:
        """Model size with every weight at its precision (binary weights packed, bits / 8)."""
        return self.memory / 8

    @property
    def float32_bytes(self) -> int:
        """Model size with every weight stored as a 32-bit float."""
        return 4 * self.total_params

    @property
    def compression_ratio(self) -> float | None:
        """`float32_bytes / memory_bytes` (how many times smaller than float32; Larq's
        "compression ratio" is the inverse); None for a model without weights."""
        return self.float32_bytes / self.memory_bytes if self.memory_bytes else None

    @property
    def total_macs(self) -> int:
        return sum(layer.total_macs for layer in self.layers)

    @property
    def binary_mac_fraction(self) -> float | None:
        """Fraction of the MACs that are 1-bit; None for a model without MACs."""
        total = self.total_macs
        return self.macs_by_precision.get(1, 0) / total if total else None


def dtype_bits(dtype: Any) -> int:
    """Bits of one value of `dtype` ("float32" -> 32, "bfloat16" -> 16, "bool" -> 8).

    Args:
        dtype: A dtype or dtype name.

    Returns:
        The number of bits.
    """
    name = keras.backend.standardize_dtype(dtype)
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else 8


def weight_precision(variable: Any) -> int:
    """Bits of a weight: its precision tag, else the bits of its dtype.

    Args:
        variable: A `keras.Variable`.

    Returns:
        Its bits.
    """
    bits = get_precision(variable)
    return bits if bits is not None else dtype_bits(variable.dtype)


def _mac_weight_bits(layer: Any, variable: Any) -> int:
    """Bits a weight is multiplied at: its precision tag, else the layer's compute dtype's."""
    bits = get_precision(variable)
    return bits if bits is not None else dtype_bits(layer.compute_dtype)


def _quantizer_precision(layer: Any, attr: str) -> int | None:
    for owner in (layer, getattr(layer, "cell", None)):
        quantizer = getattr(owner, attr, None) if owner is not None else None
        if quantizer is not None:
            return getattr(quantizer, "precision", None)
    return None


def _first_call_shape(layer: Any, which: str) -> Any:
    """Shape(s) of the layer's input or output at its first call, None when never called."""
    try:
        tensors = getattr(layer, which)
    except (AttributeError, ValueError):
        return None
    return keras.tree.map_structure(lambda t: tuple(t.shape), tensors)


def _main_shape(shape: Any) -> tuple | None:
    """The shape of the first tensor when a layer takes or gives several (e.g. initial states)."""
    while isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    return shape if isinstance(shape, tuple) else None


def _product(dims: Any) -> tuple[int, bool]:
    """Product of `dims`, counting unknown (None) ones as 1; also says whether any was unknown."""
    known = [d for d in dims if d is not None]
    return math.prod(known), len(known) != len(dims)


def _spatial(layer: Any, shape: tuple) -> tuple:
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return shape[2:]
    return shape[1:-1]


def _size(variable: Any) -> int:
    return math.prod(variable.shape)


def _input_bits(layer: Any) -> int:
    """Bits of the values the layer multiplies: its input quantizer's, else its compute dtype's."""
    bits = _quantizer_precision(layer, "input_quantizer")
    return bits if bits is not None else dtype_bits(layer.compute_dtype)


def _rnn_ops(rnn: Any, input_shape: tuple) -> tuple[list, bool]:
    """Ops of a recurrent layer: input and recurrent kernels, per step times the steps."""
    cell = rnn.cell
    time_axis = 0 if getattr(rnn, "time_major", False) else 1
    steps, unknown = _product([input_shape[time_axis]])
    state_bits = _quantizer_precision(rnn, "recurrent_input_quantizer")
    if state_bits is None:
        state_bits = dtype_bits(rnn.compute_dtype)
    ops = [(_size(cell.kernel) * steps, _input_bits(rnn), _mac_weight_bits(rnn, cell.kernel))]
    if getattr(cell, "recurrent_kernel", None) is not None:
        kernel = cell.recurrent_kernel
        ops.append((_size(kernel) * steps, state_bits, _mac_weight_bits(rnn, kernel)))
    return ops, unknown


def layer_ops(layer: Any) -> tuple[list[tuple[int, int, int]], bool]:
    """The multiply-accumulate ops of `layer` as `(count, input bits, weight bits)` triples.

    Also returns whether a dimension the count scales with was unknown (counted as 1). Layers
    without kernels have no ops.

    Args:
        layer: A built Keras layer.

    Returns:
        `(ops, unknown)`: the `(count, input bits, weight bits)` triples and whether a
        dimension was unknown.
    """
    out_shape = _main_shape(_first_call_shape(layer, "output"))
    in_shape = _main_shape(_first_call_shape(layer, "input"))
    if isinstance(layer, keras.layers.Bidirectional):
        if in_shape is None:
            return [], False
        forward, unknown = _rnn_ops(layer.forward_layer, in_shape)
        backward, _ = _rnn_ops(layer.backward_layer, in_shape)
        return forward + backward, unknown
    if isinstance(layer, keras.layers.RNN):
        if in_shape is None:
            return [], False
        return _rnn_ops(layer, in_shape)
    if isinstance(layer, _CONV_TRANSPOSE):
        shape, attr = in_shape, "kernel"
    elif isinstance(layer, _SEPARABLE):
        shape, attr = out_shape, "depthwise_kernel"
    elif isinstance(layer, _CONV + _DEPTHWISE + _DENSE):
        shape, attr = out_shape, "kernel"
    else:
        return [], False
    if shape is None:
        return [], False
    dims = shape[1:-1] if isinstance(layer, _DENSE) else _spatial(layer, shape)
    positions, unknown = _product(dims)
    kernel = getattr(layer, attr)
    ops = [(_size(kernel) * positions, _input_bits(layer), _mac_weight_bits(layer, kernel))]
    if isinstance(layer, _SEPARABLE):
        # The depthwise sums feed the pointwise kernel unquantized, at the compute dtype.
        pointwise = layer.pointwise_kernel
        middle_bits = dtype_bits(layer.compute_dtype)
        weight_bits = _mac_weight_bits(layer, pointwise)
        ops.append((_size(pointwise) * positions, middle_bits, weight_bits))
    return ops, unknown


def profile_layer(layer: Any, name: str, seen: set[int]) -> LayerProfile:
    """Profiles one (non-model) layer; variables whose id is in `seen` are skipped, then added.

    Args:
        layer: A built layer that is not a model.
        name: Name of its row.
        seen: Ids of the variables already counted (shared weights count once); updated.

    Returns:
        Its `LayerProfile`.
    """
    quantized = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
    input_precision = _quantizer_precision(quantized, "input_quantizer")
    profile = LayerProfile(
        name=name,
        class_name=type(layer).__name__,
        input_precision=input_precision,
        output_shape=_first_call_shape(layer, "output"),
    )
    trainable_ids = {id(v) for v in layer.trainable_weights}
    for variable in layer.weights:
        if id(variable) in seen:
            continue
        seen.add(id(variable))
        bits, count = weight_precision(variable), _size(variable)
        profile.params[bits] = profile.params.get(bits, 0) + count
        if id(variable) in trainable_ids:
            trainable = profile.trainable_by_precision
            trainable[bits] = trainable.get(bits, 0) + count
    profile.params = dict(sorted(profile.params.items()))
    profile.trainable_by_precision = dict(sorted(profile.trainable_by_precision.items()))
    ops, profile.macs_per_unknown_dim = layer_ops(layer)
    for count, in_bits, w_bits in ops:
        bits = max(in_bits, w_bits)
        profile.macs[bits] = profile.macs.get(bits, 0) + count
    profile.macs = dict(sorted(profile.macs.items()))
    return profile


def _profile_layers(model: keras.Model, prefix: str, seen: set[int]) -> list[LayerProfile]:
    profiles: list[LayerProfile] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        name = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            profiles.extend(_profile_layers(layer, f"{name}/", seen))
        else:
            profiles.append(profile_layer(layer, name, seen))
    return profiles


def profile_model(model: keras.Model) -> ModelProfile:
    """`ModelProfile(model)`: profiles every layer of a built `model`, expanding nested models.

    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> profile_model(model).macs_by_precision
    {32: 6}

    Args:
        model: A built `keras.Model`.

    Returns:
        Its `ModelProfile`.
    """
    return ModelProfile(model)

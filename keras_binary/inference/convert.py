"""`convert(model)`: a trained model -> an inference model whose binary layers run on packed
weights through the popcount kernels.

Each QuantDense/QuantConv2D with sign-binarized inputs and a 1-bit kernel (``alpha * +-1`` per
output channel: sign, magnitude-aware and XNOR scaling alike) becomes a
`BinaryDenseInference`/`BinaryConv2DInference` whose kernel is packed once. Its kernel scale,
bias and following BatchNorms fold into the per-channel output transform. Where only binary
layers read the result, it is produced packed through an exact integer threshold, max pooling
runs on the bits (`PackedMaxPooling2D`) and Flatten on the words, so activations stay packed
between binary layers. A binary layer with a float output read only by a two-input Add (a
residual block's shortcut) takes the Add into its kernel's epilogue (it is called on
``[x, shortcut]``), and a float input is packed inside the same call. Every other layer stays
float and is the model's own layer object (the converted model shares it and its weights;
nothing is serialized, so Lambda layers, function quantizers and custom layers convert); one
that quantizes its kernels (a first QuantDense, say) is copied to store them quantized instead
of re-quantizing latent kernels on every call (`keras_binary.inference.frozen`), or kept as is,
with a warning, if its config cannot rebuild it. A grouped QuantConv2D (up to 32 groups) runs
one kernel call per group; its input or output stays float unless each group spans whole
32-bit words of channels (multiples of 32). Dropout and noise layers are dropped (inference);
float max pooling becomes `SlicedMaxPooling2D` (the same values, much faster under XLA on CPU),
and a float32 conv with a spatial kernel (a stem: a `keras.layers.Conv2D`, or a QuantConv2D
that quantizes only its kernel) becomes `FloatConv2DInference`, which runs on every CPU thread
with the BatchNorm after it folded in (float32 sums in another order: equal to rounding).

Example:

>>> import keras, numpy as np
>>> from keras_binary.layers import QuantDense
>>> model = keras.Sequential([keras.Input((20,)), QuantDense(
...     8, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)])
>>> fast = convert(model)
>>> x = np.random.default_rng(0).normal(size=(2, 20)).astype("float32")
>>> bool(np.array_equal(fast.predict_on_batch(x), model.predict_on_batch(x)))
True
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from keras_binary import kernels
from keras_binary.inference import graph as patterns
from keras_binary.inference.binary_conv2d import SAMPLE_AXES, BinaryConv2DInference
from keras_binary.inference.binary_dense import BinaryDenseInference
from keras_binary.inference.converted_model import ConvertedModel
from keras_binary.inference.float_conv2d import FloatConv2DInference
from keras_binary.inference.folding import Affine, batch_norm_affine, threshold_transform
from keras_binary.inference.frozen import copy_frozen_weights, frozen_copy, quantizes_kernels
from keras_binary.inference.graph import LayerGraph, as_functional
from keras_binary.inference.nan_rows import MarkNaNRows, NaNRows
from keras_binary.inference.packed_pooling import PackedMaxPooling2D
from keras_binary.inference.plan import BinaryPlan, plan_binary_layer, why_not_binary
from keras_binary.inference.sliced_pooling import SlicedMaxPooling2D
from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.quantizers import NoOp, precision_of


def convert(model: keras.Model, warn: bool = True) -> keras.Model:
    """Returns the inference model of ``model`` (Sequential or functional, built).

    Args:
        model: a model of keras_binary Quant* layers and ordinary Keras layers.
        warn: warn about layers with binary inputs and kernel that stay float, and why
            (a layer with float inputs, such as a first layer, stays float silently), and
            about quantized layers whose config cannot rebuild them (kept unfrozen).

    Returns:
        A `ConvertedModel` (a functional model) with ``jit_compile=True``: one XLA program on
        JAX and TensorFlow (whose CPU default is no XLA), a Dynamo graph capture without code
        generation for `predict` and `evaluate` on PyTorch; ``compile()`` resolves
        ``jit_compile="auto"`` as Keras does, so set ``fast.jit_compile = True`` after it.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"convert expects a keras.Model, got {type(model).__name__}")
    functional = as_functional(model)
    graph = LayerGraph(functional)
    plans: dict[int, BinaryPlan] = {}
    for op in functional.operations:
        if not isinstance(op, (QuantDense, QuantConv2D)):
            continue
        plan = plan_binary_layer(op, graph)
        if plan is not None:
            plans[id(op)] = plan
        elif (warn and precision_of(op.kernel_quantizer) == 1
              and patterns.why_input_not_binary(op, graph) is None):
            warnings.warn(f"convert: {op.name!r} stays float: {why_not_binary(op, graph)}",
                          stacklevel=2)
    residual_adds = {key for key, plan in plans.items() if _ends_in_residual_add(plan, graph)}
    float_convs = {id(op): chain for op in functional.operations if id(op) not in plans
                   and (chain := _float_conv_chain(op, graph)) is not None}
    rewriter = _Rewriter(plans, warn, residual_adds, float_convs)
    cloned = keras.models.clone_model(functional, clone_function=lambda op: op,
                                      call_function=rewriter)
    return ConvertedModel(cloned.input, cloned.output, name=cloned.name)


def _pack_signs(negative: np.ndarray) -> np.ndarray:
    """Packs boolean ``negative`` along the last axis into int32 words (bit 1 = negative)."""
    values = np.where(negative, -1.0, 1.0).astype(np.float32)
    return keras.ops.convert_to_numpy(kernels.pack_bits(values, implementation="reference"))


def _ends_in_residual_add(plan: BinaryPlan, graph: LayerGraph) -> bool:
    """Whether a binary layer's float output (folded BatchNorms at most, no activation) is read
    only by a two-input Add, which its kernel's epilogue can then do (a residual block's
    shortcut): one pass over the output fewer."""
    layer = plan.layer
    linear = layer.activation in (None, keras.activations.linear)
    if (plan.output != "float" or getattr(layer, "groups", 1) != 1 or not linear
            or not all(patterns.is_foldable_batch_norm(op) for op in plan.chain)):
        return False
    end = (plan.chain[-1] if plan.chain else layer).output
    add = graph.single_consumer(end)
    return (type(add) is keras.layers.Add and len(add.input) == 2
            and tuple(add.input[0].shape) == tuple(add.input[1].shape))


# The float conv kernel keeps a 64-channel block of the kernel (k_h * k_w * C values per
# channel) in L2 while it sweeps a row; past ~1024 values the frameworks' blocked GEMMs win
# (Xeon AMX, 3x3 convs: 1.2-1.9x at 576, even at 1152, 0.55x at 2304).
MAX_FLOAT_CONV_TAPS = 1024


def _float_conv_chain(op: Any, graph: LayerGraph) -> list | None:
    """The ops a `FloatConv2DInference` replaces after a float conv: ``[]``, or ``[bn]`` when a
    foldable BatchNorm alone reads its linear output; None for a conv that stays as it is.

    A float conv is a `keras.layers.Conv2D`, or a `QuantConv2D` that quantizes only its kernel
    (a first layer, its kernel stored quantized) and pads with zeros. 1x1 kernels and kernels
    of more than `MAX_FLOAT_CONV_TAPS` values per output channel stay (the frameworks' GEMMs are
    faster there), as do other layouts, groups and dtypes, which the kernel does not take."""
    if isinstance(op, QuantConv2D):
        if (not isinstance(op.input_quantizer, (type(None), NoOp))
                or float(op.pad_values) != 0.0):
            return None
    elif type(op) is not keras.layers.Conv2D:
        return None
    if (op.data_format != "channels_last" or op.groups != 1
            or tuple(op.kernel_size) == (1, 1) or op.compute_dtype != "float32"
            or None in tuple(op.input.shape[1:])
            or int(np.prod(op.kernel_size)) * op.input.shape[-1] > MAX_FLOAT_CONV_TAPS):
        return None
    batch_norm = graph.single_consumer(op.output)
    linear = op.activation in (None, keras.activations.linear)
    return [batch_norm] if linear and patterns.is_foldable_batch_norm(batch_norm) else []


class _Rewriter:
    """The ``call_function`` of `keras.models.clone_model` that builds the inference graph.

    A binary layer whose output only a residual Add reads (`_ends_in_residual_add`) is not
    called where it stands: it returns a placeholder, and the Add calls it on ``[x, shortcut]``.
    """

    def __init__(self, plans: dict[int, BinaryPlan], warn: bool, residual_adds: set[int],
                 float_convs: dict[int, list]):
        self.plans = plans
        self.float_convs = float_convs
        self.warn = warn
        self.residual_adds = residual_adds
        self.pending: dict[int, tuple[Any, Any]] = {}  # placeholder -> (layer, its input)
        self.absorbed = {id(op) for plan in plans.values() for op in plan.chain}
        self.absorbed |= {id(op) for chain in float_convs.values() for op in chain}
        self.layouts: dict[int, tuple[int, int]] = {}  # packed tensor -> (positions, channels)
        self.nan_flags: dict[int, Any] = {}  # packed tensor -> NaN flags of the float input
        self.called: set[int] = set()

    def __call__(self, op: Any, *args: Any, **kwargs: Any) -> Any:
        if id(op) in self.called:
            raise ValueError(
                f"convert: layer {op.name!r} is called more than once in the model (a shared "
                "layer); give each call its own layer"
            )
        self.called.add(id(op))
        if id(op) in self.plans:
            return self._binary(self.plans[id(op)], args[0])
        if id(op) in self.float_convs:
            return self._float_conv(op, self.float_convs[id(op)], args[0])
        inputs = args[0] if args else None
        if id(op) in self.absorbed or patterns.is_identity(op):
            return inputs
        if id(inputs) in self.layouts:  # packed input: Flatten or a sign activation
            return self._packed_passthrough(op, inputs)
        if isinstance(op, keras.Model):
            return convert(op, self.warn)(*args, **kwargs)
        if type(op) is keras.layers.Add and any(id(t) in self.pending for t in inputs):
            return self._residual_add(inputs)
        if not isinstance(op, keras.layers.Layer):
            return op(*args, **kwargs)
        if patterns.is_max_pool_2d(op) and keras.backend.is_float_dtype(inputs.dtype):
            pool = SlicedMaxPooling2D(op.pool_size, op.strides, op.padding, name=op.name)
            return pool(inputs)
        return self._float(op, *args, **kwargs)

    def _float(self, op: Any, *args: Any, **kwargs: Any) -> Any:
        """A float layer: the live layer itself (nothing is serialized or loaded), or, when it
        quantizes kernels, a copy that stores them quantized."""
        if not quantizes_kernels(op):
            return op(*args, **kwargs)
        try:
            clone = frozen_copy(op)
        except ValueError as error:
            if self.warn:
                warnings.warn(f"convert: {error}; it is kept as is and quantizes its kernel on "
                              "every call", stacklevel=2)
            return op(*args, **kwargs)
        outputs = clone(*args, **kwargs)
        copy_frozen_weights(op, clone)
        return outputs

    def _float_conv(self, op: keras.layers.Conv2D, chain: list, inputs: Any) -> Any:
        """A float conv and its folded BatchNorm (if any) as one `FloatConv2DInference`; a
        QuantConv2D's kernel is stored quantized."""
        affine = Affine.identity(op.filters)
        if op.use_bias:
            affine = affine.then(1.0, keras.ops.convert_to_numpy(op.bias))
        for batch_norm in chain:
            affine = affine.then(*batch_norm_affine(batch_norm))
        activation = op.activation if not chain else None
        new = FloatConv2DInference(op.filters, op.kernel_size, strides=op.strides,
                                   padding=op.padding, dilation_rate=op.dilation_rate,
                                   activation=activation, name=op.name)
        outputs = new(inputs)
        kernel = op.quantize_kernel(op.kernel) if isinstance(op, QuantConv2D) else op.kernel
        new.set_float_weights(keras.ops.convert_to_numpy(kernel), affine.scale, affine.bias)
        return outputs

    def _residual_add(self, inputs: list) -> Any:
        """The Add of a pending binary layer's output: that layer on ``[x, other input]``."""
        fused = next(i for i, t in enumerate(inputs) if id(t) in self.pending)
        layer, x = self.pending.pop(id(inputs[fused]))
        shortcut = inputs[1 - fused]
        if id(shortcut) in self.pending:  # both are binary layers: the other runs alone
            other, other_x = self.pending.pop(id(shortcut))
            shortcut = other(other_x)
        return layer([x, shortcut])

    def _packed_passthrough(self, op: Any, inputs: Any) -> Any:
        positions, channels = self.layouts[id(inputs)]
        if patterns.is_sign_activation(op):
            return inputs
        if isinstance(op, keras.layers.Flatten):
            outputs = keras.layers.Flatten(name=op.name)(inputs)
            spatial = int(np.prod(inputs.shape[1:-1]))
            self.layouts[id(outputs)] = (positions * spatial, channels)
            if id(inputs) in self.nan_flags:
                self.nan_flags[id(outputs)] = self.nan_flags[id(inputs)]
            return outputs
        raise ValueError(f"convert: internal error, {op.name!r} cannot read packed bits")

    def _binary(self, plan: BinaryPlan, inputs: Any) -> Any:
        layer = plan.layer
        channels_out = plan.sign_bits.shape[-1]
        affine = Affine(plan.alpha, np.zeros(channels_out))
        if layer.bias is not None:
            affine = affine.then(1.0, keras.ops.convert_to_numpy(layer.bias))
        pools, scales_after = [], []
        for op in plan.chain:
            if patterns.is_foldable_batch_norm(op):
                scale, bias = batch_norm_affine(op)
                affine = affine.then(scale, bias)
                scales_after = [s * scale for s in scales_after]
            elif patterns.is_max_pool_2d(op):
                pools.append(op)
                scales_after.append(np.ones(channels_out))
        activation = None if plan.chain or plan.output == "packed" else layer.activation
        if isinstance(layer, QuantDense):
            layout = self.layouts.get(id(inputs), (1, plan.sign_bits.shape[0]))
            new, bits, offset = self._dense(plan, layout, activation)
        else:
            layout = None
            new, bits, offset = self._conv(plan, activation)
        # Packed bits cannot hold NaN: flags of a float input ride beside the packed output.
        flags = self.nan_flags.get(id(inputs))
        if plan.output == "packed" and id(inputs) not in self.layouts:
            axes = (-1,) if isinstance(layer, QuantDense) else SAMPLE_AXES
            flags = NaNRows(axes, name=f"{layer.name}_nan_rows")(inputs)
        fuse_add = id(layer) in self.residual_adds and activation is None and flags is None \
            and id(inputs) not in self.layouts
        if fuse_add:  # called later by the Add (`_residual_add`), on [inputs, shortcut]
            new.build(tuple(inputs.shape))
            outputs = keras.KerasTensor(new.compute_output_spec(inputs).shape, "float32")
            self.pending[id(outputs)] = (new, inputs)
        else:
            outputs = new(inputs)
        affine = affine.shifted(offset)
        if plan.output == "packed":
            scale, bias = threshold_transform(affine, bits)
        else:
            scale, bias = affine.scale.astype(np.float32), affine.bias.astype(np.float32)
        new.set_packed_weights(packed_kernel(plan.sign_bits, layout, offset), scale, bias)
        for op, after in zip(pools, scales_after, strict=True):
            pool = PackedMaxPooling2D(channels_out, op.pool_size, op.strides, op.padding,
                                      name=op.name)
            outputs = pool(outputs)
            pool.set_or_channels(after < 0)
        if plan.output == "packed":
            self.layouts[id(outputs)] = (1, channels_out)
            if flags is not None:
                self.nan_flags[id(outputs)] = flags
        elif flags is not None:
            outputs = MarkNaNRows(name=f"{layer.name}_nan_mark")([outputs, flags])
        return outputs

    def _dense(self, plan: BinaryPlan, layout: tuple[int, int], activation: Any):
        """The dense layer; a flattened packed input of C % 32 != 0 channels per position is read
        with the kernel laid out per position, padded with +1 (an offset of +1 per pad bit)."""
        positions, channels = layout
        kernel_bits = plan.sign_bits.shape[0]
        bits = positions * kernels.packed_words(channels) * 32 if positions > 1 else kernel_bits
        offset = bits - kernel_bits
        new = BinaryDenseInference(plan.sign_bits.shape[1], bits, output=plan.output,
                                   activation=activation, name=plan.layer.name)
        return new, bits, offset

    def _conv(self, plan: BinaryPlan, activation: Any):
        layer = plan.layer
        pad_value = "zero" if layer.padding == "same" and layer.pad_values == 0.0 else "one"
        new = BinaryConv2DInference(
            layer.filters, layer.kernel_size, channels=layer.kernel.shape[2] * layer.groups,
            strides=layer.strides, padding=layer.padding, dilation_rate=layer.dilation_rate,
            pad_value=pad_value, output=plan.output, activation=activation,
            groups=layer.groups, name=layer.name,
        )
        return new, int(np.prod(plan.sign_bits.shape[:-1])), 0


def packed_kernel(sign_bits: np.ndarray, layout: tuple[int, int] | None, offset: int) -> np.ndarray:
    """The packed kernel from the kernel sign bits (True = negative): conv (``layout`` None)
    [Cout, kh, kw, words]; dense [units, words], laid out per input position when ``offset``
    (padded channels)."""
    if layout is None:
        return _pack_signs(np.transpose(sign_bits, (3, 0, 1, 2)))
    positions, channels = layout
    if offset:
        grouped = sign_bits.reshape(positions, channels, -1)
        padded = np.zeros((positions, kernels.packed_words(channels) * 32, grouped.shape[-1]), bool)
        padded[:, :channels] = grouped
        sign_bits = padded.reshape(-1, grouped.shape[-1])
    return _pack_signs(sign_bits.T)

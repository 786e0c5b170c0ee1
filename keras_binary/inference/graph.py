"""Who produces and who consumes each tensor of a functional model, and the layer patterns
that the conversion recognizes (identity at inference, sign activations, foldable BatchNorms,
max pooling, binary layers).

Example:

>>> import keras
>>> inputs = keras.Input((4,))
>>> model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dropout(0.5)(inputs)))
>>> graph = LayerGraph(model)
>>> [type(op).__name__ for op in graph.consumers(inputs)]
['Dropout']
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import keras

from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.quantizers import ApproxSign, NoOp, SteSign, SwishSign, approx_sign, ste_sign
from keras_binary.quantizers import swish_sign as _swish_sign

SIGN_QUANTIZERS = (SteSign, ApproxSign, SwishSign)
SIGN_FUNCTIONS = (ste_sign, approx_sign, _swish_sign)
IDENTITY_LAYERS = (
    keras.layers.Dropout, keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D, keras.layers.GaussianDropout, keras.layers.GaussianNoise,
    keras.layers.AlphaDropout,
)


def as_functional(model: keras.Model) -> keras.Model:
    """The model itself if functional, else a functional model over its layers (Sequential)."""
    if hasattr(model, "operations"):
        return model
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"convert needs a built model with known inputs; build {model.name!r} with "
            f"keras.Input first ({error})"
        ) from None
    if not inputs:
        raise ValueError(f"convert needs a built model; {model.name!r} has no inputs yet")
    return keras.Model(inputs, outputs, name=model.name)


def is_sign(function: Any) -> bool:
    """True for the binary sign quantizers (sign(x), sign(0) = +1, as the kernels pack)."""
    return isinstance(function, SIGN_QUANTIZERS) or function in SIGN_FUNCTIONS


def is_identity(op: Any) -> bool:
    """Layers that are the identity at inference (dropout, noise, linear activation)."""
    if isinstance(op, IDENTITY_LAYERS):
        return True
    return (isinstance(op, keras.layers.Activation)
            and op.activation is keras.activations.linear)


def is_sign_activation(op: Any) -> bool:
    return isinstance(op, keras.layers.Activation) and is_sign(op.activation)


def is_foldable_batch_norm(op: Any) -> bool:
    if not isinstance(op, keras.layers.BatchNormalization):
        return False
    rank = len(op.output.shape)
    return op.axis in (-1, rank - 1)


def is_max_pool_2d(op: Any) -> bool:
    return isinstance(op, keras.layers.MaxPooling2D) and op.data_format == "channels_last"


class LayerGraph:
    """Producers and consumers of the tensors of a functional model (first call of each op)."""

    def __init__(self, model: keras.Model):
        self.model_outputs = {id(t) for t in model.outputs}
        self._consumers: dict[int, list] = defaultdict(list)
        self._producer: dict[int, Any] = {}
        for op in model.operations:
            if isinstance(op, keras.layers.InputLayer):
                continue
            for tensor in keras.tree.flatten(op.input):
                self._consumers[id(tensor)].append(op)
            for tensor in keras.tree.flatten(op.output):
                self._producer[id(tensor)] = op

    def consumers(self, tensor: Any) -> list:
        return list(self._consumers.get(id(tensor), []))

    def producer(self, tensor: Any) -> Any:
        return self._producer.get(id(tensor))

    def is_output(self, tensor: Any) -> bool:
        return id(tensor) in self.model_outputs

    def single_consumer(self, tensor: Any) -> Any:
        """The only consumer of ``tensor``, or None (several, none, or a model output)."""
        consumers = self.consumers(tensor)
        if self.is_output(tensor) or len(consumers) != 1:
            return None
        return consumers[0]

    def is_signed(self, tensor: Any) -> bool:
        """True when ``tensor`` holds +-1 values: a sign activation, through identity layers."""
        op = self.producer(tensor)
        while op is not None and is_identity(op):
            op = self.producer(op.input)
        return op is not None and is_sign_activation(op)


def why_input_not_binary(layer: Any, graph: LayerGraph) -> str | None:
    """Why ``layer``'s inputs are not +-1; None when they are (a sign quantizer, or NoOp(1)/None
    on +-1 values)."""
    quantizer = layer.input_quantizer
    if is_sign(quantizer):
        return None
    declared = quantizer is None or (isinstance(quantizer, NoOp) and quantizer.precision == 1)
    if declared and graph.is_signed(layer.input):
        return None
    return f"its inputs are not binarized by a sign (input_quantizer={quantizer!r})"


# A grouped conv converts to one kernel call per group; at 128 groups of one channel (28x28,
# four layers) that was 2.2x slower than the float model on JAX and even on TensorFlow, at 32
# groups 1.7x / 1.4x faster (BENCHMARKS.md, "Grouped binary convolutions").
MAX_GROUPS = 32


def why_layout_unsupported(layer: Any) -> str | None:
    """Why the kernels do not support ``layer``'s layout; None for a supported
    QuantDense/QuantConv2D."""
    if isinstance(layer, QuantDense):
        return None
    if not isinstance(layer, QuantConv2D):
        return f"{type(layer).__name__} has no binary kernel"
    if layer.data_format != "channels_last":
        return "the kernels need data_format='channels_last'"
    if layer.groups > MAX_GROUPS:
        return (f"groups={layer.groups}: one kernel call per group, slower than the float "
                f"convolution beyond {MAX_GROUPS} groups (bench_grouped_conv.py)")
    if layer.padding == "same" and layer.pad_values not in (0.0, 1.0):
        return f"pad_values={layer.pad_values} (the kernels pad with +1 or 0)"
    if None in tuple(layer.input.shape[1:3]):
        return "the spatial input size is unknown"
    return None

"""`export_lce(model, path)`: a trained keras-binary model -> a Larq Compute Engine flatbuffer.

Larq Compute Engine (LCE) is a TFLite runtime with optimized ARM kernels for binary layers
(`LceBconv2d`, `LceQuantize`, `LceBMaxPool2d`). Its converter matches the TensorFlow graph of
``sign(sign(x) + c)`` (the form `keras_binary.math.sign` lowers to) followed by a convolution with
+-alpha weights, and replaces both with one binary convolution. LCE has no binary
fully-connected op, so each binary QuantDense is exported as reshape -> 1x1 convolution ->
reshape (the same values), which LCE converts to `LceBconv2d` too.

The model goes through Keras's `ExportArchive` (a ``training=False`` endpoint, batch fixed to 1)
to a temporary SavedModel, then `larq_compute_engine.convert_saved_model`; the flatbuffer is
written atomically. Exporting needs the TensorFlow backend and the ``lce`` extra; the model can
have been trained under any backend.

Example::

    # KERAS_BACKEND=tensorflow, pip install keras-binary[lce]
    from keras_binary.inference import export_lce, lce_op_histogram
    export_lce(model, "model.tflite")
    lce_op_histogram("model.tflite")   # {'LceBconv2d': 5, 'LceQuantize': 4, ...}
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import keras

from keras_binary.atomic_io import write_bytes
from keras_binary.inference.folding import binary_kernel
from keras_binary.inference.frozen import copy_frozen_weights, frozen_copy, quantizes_kernels
from keras_binary.inference.graph import (
    LayerGraph,
    as_functional,
    is_sign,
    why_input_not_binary,
)
from keras_binary.inference.lce_flatbuffer import import_lce, operators
from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.math import sign
from keras_binary.quantizers import precision_of

__all__ = ["DenseAsConv1x1", "export_lce", "lce_binary_layers"]

# LCE's own ops (LceBconv2d, LceQuantize, ...); every other custom op has no runtime kernel.
LCE_OP_PREFIX = "Lce"
# LCE's binary convolution pads its +-1 inputs with 0 (a correction term) or with +1 (a 1 bit).
LCE_PAD_VALUES = (0.0, 1.0)


def _binarizes_inputs_and_kernel(layer: Any, graph: LayerGraph) -> bool:
    """Whether `layer` reads +-1 inputs and quantizes a kernel to 1 bit (a recurrent layer:
    its cell does)."""
    if isinstance(layer, (QuantDense, QuantConv2D)):
        return why_input_not_binary(layer, graph) is None and binary_kernel(layer) is not None
    quantized = layer if hasattr(layer, "quantized_kernels") else getattr(layer, "cell", None)
    if not hasattr(quantized, "quantized_kernels") or not hasattr(quantized, "input_quantizer"):
        return False
    return is_sign(quantized.input_quantizer) and any(
        precision_of(getattr(quantized, attr, None)) == 1
        for attr, _, _ in quantized.quantized_kernels
    )


def _check_representable(layer: Any) -> None:
    """Raises ValueError (one line, naming `layer`) where LCE has no binary op for it."""
    if not isinstance(layer, (QuantDense, QuantConv2D)):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has binary inputs and a binary "
            "kernel, but Larq Compute Engine has binary ops only for 2D convolutions and "
            "dense layers: use QuantConv2D/QuantDense there, or keep its inputs float."
        )
    if isinstance(layer, QuantDense):
        return
    if layer.data_format != "channels_last":
        raise ValueError(
            f"Layer {layer.name!r}: Larq Compute Engine needs data_format='channels_last', "
            f"not {layer.data_format!r}; rebuild the model channels_last and copy the weights."
        )
    if layer.padding == "same" and layer.pad_values not in LCE_PAD_VALUES:
        raise ValueError(
            f"Layer {layer.name!r} has pad_values={layer.pad_values}, but Larq Compute "
            "Engine's binary convolution pads with 0 or 1 only; train it with pad_values=0 "
            "or pad_values=1."
        )
    spatial = tuple(layer.input.shape[1:3])
    window = tuple((k - 1) * d + 1 for k, d in zip(layer.kernel_size, layer.dilation_rate,
                                                     strict=True))
    if (layer.padding == "same" and layer.pad_values == 0.0 and None not in spatial
            and any(size < extent for size, extent in zip(spatial, window, strict=True))):
        # Measured: LCE 0.16's zero-padding correction gives wrong outputs there (2x2 input,
        # 3x3 kernel: 97% of them off), while pad_values=1 and inputs >= the kernel match.
        raise ValueError(
            f"Layer {layer.name!r} zero-pads a {spatial[0]}x{spatial[1]} input for a "
            f"{window[0]}x{window[1]} kernel, which Larq Compute Engine 0.16 computes wrongly "
            "(inputs smaller than the kernel); use a larger input size or pad_values=1."
        )


def lce_binary_layers(model: keras.Model) -> list[str]:
    """The names of the layers that `export_lce` turns into LCE binary convolutions.

    They are the QuantConv2D/QuantDense layers whose inputs are binarized by a sign (their
    input quantizer, or a sign activation before them) and whose quantized kernel is
    ``alpha * +-1`` per output channel (sign, magnitude-aware and XNOR scaling alike). Any
    other layer with sign-binarized inputs and a 1-bit kernel (depthwise, separable, 1D/3D,
    transposed, recurrent) is refused: LCE has no binary op for it.

    Args:
        model: A built keras-binary model (Sequential or functional).

    Returns:
        The layer names, in the model's order.

    Raises:
        ValueError: a binary layer that LCE cannot represent (the message names it and the fix).

    Example:

    >>> import keras
    >>> from keras_binary.layers import QuantDense
    >>> model = keras.Sequential([keras.Input((8,)), QuantDense(
    ...     4, kernel_quantizer="ste_sign", name="first"), QuantDense(
    ...     2, input_quantizer="ste_sign", kernel_quantizer="ste_sign", name="second")])
    >>> lce_binary_layers(model)
    ['second']
    """
    functional = as_functional(model)
    graph = LayerGraph(functional)
    names = []
    for layer in functional.operations:
        if isinstance(layer, keras.Model):
            names.extend(lce_binary_layers(layer))
        elif _binarizes_inputs_and_kernel(layer, graph):
            _check_representable(layer)
            names.append(layer.name)
    return names


class DenseAsConv1x1(keras.layers.Layer):
    """A QuantDense computed as reshape -> 1x1 convolution -> reshape (export only).

    It holds the dense layer itself (its variables and quantizers), so its outputs are the
    dense layer's; the convolution is what Larq Compute Engine turns into `LceBconv2d`.
    LCE fuses a sign into the convolution only when nothing sits between them, so inputs that
    an earlier sign activation binarized (`binary_inputs=True` with a NoOp/None input
    quantizer) are passed through `keras_binary.math.sign` again after the reshape: the
    identity on +-1 values.

    Args:
        dense: The QuantDense to compute.
        binary_inputs: Whether the inputs are +-1 already (then re-signed after the reshape).
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> from keras_binary.layers import QuantDense
    >>> dense = QuantDense(3, input_quantizer="ste_sign", kernel_quantizer="ste_sign")
    >>> x = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    >>> bool(np.allclose(DenseAsConv1x1(dense)(x), dense(x)))
    True
    """

    def __init__(self, dense: QuantDense, binary_inputs: bool = False, **kwargs: Any):
        super().__init__(name=kwargs.pop("name", dense.name), **kwargs)
        self.dense = dense
        self.binary_inputs = binary_inputs

    def build(self, input_shape: Any) -> None:
        if not self.dense.built:
            self.dense.build(input_shape)

    def call(self, inputs: Any) -> Any:
        dense = self.dense
        leading = tuple(keras.ops.shape(inputs)[:-1])
        x = keras.ops.reshape(inputs, (-1, 1, 1, inputs.shape[-1]))
        if is_sign(dense.input_quantizer):
            x = dense.input_quantizer(x)
        elif self.binary_inputs:
            x = sign(x)
        elif dense.input_quantizer is not None:
            x = dense.input_quantizer(x)
        kernel = dense.quantize_kernel(dense.kernel)
        x = keras.ops.conv(x, keras.ops.reshape(kernel, (1, 1, *kernel.shape)))
        x = keras.ops.reshape(x, (*leading, kernel.shape[-1]))
        if dense.use_bias:
            x = x + dense.bias
        return dense.activation(x)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.dense.compute_output_shape(input_shape)


def _frozen(layer: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """Calls a copy of `layer` that stores its kernels quantized; returns (copy, outputs)."""
    try:
        copy = frozen_copy(layer)
    except ValueError as error:
        warnings.warn(f"export_lce: {error}; it is exported quantizing its kernel in the "
                      "graph, which LCE may keep float for large kernels", stacklevel=3)
        return layer, layer(*args, **kwargs)
    outputs = copy(*args, **kwargs)
    copy_frozen_weights(layer, copy)
    return copy, outputs


def _lce_graph(model: keras.Model) -> keras.Model:
    """`model` as exported: each layer that quantizes kernels replaced by a copy storing them
    quantized (TensorFlow does not constant-fold a sign over a kernel past ~10 MB, which LCE
    then keeps float), each binary QuantDense computed by a `DenseAsConv1x1`."""
    binary = set(lce_binary_layers(model))

    def call(layer: Any, *args: Any, **kwargs: Any) -> Any:
        if not quantizes_kernels(layer):
            return layer(*args, **kwargs)
        if isinstance(layer, QuantDense) and layer.name in binary:
            copy = frozen_copy(layer)
            copy.build(layer.input.shape)
            copy_frozen_weights(layer, copy)
            return DenseAsConv1x1(copy, binary_inputs=True)(*args, **kwargs)
        return _frozen(layer, *args, **kwargs)[1]

    return keras.models.clone_model(as_functional(model), clone_function=lambda layer: layer,
                                    call_function=call, recursive=True)


def _export_signature(model: keras.Model) -> list[keras.InputSpec]:
    """Input specs with an unknown batch fixed to 1; other dimensions must be known."""
    specs = []
    for tensor in model.inputs:
        shape = (tensor.shape[0] or 1, *tensor.shape[1:])
        if None in shape:
            raise ValueError(
                f"Input {tensor.name!r} of model {model.name!r} has shape {tuple(tensor.shape)}; "
                "Larq Compute Engine needs every dimension but the batch known: build the "
                "model with a fixed input_shape (and copy the weights)."
            )
        specs.append(keras.InputSpec(shape=shape, dtype=tensor.dtype))
    return specs


def _layer_names(model: keras.Model) -> list[str]:
    names = []
    for op in as_functional(model).operations:
        names.append(op.name)
        if isinstance(op, keras.Model):
            names.extend(_layer_names(op))
    return names


def _layer_of(tensor_name: str, layer_names: list[str]) -> str | None:
    """The layer whose name scope (``model_1/<layer>_1/Op``) a converted tensor's name holds."""
    for scope in tensor_name.split("/"):
        matches = [name for name in layer_names
                   if scope == name or re.fullmatch(re.escape(name) + r"_\d+", scope)]
        if matches:
            return max(matches, key=len)
    return None


def _check_runtime_ops(flatbuffer: bytes, model: keras.Model) -> None:
    """Raises ValueError naming the layer when the converter left a custom op that neither
    TFLite nor LCE implements (it converts such ops without error; the runtime then fails)."""
    unknown = [op for op in operators(flatbuffer)
               if op.custom and not op.name.startswith(LCE_OP_PREFIX)]
    if not unknown:
        return
    names = _layer_names(model)
    layers = sorted({_layer_of(tensor, names) or "?" for op in unknown for tensor in op.outputs})
    ops = sorted({op.name for op in unknown})
    raise ValueError(
        f"Layer(s) {', '.join(map(repr, layers))} of model {model.name!r} need ops that neither "
        f"TFLite nor Larq Compute Engine implements ({', '.join(ops)}); "
        "replace them with layers made of TFLite builtin ops, or leave them out of the export."
    )


def export_lce(model: keras.Model, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Writes `model` as a Larq Compute Engine flatbuffer (``.tflite``) to `path`.

    The model is the trained Keras model itself (not `convert`'s output). Binary layers (see
    `lce_binary_layers`) become `LceBconv2d`; a max pooling between a binary layer's output
    and a sign becomes `LceBMaxPool2d`; every other layer becomes its float TFLite op. Inputs
    and outputs stay float32; an unknown batch size is fixed to 1 (the flatbuffer's shapes are
    fixed), a batch size the model's inputs declare is kept.

    NaN is the one behaviour that differs: Keras's `sign(NaN)` is NaN, but LCE packs every
    input of a binary convolution into a bit, so a NaN input yields finite outputs there.
    Check inputs for non-finite values before feeding them to the flatbuffer on the device.

    Args:
        model: A built keras-binary model with known input sizes (Sequential or functional).
        path: Where to write the flatbuffer.
        overwrite: Whether an existing file at `path` is replaced.

    Returns:
        `path` as a `Path`.

    Raises:
        RuntimeError: the Keras backend is not TensorFlow (set KERAS_BACKEND=tensorflow).
        ImportError: Larq Compute Engine is not installed (``pip install keras-binary[lce]``).
        ValueError: a layer LCE cannot represent (or one the converter leaves as an op no
            runtime implements), or an unknown input size (the message names it and the fix).
        FileExistsError: `path` exists and `overwrite` is False.

    Example::

        export_lce(model, "model.tflite")
        lce_predict("model.tflite", x_test[:8])   # LCE's interpreter, one sample at a time

    References:
        Larq Compute Engine (Bannink et al., 2021): https://arxiv.org/abs/2011.09398
    """
    lce = import_lce()
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    graph_model = _lce_graph(model)
    signature = _export_signature(graph_model)
    archive = keras.export.ExportArchive()
    archive.track(graph_model)
    archive.add_endpoint(
        "serve", lambda *inputs: graph_model(list(inputs) if len(inputs) > 1 else inputs[0],
                                             training=False),
        input_signature=signature,
    )
    with tempfile.TemporaryDirectory(prefix="keras_binary_lce_") as folder:
        saved_model = os.path.join(folder, "saved_model")
        archive.write_out(saved_model, verbose=False)
        flatbuffer = lce.convert_saved_model(saved_model)
    _check_runtime_ops(flatbuffer, graph_model)
    write_bytes(path, flatbuffer, overwrite=overwrite)
    return path

"""The float layers of a converted model as standard ONNX ops (tensors stay NHWC; convolutions
and poolings transpose to ONNX's NCHW around themselves).

Each emitter takes the `OnnxGraph`, the layer, its input names and its input and output Keras
tensors, and returns the output name. `FLOAT_EMITTERS` maps layer classes to them; layers
outside it and activations outside `activation` raise ValueError naming the layer.

Example::

    y = FLOAT_EMITTERS[keras.layers.Dense](graph, layer, ["x"], [x_tensor], y_tensor)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_binary import kernels
from keras_binary.inference import graph as patterns
from keras_binary.inference.float_conv2d import FloatConv2DInference
from keras_binary.inference.onnx_graph import OnnxGraph
from keras_binary.inference.sliced_pooling import SlicedMaxPooling2D, window_geometry
from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.quantizers import NoOp


class ExportError(ValueError):
    """A layer, activation or quantizer that `export_onnx` cannot express in ONNX."""


def _np(value: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def sign(graph: OnnxGraph, x: str) -> str:
    """sign(x) with sign(0) = +1 and sign(NaN) = NaN, as the binary quantizers compute it."""
    negative = graph.node("Less", [x, graph.constant("zero", np.float32(0))])
    signs = graph.node("Where", [negative, graph.constant("minus_one", np.float32(-1)),
                                 graph.constant("one", np.float32(1))])
    return graph.node("Where", [graph.node("IsNaN", [x]), x, signs], hint="sign")


def activation(graph: OnnxGraph, fn: Any, x: str, owner: str) -> str:
    """``fn(x)`` for the activations the zoo models use; ``owner`` names the layer in errors."""
    if fn is None or fn is keras.activations.linear:
        return x
    if patterns.is_sign(fn):
        return sign(graph, x)
    simple = {keras.activations.relu: "Relu", keras.activations.sigmoid: "Sigmoid",
              keras.activations.tanh: "Tanh"}
    if fn in simple:
        return graph.node(simple[fn], [x])
    if fn is keras.activations.softmax:
        return graph.node("Softmax", [x], axis=-1)
    raise ExportError(f"export_onnx: layer {owner!r} uses activation {fn!r}, which has no ONNX "
                      "export (relu, sigmoid, tanh, softmax, linear and sign do)")


def quantized_input(graph: OnnxGraph, layer: Any, x: str) -> str:
    """The input after a Quant* layer's input quantizer (none, NoOp or a sign)."""
    quantizer = getattr(layer, "input_quantizer", None)
    if quantizer is None or isinstance(quantizer, NoOp):
        return x
    if patterns.is_sign(quantizer):
        return sign(graph, x)
    raise ExportError(f"export_onnx: layer {layer.name!r} has input_quantizer {quantizer!r}; "
                      "only sign quantizers (or none) export to ONNX")


def kernel_value(layer: Any) -> np.ndarray:
    """The kernel as the layer multiplies by it (its kernel quantizer applied, if any)."""
    quantizer = getattr(layer, "kernel_quantizer", None)
    kernel = layer.kernel
    return _np(quantizer(kernel) if quantizer is not None else kernel).astype(np.float32)


def _dense(graph, layer, names, inputs, output):
    x = quantized_input(graph, layer, names[0])
    y = graph.node("MatMul", [x, graph.constant(f"{layer.name}/kernel", kernel_value(layer))])
    if layer.use_bias:
        y = graph.node("Add", [y, graph.constant(f"{layer.name}/bias", _np(layer.bias))])
    return activation(graph, layer.activation, y, layer.name)


def same_pads(input_hw, kernel_hw, strides, dilation, padding) -> list[int]:
    """ONNX pads [top, left, bottom, right] of TensorFlow's "valid"/"same" convention."""
    g = kernels.Conv2dGeometry.create(input_hw, kernel_hw, 1, strides, padding, dilation)
    return [g.pad_top, g.pad_left, g.pad_bottom, g.pad_right]


def _conv(graph, layer, names, inputs, output):
    if layer.data_format != "channels_last":
        raise ExportError(f"export_onnx: layer {layer.name!r} is channels_first; export "
                          "supports channels_last models")
    x = graph.to_nchw(quantized_input(graph, layer, names[0]))
    pads = same_pads(inputs[0].shape[1:3], layer.kernel_size, layer.strides,
                     layer.dilation_rate, layer.padding)
    pad_value = float(getattr(layer, "pad_values", 0.0))
    if pad_value != 0.0 and any(pads):
        # Pad with the layer's constant first; the Conv itself then pads nothing.
        onnx_pads = [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]
        x = graph.node("Pad", [x, graph.constant("pads", np.array(onnx_pads, np.int64)),
                               graph.constant("pad_value", np.float32(pad_value))])
        pads = [0, 0, 0, 0]
    kernel = np.transpose(kernel_value(layer), (3, 2, 0, 1))  # HWIO -> OIHW
    args = [x, graph.constant(f"{layer.name}/kernel", kernel)]
    if layer.use_bias:
        args.append(graph.constant(f"{layer.name}/bias", _np(layer.bias)))
    y = graph.node("Conv", args, kernel_shape=list(layer.kernel_size),
                   strides=list(layer.strides), dilations=list(layer.dilation_rate),
                   pads=[pads[0], pads[1], pads[2], pads[3]], group=layer.groups)
    return activation(graph, layer.activation, graph.to_nhwc(y), layer.name)


def _float_conv(graph, layer, names, inputs, output):
    """`FloatConv2DInference`: one Conv whose weights and bias carry the affine (what ONNX
    Runtime's own Conv + Mul + Add fusion would make of it)."""
    x = graph.to_nchw(names[0])
    pads = same_pads(inputs[0].shape[1:3], layer.kernel_size, layer.strides,
                     layer.dilation_rate, layer.padding)
    scale = _np(layer.scale).astype(np.float64)
    kernel = (_np(layer.kernel).astype(np.float64) * scale).astype(np.float32)
    args = [x, graph.constant(f"{layer.name}/kernel", np.transpose(kernel, (3, 2, 0, 1))),
            graph.constant(f"{layer.name}/bias", _np(layer.bias).astype(np.float32))]
    y = graph.node("Conv", args, kernel_shape=list(layer.kernel_size),
                   strides=list(layer.strides), dilations=list(layer.dilation_rate),
                   pads=[pads[0], pads[1], pads[2], pads[3]])
    return activation(graph, layer.activation, graph.to_nhwc(y), layer.name)


def _pool(op_type: str):
    def emit(graph, layer, names, inputs, output):
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ExportError(f"export_onnx: layer {layer.name!r} is channels_first")
        pool, strides = tuple(layer.pool_size), tuple(layer.strides)
        g = window_geometry(inputs[0].shape[1], inputs[0].shape[2], pool, strides,
                            layer.padding)
        attrs = {"count_include_pad": 0} if op_type == "AveragePool" else {}
        y = graph.node(op_type, [graph.to_nchw(names[0])], kernel_shape=list(pool),
                       strides=list(strides),
                       pads=[g.pad_top, g.pad_left, g.pad_bottom, g.pad_right], **attrs)
        return graph.to_nhwc(y)
    return emit


def _batch_norm(graph, layer, names, inputs, output):
    if not patterns.is_foldable_batch_norm(layer):
        raise ExportError(f"export_onnx: BatchNormalization {layer.name!r} normalizes axis "
                          f"{layer.axis}; export supports the last axis")
    inv = 1.0 / np.sqrt(_np(layer.moving_variance).astype(np.float64) + layer.epsilon)
    scale = inv * (_np(layer.gamma) if layer.scale else 1.0)
    shift = (_np(layer.beta) if layer.center else 0.0) - _np(layer.moving_mean) * scale
    y = graph.node("Mul", [names[0], graph.constant(f"{layer.name}/scale", scale, "float32")])
    return graph.node("Add", [y, graph.constant(f"{layer.name}/shift", shift, "float32")])


def _global_average(graph, layer, names, inputs, output):
    if layer.data_format != "channels_last":
        raise ExportError(f"export_onnx: layer {layer.name!r} is channels_first")
    return graph.node("ReduceMean", [names[0]], axes=[1, 2], keepdims=int(layer.keepdims))


def _activation(graph, layer, names, inputs, output):
    return activation(graph, layer.activation, names[0], layer.name)


def _relu(graph, layer, names, inputs, output):
    if layer.max_value is not None or layer.negative_slope or layer.threshold:
        raise ExportError(f"export_onnx: ReLU {layer.name!r} has max_value/negative_slope/"
                          "threshold; only the plain ReLU exports")
    return graph.node("Relu", [names[0]])


def _softmax(graph, layer, names, inputs, output):
    return graph.node("Softmax", [names[0]], axis=int(np.ravel(layer.axis)[0]))


def _flatten(graph, layer, names, inputs, output):
    return graph.node("Flatten", [names[0]], axis=1)


def _add(graph, layer, names, inputs, output):
    return graph.node("Sum", list(names))


def _concatenate(graph, layer, names, inputs, output):
    return graph.node("Concat", list(names), axis=int(layer.axis))


def _identity(graph, layer, names, inputs, output):
    return names[0]


FLOAT_EMITTERS = {
    QuantDense: _dense,
    keras.layers.Dense: _dense,
    QuantConv2D: _conv,
    keras.layers.Conv2D: _conv,
    FloatConv2DInference: _float_conv,
    keras.layers.MaxPooling2D: _pool("MaxPool"),
    SlicedMaxPooling2D: _pool("MaxPool"),
    keras.layers.AveragePooling2D: _pool("AveragePool"),
    keras.layers.GlobalAveragePooling2D: _global_average,
    keras.layers.BatchNormalization: _batch_norm,
    keras.layers.Activation: _activation,
    keras.layers.ReLU: _relu,
    keras.layers.Softmax: _softmax,
    keras.layers.Flatten: _flatten,
    keras.layers.Add: _add,
    keras.layers.Concatenate: _concatenate,
    **{cls: _identity for cls in patterns.IDENTITY_LAYERS},
}

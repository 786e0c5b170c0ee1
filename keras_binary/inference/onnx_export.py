"""`export_onnx(converted_model, path)`: a converted model as an ONNX file for ONNX Runtime.

The converted binary layers become custom ops of the ``ai.keras_binary`` domain (PackBits,
BinaryMatmul[Packed|Float], BinaryConv2d[Packed|Float], PackedMaxPool2d) with their packed
kernels as int32 initializers (1 bit per weight) and their per-channel scale and bias; every
other layer becomes standard ONNX ops (`keras_binary.inference.onnx_float_layers`). A binary
layer on a float input is one BinaryMatmulFloat or BinaryConv2dFloat op, which packs, checks
for NaN and, where the layer's output feeds only a residual Add, adds it in its epilogue.
Tensors keep the model's NHWC layout. Run the file with `keras_binary.inference.onnx_session`,
which registers the custom-op library.

Example::

    fast = inference.convert(model)
    inference.export_onnx(fast, "model.onnx")
    session = inference.onnx_session("model.onnx")
    y = session.run(None, {session.get_inputs()[0].name: x})[0]
"""

from __future__ import annotations

import collections
import os
from typing import Any

import keras
import numpy as np

from keras_binary import atomic_io
from keras_binary.inference.binary_conv2d import BinaryConv2DInference
from keras_binary.inference.binary_dense import BinaryDenseInference
from keras_binary.inference.nan_rows import MarkNaNRows, NaNRows
from keras_binary.inference.onnx_float_layers import (
    FLOAT_EMITTERS,
    ExportError,
    activation,
)
from keras_binary.inference.onnx_graph import DOMAIN, OPSET, OnnxGraph
from keras_binary.inference.packed_pooling import PackedMaxPooling2D

ONNX_DTYPES = {"float32": 1, "int32": 6, "bool": 9}  # onnx.TensorProto element types
FLOAT_INPUT_OPS = ("BinaryMatmulFloat", "BinaryConv2dFloat")  # pack in the op; residual input


def _np(value: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def _is_packed(tensor: Any) -> bool:
    return keras.backend.standardize_dtype(tensor.dtype) == "int32"


def _nan_flags(graph: OnnxGraph, x: str, axes: list[int], keepdims: int) -> str:
    """Bool flags: any NaN of ``x`` along ``axes`` (`keras_binary.inference.nan_rows`)."""
    nan = graph.node("Cast", [graph.node("IsNaN", [x])], to=ONNX_DTYPES["float32"])
    found = graph.node("ReduceMax", [nan], axes=axes, keepdims=keepdims)
    return graph.node("Cast", [found], to=ONNX_DTYPES["bool"])


def _mark_nan(graph: OnnxGraph, y: str, flags: str) -> str:
    return graph.node("Where", [flags, graph.constant("nan", np.float32(np.nan)), y])


def _binary_call(graph: OnnxGraph, layer: Any, op: str, x: str, kernel: np.ndarray,
                 scale: np.ndarray, bias: np.ndarray, residual: str | None = None,
                 **attrs: Any) -> str:
    packed = layer.output_mode == "packed"
    inputs = [x, graph.constant(f"{layer.name}/packed_kernel", kernel, "int32"),
              graph.constant(f"{layer.name}/scale", scale, "float32"),
              graph.constant(f"{layer.name}/bias", bias, "float32")]
    return graph.node(op + ("Packed" if packed else ""), inputs + ([residual] if residual else []),
                      hint=layer.name, custom=True, **attrs)


def _residual_of(layer: Any, names: list[str], packed_in: bool) -> str | None:
    """The residual a converted layer called on ``[x, residual]`` adds (`convert` fused a
    shortcut's Add into it): the *Float op's fifth input."""
    if len(names) < 2:
        return None
    if not _packs_its_float_input(layer, packed_in):
        raise ExportError(f"export_onnx: {layer.name!r} adds a residual but has no float input "
                          "and output or has an activation; convert the model again")
    return names[1]


def _finish(graph: OnnxGraph, layer: Any, y: str, x: str, packed_in: bool,
            axes: list[int]) -> str:
    """The layer's activation, and NaN rows of a float input marked as the layer marks them."""
    if layer.output_mode == "packed":
        return y
    y = activation(graph, layer.activation, y, layer.name)
    return y if packed_in else _mark_nan(graph, y, _nan_flags(graph, x, axes, keepdims=1))


def _binary_dense(graph, layer, names, inputs, output):
    x, packed_in = names[0], _is_packed(inputs[0])
    residual = _residual_of(layer, names, packed_in)
    if _packs_its_float_input(layer, packed_in):
        return _binary_call(graph, layer, "BinaryMatmulFloat", x, _np(layer.packed_kernel),
                            _np(layer.scale), _np(layer.bias), residual, k=layer.input_bits)
    words = x if packed_in else graph.node("PackBits", [x], custom=True)
    y = _binary_call(graph, layer, "BinaryMatmul", words, _np(layer.packed_kernel),
                     _np(layer.scale), _np(layer.bias), k=layer.input_bits)
    return _finish(graph, layer, y, x, packed_in, axes=[-1])


def _packs_its_float_input(layer: Any, packed_in: bool) -> bool:
    """Whether a binary layer exports as one BinaryMatmulFloat / BinaryConv2dFloat (packing,
    NaN rows and a later residual add in the op): a float input and output, one group, no
    activation (the op marks NaN rows before any activation, which must then keep NaN)."""
    linear = layer.activation is None or layer.activation is keras.activations.linear
    groups = getattr(layer, "groups", 1)
    return not packed_in and groups == 1 and layer.output_mode != "packed" and linear


def _conv_attributes(g: Any, channels: int) -> dict[str, int]:
    return {"channels": channels, "stride_h": g.stride_h, "stride_w": g.stride_w,
            "dilation_h": g.dilation_h, "dilation_w": g.dilation_w, "pad_top": g.pad_top,
            "pad_bottom": g.pad_bottom, "pad_left": g.pad_left, "pad_right": g.pad_right,
            "zero_padding": int(g.zero_padding)}


def _binary_conv(graph, layer, names, inputs, output):
    x, packed_in = names[0], _is_packed(inputs[0])
    g = layer.geometry(tuple(inputs[0].shape))
    kernel, scale, bias = _np(layer.packed_kernel), _np(layer.scale), _np(layer.bias)
    residual = _residual_of(layer, names, packed_in)
    if _packs_its_float_input(layer, packed_in):
        return _binary_call(graph, layer, "BinaryConv2dFloat", x, kernel, scale, bias,
                            residual, **_conv_attributes(g, layer.channels))
    per_in = layer.channels // layer.groups
    step_in = per_in // 32 if packed_in else per_in
    step_out = layer.filters // layer.groups
    ys = []
    for group in range(layer.groups):
        xg = x
        if layer.groups > 1:
            xg = graph.node("Slice", [
                x, graph.constant("start", np.array([group * step_in], np.int64)),
                graph.constant("end", np.array([(group + 1) * step_in], np.int64)),
                graph.constant("axis", np.array([3], np.int64))])
        if not packed_in:
            xg = graph.node("PackBits", [xg], custom=True)
        out = slice(group * step_out, (group + 1) * step_out)
        ys.append(_binary_call(graph, layer, "BinaryConv2d", xg, kernel[out], scale[out],
                               bias[out], **_conv_attributes(g, per_in)))
    y = ys[0] if len(ys) == 1 else graph.node("Concat", ys, axis=3)
    return _finish(graph, layer, y, x, packed_in, axes=[1, 2, 3])


def _fused_residual_add(graph: OnnxGraph, names: list[str], inputs: list,
                        uses: dict[int, int]) -> str | None:
    """An Add of a BinaryConv2dFloat's (or BinaryMatmulFloat's) output, read by nothing else,
    and a tensor of the same shape, as that op's residual input (added in its epilogue); None
    where it does not apply."""
    if len(inputs) != 2 or tuple(inputs[0].shape) != tuple(inputs[1].shape):
        return None
    for i in (0, 1):
        node = next((n for n in reversed(graph.nodes) if names[i] in n.output), None)
        if (node is None or node.op_type not in FLOAT_INPUT_OPS or len(node.input) != 4
                or uses.get(id(inputs[i])) != 1):
            continue
        # The node moves to the end: the residual may be computed after it.
        graph.nodes.remove(node)
        node.input.append(names[1 - i])
        graph.nodes.append(node)
        return names[i]
    return None


def _packed_pool(graph, layer, names, inputs, output):
    g = layer.geometry(inputs[0].shape[1], inputs[0].shape[2])
    mask = graph.constant(f"{layer.name}/or_mask", _np(layer.or_mask), "int32")
    return graph.node("PackedMaxPool2d", [names[0], mask], hint=layer.name, custom=True,
                      pool_h=layer.pool_size[0], pool_w=layer.pool_size[1],
                      stride_h=layer.strides[0], stride_w=layer.strides[1],
                      pad_top=g.pad_top, pad_bottom=g.pad_bottom, pad_left=g.pad_left,
                      pad_right=g.pad_right)


def _nan_rows(graph, layer, names, inputs, output):
    return _nan_flags(graph, names[0], list(layer.axes), keepdims=0)


def _mark_nan_rows(graph, layer, names, inputs, output):
    y, flags = names
    rank, flag_rank = len(inputs[0].shape), len(inputs[1].shape)
    if rank > flag_rank:
        axes = graph.constant("axes", np.arange(flag_rank, rank, dtype=np.int64))
        flags = graph.node("Unsqueeze", [flags, axes])
    return _mark_nan(graph, y, flags)


EMITTERS = {
    BinaryDenseInference: _binary_dense,
    BinaryConv2DInference: _binary_conv,
    PackedMaxPooling2D: _packed_pool,
    NaNRows: _nan_rows,
    MarkNaNRows: _mark_nan_rows,
    **FLOAT_EMITTERS,
}


def _emitter(op: Any) -> Any:
    for cls in type(op).__mro__:  # exact class first, then its bases (a Conv2D subclass)
        if cls in EMITTERS:
            return EMITTERS[cls]
    raise ExportError(f"export_onnx: layer {op.name!r} ({type(op).__name__}) has no ONNX "
                      "export; convert the model first (inference.convert) and keep to the "
                      "layers listed in keras_binary.inference.onnx_float_layers")


def _trace(model: keras.Model) -> tuple[keras.Model, list]:
    """The model's layer calls in order, as (layer, input tensors, output tensor)."""
    calls = []

    def record(op: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(op, keras.Model):
            raise ExportError(f"export_onnx: nested model {op.name!r}; export the converted "
                              "outer model of a flat (non-nested) model")
        outputs = op(*args, **kwargs)
        inputs = keras.tree.flatten(args[0]) if args else []
        calls.append((op, inputs, outputs))
        return outputs

    traced = keras.models.clone_model(model, clone_function=lambda op: op, call_function=record)
    return traced, calls


def to_onnx(model: keras.Model) -> Any:
    """The ``onnx.ModelProto`` of a converted model (see `export_onnx`)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"export_onnx expects a keras.Model, got {type(model).__name__}")
    graph = OnnxGraph()
    onnx = graph.onnx
    traced, calls = _trace(model)
    names: dict[int, str] = {}
    graph_inputs = []
    for tensor in traced.inputs:
        name = graph.name(tensor.name or "input")
        names[id(tensor)] = name
        graph_inputs.append(_value_info(onnx, name, tensor))
    uses = collections.Counter(id(t) for _, inputs, _ in calls for t in inputs)
    uses.update(id(t) for t in traced.outputs)
    for op, inputs, outputs in calls:
        if not isinstance(outputs, keras.KerasTensor):
            raise ExportError(f"export_onnx: layer {op.name!r} has several outputs; export "
                              "supports single-output layers")
        missing = [t for t in inputs if id(t) not in names]
        if missing:
            raise ExportError(f"export_onnx: layer {op.name!r} reads a tensor the graph does "
                              "not produce (a constant or a keyword input)")
        in_names = [names[id(t)] for t in inputs]
        fused = (_fused_residual_add(graph, in_names, inputs, uses)
                 if type(op) is keras.layers.Add else None)
        names[id(outputs)] = fused or _emitter(op)(graph, op, in_names, inputs, outputs)
    graph_outputs = []
    for i, tensor in enumerate(traced.outputs):
        name = graph.node("Identity", [names[id(tensor)]], hint=f"output_{i}")
        graph_outputs.append(_value_info(onnx, name, tensor))
    onnx_graph = onnx.helper.make_graph(graph.nodes, model.name, graph_inputs, graph_outputs,
                                        graph.initializers)
    proto = onnx.helper.make_model(
        onnx_graph, producer_name="keras_binary",
        opset_imports=[onnx.helper.make_opsetid("", OPSET), onnx.helper.make_opsetid(DOMAIN, 1)])
    proto.ir_version = 8  # readable by ONNX Runtime >= 1.14
    onnx.checker.check_model(proto)
    return proto


def _value_info(onnx: Any, name: str, tensor: Any) -> Any:
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if dtype not in ONNX_DTYPES:
        raise ExportError(f"export_onnx: tensor {tensor.name!r} has dtype {dtype}; the exported "
                          f"model's inputs and outputs must be one of {sorted(ONNX_DTYPES)}")
    shape = ["batch" if i == 0 else d for i, d in enumerate(tensor.shape)]
    return onnx.helper.make_tensor_value_info(name, ONNX_DTYPES[dtype], shape)


def export_onnx(model: keras.Model, path: str | os.PathLike) -> str:
    """Writes a converted model as an ONNX file with binary custom ops (atomic write).

    Args:
        model: A model returned by `keras_binary.inference.convert` (a plain float Keras model
            of the supported layers exports too, without custom ops).
        path: The ``.onnx`` file to write (replaced if it exists).

    Returns:
        The path written, as a string.

    Raises:
        ValueError: a layer, activation or quantizer has no ONNX export (the message names it).
        ImportError: the ``onnx`` package is missing.

    Example:

    >>> import keras, os, tempfile
    >>> from keras_binary import inference
    >>> from keras_binary.layers import QuantDense
    >>> model = keras.Sequential([keras.Input((64,)), QuantDense(
    ...     10, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)])
    >>> path = inference.export_onnx(inference.convert(model),
    ...                              os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> os.path.getsize(path) > 0
    True
    """
    data = to_onnx(model).SerializeToString()
    atomic_io.write_bytes(path, data)
    return os.fspath(path)

"""TensorFlow route: the handlers registered into TF's embedded XLA (platform "Host") and called
through an ``XlaCallModule`` op holding a tiny StableHLO module with one ``custom_call``.

Works eagerly, in ``tf.function`` and with ``jit_compile=True``. Unknown dimensions (e.g. the
batch of a Keras model) are supported through StableHLO shape polymorphism: the module is written
with ``?`` dims and the output shape is computed from the input shapes at refinement time.
Only imported under the TensorFlow backend. Example::

    y = call("binary_matmul_f32", [x, w, scale, bias], [(0, 0), n], "float32", k=k)
"""

from __future__ import annotations

import functools

import tensorflow as tf

from keras_binary.kernels._library import KernelLibraryError, load_library
from keras_binary.kernels.targets import TARGET_PREFIX

# Both entry points below are private TensorFlow APIs: checked for TF 2.21 only.
TF_LIBRARY = "libtensorflow_cc.so.2"
XLA_CALL_MODULE_VERSION = 9

_MLIR_TYPES = {tf.float32: "f32", tf.int32: "i32"}

# An output dimension: a static size, or (operand index, axis) to copy an operand's dimension.
OutDim = int | tuple[int, int]


@functools.cache
def register() -> None:
    """Registers every kernel target into TensorFlow's XLA (once per process)."""
    lib = load_library()
    err = lib.kb_register_tf(TF_LIBRARY.encode(), TARGET_PREFIX.encode()).decode()
    if err:
        raise KernelLibraryError(f"cannot register the kernels with TensorFlow's XLA: {err}")


def _tensor_type(shape: list[int | None], dtype: tf.DType) -> str:
    dims = "".join(("?" if d is None else str(d)) + "x" for d in shape)
    return f"tensor<{dims}{_MLIR_TYPES[dtype]}>"


def build_module(
    name: str,
    arg_shapes: list[list[int | None]],
    arg_dtypes: list[tf.DType],
    out_dims: list[OutDim],
    out_dtype: tf.DType,
    attrs: dict[str, int],
) -> str:
    """StableHLO text of ``main(args) = custom_call @<prefix><name>(args)``."""
    args = [_tensor_type(s, t) for s, t in zip(arg_shapes, arg_dtypes, strict=True)]
    out_shape = [d if isinstance(d, int) else arg_shapes[d[0]][d[1]] for d in out_dims]
    out_type = _tensor_type(out_shape, out_dtype)
    params = ", ".join(f"%arg{i}: {t}" for i, t in enumerate(args))
    config = ", ".join(f"{k} = {int(v)} : i64" for k, v in attrs.items())
    body = []
    operands = [f"%arg{i}" for i in range(len(args))]
    operand_types = list(args)
    extra = ""
    if None in out_shape:
        # Shape polymorphism: pass the output shape as an extra operand.
        parts = []
        for i, d in enumerate(out_dims):
            if isinstance(d, int):
                body.append(f"%d{i} = stablehlo.constant dense<{d}> : tensor<1xi32>")
            else:
                src, axis = d
                body.append(
                    f"%s{i} = stablehlo.get_dimension_size %arg{src}, dim = {axis} : "
                    f"({args[src]}) -> tensor<i32>"
                )
                body.append(f"%d{i} = stablehlo.reshape %s{i} : (tensor<i32>) -> tensor<1xi32>")
            parts.append(f"%d{i}")
        shape_type = f"tensor<{len(out_dims)}xi32>"
        if len(parts) == 1:
            shape_operand = parts[0]
        else:
            shape_operand = "%shape"
            ones = ", ".join("tensor<1xi32>" for _ in parts)
            body.append(
                f"%shape = stablehlo.concatenate {', '.join(parts)}, dim = 0 : "
                f"({ones}) -> {shape_type}"
            )
        operands.append(shape_operand)
        operand_types.append(shape_type)
        extra = f", indices_of_shape_operands = dense<{len(args)}> : tensor<1xi64>"
    body.append(
        f"%out = stablehlo.custom_call @{TARGET_PREFIX}{name}({', '.join(operands)}) "
        f"{{api_version = 4 : i32, backend_config = {{{config}}}{extra}}} : "
        f"({', '.join(operand_types)}) -> {out_type}"
    )
    body.append(f"return %out : {out_type}")
    lines = "\n    ".join(body)
    poly = "jax.uses_shape_polymorphism = true, " if None in out_shape else ""
    return (
        f"module @keras_binary_{name} attributes {{{poly}mhlo.num_partitions = 1 : i32, "
        f"mhlo.num_replicas = 1 : i32}} {{\n"
        f"  func.func public @main({params}) -> {out_type} {{\n    {lines}\n  }}\n}}\n"
    )


def call(name: str, args: list, out_dims: list[OutDim], out_dtype: str, **attrs: int):
    """Runs kernel target ``name`` on ``args`` (tf tensors) inside an XlaCallModule op."""
    from tensorflow.compiler.tf2xla.ops import gen_xla_ops

    register()
    args = [tf.convert_to_tensor(a) for a in args]
    shapes = [a.shape.as_list() for a in args]
    dtype = tf.as_dtype(out_dtype)
    module = build_module(name, shapes, [a.dtype for a in args], out_dims, dtype, attrs)
    out_shape = [d if isinstance(d, int) else shapes[d[0]][d[1]] for d in out_dims]
    (out,) = gen_xla_ops.xla_call_module(
        args,
        version=XLA_CALL_MODULE_VERSION,
        module=module.encode(),
        Sout=[tf.TensorShape(out_shape)],
        Tout=[dtype],
        platforms=["CPU"],
    )
    return out

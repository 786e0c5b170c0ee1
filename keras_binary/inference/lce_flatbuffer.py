"""Larq Compute Engine, imported on first use, and the operators of an LCE (TFLite) flatbuffer.

Parsing uses the TFLite schema that LCE ships (the one its converter writes), so custom ops
read by their names (``LceBconv2d``).

Example::

    [op.name for op in operators("model.tflite")]   # ['LceQuantize', 'LceBconv2d', ...]
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import keras

__all__ = ["Operator", "flatbuffer_bytes", "import_lce", "operators"]


@dataclasses.dataclass(frozen=True)
class Operator:
    """One op of a flatbuffer: its name (the TFLite builtin name such as ``CONV_2D``, or a
    custom op's own such as ``LceBconv2d``), whether it is a custom op, its output tensors."""

    name: str
    custom: bool
    outputs: tuple[str, ...]


def import_lce() -> Any:
    """Larq Compute Engine (the ``lce`` extra), after checking the backend is TensorFlow."""
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"Larq Compute Engine converts TensorFlow graphs, but the Keras backend is "
            f"{keras.backend.backend()!r}: run the export with KERAS_BACKEND=tensorflow (a model "
            "trained under another backend loads there)."
        )
    try:
        import larq_compute_engine
    except ImportError as error:
        raise ImportError(
            f"Larq Compute Engine is not installed ({error}); install keras-binary[lce] "
            "(its wheels cover Python 3.10-3.12)."
        ) from None
    return larq_compute_engine


def flatbuffer_bytes(flatbuffer: bytes | str | os.PathLike) -> bytes:
    """The bytes of a flatbuffer given as bytes or as a path."""
    if isinstance(flatbuffer, (bytes, bytearray)):
        return bytes(flatbuffer)
    with open(flatbuffer, "rb") as handle:
        return handle.read()


def operators(flatbuffer: bytes | str | os.PathLike) -> list[Operator]:
    """Every operator of every subgraph, in order."""
    import_lce()
    from larq_compute_engine.mlir.python import tflite_schema as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(flatbuffer_bytes(flatbuffer), 0))
    builtin_names = {code: name for name, code in vars(schema.BuiltinOperator).items()
                     if not name.startswith("_")}
    found = []
    for subgraph in model.subgraphs or ():
        for op in subgraph.operators or ():
            code = model.operatorCodes[op.opcodeIndex]
            # Codes below 127 live in the deprecated byte field (schema version 3a).
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            custom = builtin == schema.BuiltinOperator.CUSTOM
            name = (code.customCode.decode() if custom
                    else builtin_names.get(builtin, f"BUILTIN_{builtin}"))
            outputs = tuple(subgraph.tensors[i].name.decode() for i in op.outputs if i >= 0)
            found.append(Operator(name, custom, outputs))
    return found

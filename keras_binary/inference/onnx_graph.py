"""`OnnxGraph`: the nodes, initializers and unique names of an ONNX graph under construction.

The exporter (`keras_binary.inference.onnx_export`) emits one layer at a time through it; the
binary layers' nodes go to the project's custom-op domain (`DOMAIN`), served by the ONNX Runtime
library that `keras_binary.inference.onnx_session` registers. ``onnx`` is imported lazily.

Example::

    graph = OnnxGraph()
    w = graph.constant("dense/kernel", kernel)
    y = graph.node("MatMul", [x, w])
"""

from __future__ import annotations

from typing import Any

import numpy as np

DOMAIN = "ai.keras_binary"  # the custom ops' domain (csrc/ort/custom_ops.cc registers it)
OPSET = 17  # standard ONNX opset of the exported graphs (ONNX Runtime >= 1.14 runs it)


def import_onnx() -> Any:
    """The ``onnx`` module, or an ImportError saying how to install it."""
    try:
        import onnx
    except ImportError as error:
        raise ImportError("ONNX export needs the onnx package: pip install "
                          "'keras-binary[onnx]'") from error
    return onnx


class OnnxGraph:
    """Collects nodes and initializers; every name it hands out is unique."""

    def __init__(self) -> None:
        self.onnx = import_onnx()
        self.nodes: list = []
        self.initializers: list = []
        self._names: set[str] = set()

    def name(self, hint: str) -> str:
        """A fresh tensor name based on ``hint``."""
        base = hint.replace(":", "_") or "t"
        name, i = base, 1
        while name in self._names:
            name, i = f"{base}_{i}", i + 1
        self._names.add(name)
        return name

    def constant(self, hint: str, value: Any, dtype: str | None = None) -> str:
        """Adds ``value`` as an initializer; returns its name."""
        array = np.asarray(value, dtype=dtype)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op_type: str, inputs: list[str], hint: str | None = None,
             custom: bool = False, **attrs: Any) -> str:
        """Adds one node with one output (a standard op, or ``custom`` for `DOMAIN`)."""
        output = self.name(hint or op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(
            op_type, inputs, [output], name=output, domain=DOMAIN if custom else "", **attrs))
        return output

    def to_nchw(self, x: str) -> str:
        return self.node("Transpose", [x], perm=[0, 3, 1, 2])

    def to_nhwc(self, x: str) -> str:
        return self.node("Transpose", [x], perm=[0, 2, 3, 1])

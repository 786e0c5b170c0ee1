"""`ConvertedModel`: the functional model `convert` returns, compiled for inference by default.

Its binary layers are kernel calls and little float work, so what a call costs beyond the
kernels is the framework's per-layer dispatch. Compiling the whole model removes it: XLA on
JAX and TensorFlow (Keras's ``jit_compile=True``). On PyTorch Keras's ``jit_compile=True``
means ``torch.compile`` with Inductor's code generation, which costs seconds to minutes per
input shape and runs the converted BinaryNet MLP slower than a plain graph capture
(docs/performance-notes.md, "Converted models"); there a `ConvertedModel` compiles its predict
and evaluate steps with Dynamo's ``backend="eager"``: the graph is captured once per input
shape and replayed without Keras's Python, each op and kernel run as it is. On JAX,
`predict_on_batch` makes one jitted call on the weights' current values,
without Keras's per-call state gathering and write-back (an inference model changes no state):
0.5-1 ms of a 6-7 ms Bi-Real-18 call on a 2-core CPU.
"""

from __future__ import annotations

import types
from typing import Any

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="keras_binary")
class ConvertedModel(keras.Model):
    """A functional Keras model compiled for inference, as `keras_binary.inference.convert` returns.

    `convert` builds it from popcount layers; any functional model meant only for inference
    can be wrapped the same way (``ConvertedModel(model.input, model.output)``), as the
    benchmarks do for their float baselines. It is a functional model in every respect
    (layers, `get_config`, `.keras` saving), with ``jit_compile=True`` from construction and
    loading on: one XLA program on JAX and TensorFlow, and on PyTorch a Dynamo graph capture
    without code generation for `predict` / `predict_on_batch` / `evaluate` (Keras's own
    `torch.compile` with Inductor would spend its code generation on the few float ops around
    the kernels). ``compile()`` resolves ``jit_compile="auto"`` as Keras does (no XLA on a
    CPU-only TensorFlow, eager on PyTorch); set ``model.jit_compile = True`` after it to
    compile again. Calling the model directly (``model(x)``) runs eagerly, as for any Keras
    model.

    Args:
        *args: `keras.Model`'s functional arguments (``inputs``, ``outputs``, ``name``).
        **kwargs: The same, by keyword.

    Example:

    >>> import keras, numpy as np
    >>> from keras_binary import inference
    >>> from keras_binary.layers import QuantDense
    >>> model = keras.Sequential([keras.Input((64,)), QuantDense(
    ...     10, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)])
    >>> fast = inference.convert(model)
    >>> type(fast).__name__, fast.jit_compile
    ('ConvertedModel', True)
    >>> fast.predict_on_batch(np.ones((2, 64), "float32")).shape
    (2, 10)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jit_compile = True

    def predict_on_batch(self, x: Any) -> Any:
        """Keras's `predict_on_batch`; on JAX with ``jit_compile`` and no distribution, one
        jitted call on the weights' current values (nothing to write back)."""
        if (keras.backend.backend() != "jax" or not self.jit_compile
                or keras.distribution.distribution() is not None):
            return super().predict_on_batch(x)
        if getattr(self, "_jax_predict", None) is None:
            self._jax_predict = _JaxPredict(self)
        return keras.tree.map_structure(np.asarray, self._jax_predict(x))

    def make_predict_function(self, force: bool = False) -> Any:
        """Keras's predict function; on PyTorch with ``jit_compile``, captured by Dynamo
        without code generation (`ConvertedModel`'s docstring says why)."""
        return self._make_step(super().make_predict_function, "predict_function", force)

    def make_test_function(self, force: bool = False) -> Any:
        """Keras's test function, captured on PyTorch as `make_predict_function` says."""
        return self._make_step(super().make_test_function, "test_function", force)

    def _make_step(self, make: Any, attribute: str, force: bool) -> Any:
        if keras.backend.backend() != "torch" or not self.jit_compile:
            return make(force)
        if getattr(self, attribute) is not None and not force:
            return getattr(self, attribute)
        import torch

        # Keras builds its eager step function (the same data handling and no_grad), which
        # is then captured; jit_compile is restored whatever the build raises.
        self.jit_compile = False
        try:
            make(True)
        finally:
            self.jit_compile = True
        captured = torch.compile(_own_code(getattr(self, attribute)), backend="eager")

        def step(data: Any) -> Any:
            # Arrays become tensors before the capture: converting one inside breaks the graph
            # (Dynamo cannot trace an ndarray's dtype) and each break costs a guard check.
            return captured(keras.tree.map_structure(_as_tensor, data))

        setattr(self, attribute, step)
        return step


class _JaxPredict:
    """A model's jitted call on given variable values, and its weights, collected once
    (collecting them walks every layer). The values map to the weights through a
    `keras.StatelessScope`, so toggling a layer's ``trainable`` later changes nothing. A plain
    object, not a tuple or list: Keras tracks those when set on a layer and would save the
    weights a second time under the model."""

    def __init__(self, model: keras.Model) -> None:
        import jax

        self.weights = list(model.weights)

        def predict(values: list, x: Any) -> Any:
            with keras.StatelessScope(state_mapping=list(zip(self.weights, values,
                                                             strict=True))):
                return model(x, training=False)

        self.predict = jax.jit(predict)

    def __call__(self, x: Any) -> Any:
        return self.predict([w.value for w in self.weights], x)


def _own_code(fn: Any) -> Any:
    """A function calling ``fn`` with a code object of its own. Dynamo keeps compiled graphs,
    and its limit of recompiles, per code object, and every Keras step function shares one:
    without this, the ninth model captured in a process would fall back to eager."""
    def call(data: Any) -> Any:
        return fn(data)

    return types.FunctionType(call.__code__.replace(), call.__globals__, call.__name__,
                              call.__defaults__, call.__closure__)


def _as_tensor(value: Any) -> Any:
    return keras.ops.convert_to_tensor(value) if isinstance(value, np.ndarray) else value

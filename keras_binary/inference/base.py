"""`EpilogueMixin`: the weights and options shared by the converted binary layers.

A converted binary layer holds its kernel packed (int32 words, bit 1 = -1) and a per-channel
output transform ``y = acc * scale + bias`` applied to the integer accumulator ``acc``. With
``output="packed"`` it returns the packed sign bits of ``y`` (the next binary layer's input);
with ``output="float"`` it returns ``activation(y)``.

Example (how `convert` fills a layer after building it)::

    layer.set_packed_weights(packed_kernel, scale, bias)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

OUTPUTS = ("float", "packed")


class EpilogueMixin:
    """Creates ``packed_kernel``, ``scale`` and ``bias`` and checks the output options."""

    def init_epilogue(self, output: str, activation: Any) -> None:
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.output_mode = output
        self.activation = keras.activations.get(activation)
        if output == "packed" and activation not in (None, "linear"):
            raise ValueError(
                f"{type(self).__name__}: an activation ({activation!r}) cannot follow a packed "
                "output; fold it into the threshold or use output='float'."
            )

    def add_epilogue_weights(self, kernel_shape: tuple[int, ...], channels: int) -> None:
        self.packed_kernel = self.add_weight(
            name="packed_kernel", shape=kernel_shape, dtype="int32", initializer="zeros",
            trainable=False,
        )
        self.scale = self.add_weight(name="scale", shape=(channels,), initializer="ones",
                                     trainable=False)
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros",
                                    trainable=False)

    def set_packed_weights(self, packed_kernel: Any, scale: Any, bias: Any) -> None:
        """Assigns the packed kernel and the output transform (shapes are checked)."""
        for variable, value in ((self.packed_kernel, packed_kernel), (self.scale, scale),
                                (self.bias, bias)):
            value = np.asarray(value)
            if value.shape != tuple(variable.shape):
                raise ValueError(
                    f"{self.name}: {variable.name} needs shape {tuple(variable.shape)}, got "
                    f"{value.shape}"
                )
            variable.assign(value.astype(variable.dtype))

    def split_residual(self, inputs: Any) -> tuple[Any, Any]:
        """``x`` or ``[x, residual]`` -> ``(x, residual or None)``. A residual (a shortcut that
        `convert` adds in the kernel's epilogue, before the activation) needs a float input and
        a float output."""
        if not isinstance(inputs, (list, tuple)):
            return inputs, None
        if len(inputs) != 2:
            raise ValueError(f"{self.name}: expected an input or [input, residual], got "
                             f"{len(inputs)} tensors")
        x, residual = inputs
        if self.output_mode != "float" or keras.backend.standardize_dtype(x.dtype) == "int32":
            raise ValueError(f"{self.name}: a residual needs a float input and output='float'")
        return x, residual

    @staticmethod
    def input_shape_of(input_shape: Any) -> tuple:
        """The shape of ``x`` from a build's ``input_shape`` (one shape, or ``[x, residual]``'s)."""
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(
                input_shape[0], (list, tuple)):
            return tuple(input_shape[0])
        return tuple(input_shape)

    def finish(self, y: Any, keep_nan: bool = False) -> Any:
        """The activation of a float output; with `keep_nan`, NaN outputs (the rows a float
        input's NaN marked) stay NaN whatever the activation makes of NaN (relu gives 0)."""
        # The identity needs no pass (it keeps NaN): a residual block's convs end linear.
        if (self.output_mode != "float" or self.activation is None
                or self.activation is keras.activations.linear):
            return y
        if keep_nan:
            return keras.ops.where(keras.ops.isnan(y), y, self.activation(y))
        return self.activation(y)

    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "packed" else "float32"

    def epilogue_config(self) -> dict[str, Any]:
        return {"output": self.output_mode,
                "activation": keras.activations.serialize(self.activation)}

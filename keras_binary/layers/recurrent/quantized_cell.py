"""`QuantizedCellMixin`: what every quantized recurrent cell shares.

A quantized cell quantizes four things at every step: the step input (`input_quantizer`), the
input kernel (`kernel_quantizer`), the recurrent kernel (`recurrent_quantizer`) and the previous
hidden state before it meets the recurrent kernel (`recurrent_input_quantizer`). Biases stay in
full precision. The latent (full-precision) kernels are the trainable variables; their gradients
are the quantizers' pseudo-gradients.

Quantizers are resolved, built, recorded on the kernels and serialized by the layers'
`QuantizerMixin` (a stateful Layer quantizer such as LAB's is built with its kernel's shape and
tracked, so its weights save and load; each kernel records its quantizer with
`keras_binary.precision.set_quantizer` for the optimizers and the summary). This mixin adds the
hidden-state quantizer, the recurrent kernel, and quantization of the kernels once per sequence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import keras

from keras_binary import activations, constraints, quantizers
from keras_binary.layers.base import QuantizerMixin, resolve_quantizer

RECURRENT_QUANTIZERS = ("recurrent_quantizer", "recurrent_input_quantizer")


def resolve_cell_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Resolves our activation ("hard_tanh") and constraint ("weight_clip") aliases in a Keras
    cell's keyword arguments (Keras resolves only its own).

    Args:
        kwargs: The cell's keyword arguments.

    Returns:
        The same arguments with the aliases resolved.
    """
    resolved = dict(kwargs)
    for name, value in kwargs.items():
        if name in ("activation", "recurrent_activation"):
            resolved[name] = activations.get(value)
        elif name.endswith("_constraint"):
            resolved[name] = constraints.get(value)
    return resolved


def per_gate(x: Any, mask: Any, gates: int) -> list[Any]:
    """The `gates` gates' copies of `x` under per-gate (list), shared or no (None) dropout masks.

    Args:
        x: A tensor.
        mask: A list of per-gate masks, one shared mask, or None.
        gates: Number of gates.

    Returns:
        `gates` tensors.
    """
    if mask is None:
        return [x] * gates
    if isinstance(mask, (list, tuple)):
        return [x * m for m in mask]
    return [x * mask] * gates


def dropout_masks(cell: Any, inputs: Any, state: Any, training: bool) -> tuple[Any, Any]:
    """The cell's (input, recurrent) dropout masks in training, None where not applicable.

    Args:
        cell: The cell.
        inputs: The step input.
        state: The previous hidden state.
        training: Whether dropout is active.

    Returns:
        `(input mask, recurrent mask)`, each a tensor, a per-gate list or None.
    """
    x_mask = h_mask = None
    if training and 0.0 < cell.dropout < 1.0:
        x_mask = cell.get_dropout_mask(inputs)
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        h_mask = cell.get_recurrent_dropout_mask(state)
    return x_mask, h_mask


def _check_distinct_layer_quantizers(quantizer_list: list[tuple[str, Any]]) -> None:
    layers = [(name, q) for name, q in quantizer_list if isinstance(q, keras.layers.Layer)]
    for i, (name, q) in enumerate(layers):
        for other_name, other in layers[i + 1 :]:
            if q is other:
                raise ValueError(
                    f"The same stateful quantizer layer {q.name!r} was passed as {name} and "
                    f"{other_name}; a quantizer layer holds state for one tensor, so pass a "
                    "separate instance (or an alias string) for each."
                )


class QuantizedCellMixin(QuantizerMixin):
    """Quantizer handling for a Keras RNN cell subclass with `kernel` and `recurrent_kernel`.

    Put it before the Keras cell class in the bases; it adds the four quantizer arguments to the
    cell's `__init__`, builds and tags them in `build` and serializes them in `get_config`. The
    subclass's `call` reads the quantized tensors with `quantized_weights()`,
    `quantize_input(x)` and `quantize_state(h)`.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The Keras cell's arguments.
    """

    quantized_kernels = (
        ("kernel_quantizer", "kernel", "kernel_constraint"),
        ("recurrent_quantizer", "recurrent_kernel", "recurrent_constraint"),
    )

    def __init__(
        self,
        units: int,
        input_quantizer: Any = None,
        kernel_quantizer: Any = None,
        recurrent_quantizer: Any = None,
        recurrent_input_quantizer: Any = None,
        **kwargs: Any,
    ):
        super().__init__(units, **resolve_cell_arguments(kwargs))
        self.init_quantizers(
            input_quantizer=input_quantizer,
            kernel_quantizer=kernel_quantizer,
            recurrent_quantizer=recurrent_quantizer,
        )
        self.recurrent_input_quantizer = resolve_quantizer(
            recurrent_input_quantizer, "recurrent_input_quantizer"
        )
        _check_distinct_layer_quantizers(
            [
                (name, getattr(self, name))
                for name in ("input_quantizer", "kernel_quantizer", *RECURRENT_QUANTIZERS)
            ]
        )
        self._kernel_cache = None

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.tag_kernels(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.quantizer_config()}

    def quantized_weights(self) -> tuple[Any, Any]:
        """(quantized kernel, quantized recurrent kernel): the ones cached for this sequence by
        the owning layer (`kernels_quantized_once`), else quantized now."""
        if self._kernel_cache is not None:
            return self._kernel_cache
        return (
            self.quantize_kernel(self.kernel, "kernel_quantizer"),
            self.quantize_kernel(self.recurrent_kernel, "recurrent_quantizer"),
        )

    @contextlib.contextmanager
    def kernels_quantized_once(self) -> Iterator[None]:
        """Within this context every step reuses one quantization of the kernels.

        The Quant* RNN layers quantize the kernels once around their time loop instead of once
        per step; the result and the gradient are the same (the per-step gradients w.r.t. the
        shared quantized kernel are summed before the pseudo-gradient is applied).
        """
        self._kernel_cache = None
        self._kernel_cache = self.quantized_weights()
        try:
            yield
        finally:
            self._kernel_cache = None

    def quantize_state(self, h: Any) -> Any:
        """`recurrent_input_quantizer(h)` (identity if None)."""
        return h if self.recurrent_input_quantizer is None else self.recurrent_input_quantizer(h)

    def quantizer_config(self) -> dict[str, Any]:
        config = super().quantizer_config()
        config["recurrent_input_quantizer"] = quantizers.serialize(self.recurrent_input_quantizer)
        return config

    @property
    def recurrent_precision(self) -> int | None:
        """Bits of the quantized recurrent kernel; None when not quantized or unknown."""
        return quantizers.precision_of(self.recurrent_quantizer)

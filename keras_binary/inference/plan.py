"""What `convert` does with each binary layer: which following layers fold into its output
transform and whether its output is produced packed (the sign bits the next layers read).

A binary layer's chain is the run of single-consumer layers after it that fold: BatchNorm
(affine), identity layers, max pooling (packed: AND/OR of bits) and sign activations. The output
is packed when every reader of the chain's end reads only its sign: binary layers, directly or
through identity layers, sign activations and Flatten. Otherwise the output is float and only
the leading BatchNorm/identity layers fold. A grouped conv reads (and writes) packed bits only
where each group's channels fill whole 32-bit words.

Example::

    graph = LayerGraph(model)
    plan = plan_binary_layer(layer, graph)      # None: the layer stays float
    plan.output, [op.name for op in plan.chain]  # ('packed', ['pool_1', 'conv_bn_1'])
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from keras_binary.inference.binary_conv2d import packs_per_group
from keras_binary.inference.folding import binary_kernel
from keras_binary.inference.graph import (
    LayerGraph,
    is_foldable_batch_norm,
    is_identity,
    is_max_pool_2d,
    is_sign_activation,
    why_input_not_binary,
    why_layout_unsupported,
)
from keras_binary.layers import QuantConv2D, QuantDense


@dataclasses.dataclass
class BinaryPlan:
    """A binary layer to convert: its kernel sign bits (kernel-shaped, True where the kernel is
    negative) and per-channel scale ``alpha``, its folded chain and its output kind."""

    layer: Any
    sign_bits: np.ndarray
    alpha: np.ndarray
    chain: list
    output: str


def reads_sign_only(op: Any, graph: LayerGraph, flattened: bool = False) -> bool:
    """True when ``op`` needs only the sign of its input (so the input may arrive packed)."""
    if isinstance(op, (QuantDense, QuantConv2D)):
        return (not (flattened and isinstance(op, QuantConv2D)) and packs_whole_words(op, "in")
                and why_not_binary(op, graph) is None)
    if is_identity(op) or is_sign_activation(op):
        return all_read_sign_only(op.output, graph, flattened)
    if isinstance(op, keras.layers.Flatten) and not flattened and op.data_format == "channels_last":
        return all_read_sign_only(op.output, graph, flattened=True)
    return False


def packs_whole_words(layer: Any, side: str) -> bool:
    """Whether ``layer``'s input (``side="in"``) or output side can be packed: always, except
    for a grouped conv whose groups of channels on that side do not fill whole 32-bit words
    (each group reads or writes its own words)."""
    groups = getattr(layer, "groups", 1)
    if side == "in":
        return packs_per_group(layer.kernel.shape[-2] * groups, groups)
    return packs_per_group(layer.kernel.shape[-1], groups)


def all_read_sign_only(tensor: Any, graph: LayerGraph, flattened: bool = False) -> bool:
    consumers = graph.consumers(tensor)
    return (bool(consumers) and not graph.is_output(tensor)
            and all(reads_sign_only(op, graph, flattened) for op in consumers))


def binary_kernel_or_reason(layer: Any, graph: LayerGraph) -> tuple[np.ndarray, np.ndarray] | str:
    """``(sign_bits, alpha)`` when ``layer`` converts to a binary inference layer, else
    why not."""
    reason = why_layout_unsupported(layer) or why_input_not_binary(layer, graph)
    if reason is not None:
        return reason
    kernel = binary_kernel(layer)
    if kernel is None:
        return "its quantized kernel is not +-alpha per output channel (1 bit)"
    return kernel


def why_not_binary(layer: Any, graph: LayerGraph) -> str | None:
    """Why ``layer`` does not convert to a binary inference layer; None when it does."""
    result = binary_kernel_or_reason(layer, graph)
    return result if isinstance(result, str) else None


def _foldable(op: Any) -> bool:
    return (is_foldable_batch_norm(op) or is_identity(op) or is_max_pool_2d(op)
            or is_sign_activation(op))


def plan_binary_layer(layer: Any, graph: LayerGraph) -> BinaryPlan | None:
    """The conversion plan of ``layer``, or None if it is not a convertible binary layer."""
    kernel = binary_kernel_or_reason(layer, graph)
    if isinstance(kernel, str):
        return None
    sign_bits, alpha = kernel
    if layer.activation not in (None, keras.activations.linear):
        return BinaryPlan(layer, sign_bits, alpha, [], "float")
    chain, tensor = [], layer.output
    while (op := graph.single_consumer(tensor)) is not None and _foldable(op):
        chain.append(op)
        tensor = op.output
    for end in range(len(chain), -1, -1) if packs_whole_words(layer, "out") else ():
        tensor = chain[end - 1].output if end else layer.output
        if all_read_sign_only(tensor, graph):
            return BinaryPlan(layer, sign_bits, alpha, chain[:end], "packed")
    leading = 0
    while leading < len(chain) and (is_foldable_batch_norm(chain[leading])
                                    or is_identity(chain[leading])):
        leading += 1
    return BinaryPlan(layer, sign_bits, alpha, chain[:leading], "float")

"""Freezing a quantized layer that stays float: its kernels stored already quantized.

A Quant* layer re-quantizes its latent kernels on every call. At inference the result never
changes, so `frozen_config` swaps each kernel quantizer for `NoOp` (same declared precision, no
constraint) and `copy_frozen_weights` stores the quantized kernels in the copy. The copy computes
the same outputs without the per-call quantization (a large cost for big float-kept kernels, e.g.
a sign over a first layer's 784x2048 kernel on every batch-1 call). Both functions take any
layer: one that quantizes no kernel is copied unchanged.

Example::

    copy = type(layer).from_config(frozen_config(layer))
    copy.build(input_shape)
    copy_frozen_weights(layer, copy)
"""

from __future__ import annotations

from typing import Any

import keras

from keras_binary.quantizers import NoOp, precision_of, serialize


def _quantized(layer: Any) -> list[tuple[str, str, str]]:
    """The (quantizer, weight, constraint) attributes of `layer` with a kernel quantizer."""
    return [entry for entry in getattr(layer, "quantized_kernels", ())
            if getattr(layer, entry[0], None) is not None]


def frozen_config(layer: Any) -> dict[str, Any]:
    """`layer.get_config()` with each kernel quantizer (if any) an identity of the same
    precision.

    Args:
        layer: A quantized layer.

    Returns:
        Its config with identity (`NoOp`) kernel quantizers.
    """
    config = layer.get_config()
    for quantizer_attr, _, constraint_attr in _quantized(layer):
        bits = precision_of(getattr(layer, quantizer_attr)) or 32
        config[quantizer_attr] = serialize(NoOp(precision=bits))
        config[constraint_attr] = None
    return config


def copy_frozen_weights(layer: Any, copy: Any) -> None:
    """Sets built `copy` (from `frozen_config(layer)`) to `layer`'s weights, with each quantized
    kernel stored quantized. Weights of the replaced kernel quantizers (e.g. LAB's alpha) are
    folded into the stored kernel.

    Args:
        layer: The trained quantized layer.
        copy: The built layer made from `frozen_config(layer)`.
    """
    frozen = {}
    dropped = set()
    for quantizer_attr, weight_attr, _ in _quantized(layer):
        kernel = getattr(layer, weight_attr)
        frozen[id(kernel)] = layer.quantize_kernel(kernel, quantizer_attr)
        quantizer = getattr(layer, quantizer_attr)
        if isinstance(quantizer, keras.layers.Layer):
            dropped.update(id(weight) for weight in quantizer.weights)
    sources = [weight for weight in layer.weights if id(weight) not in dropped]
    targets = copy.weights
    shapes = [tuple(weight.shape) for weight in sources]
    if shapes != [tuple(weight.shape) for weight in targets]:
        raise ValueError(
            f"cannot freeze {layer.name!r}: its weights {shapes} do not line up with the frozen "
            f"copy's {[tuple(weight.shape) for weight in targets]}"
        )
    for source, target in zip(sources, targets, strict=True):
        # A copy: on JAX a buffer shared by two models' variables can be donated by either.
        target.assign(keras.ops.convert_to_numpy(frozen.get(id(source), source)))

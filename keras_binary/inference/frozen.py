"""Freezing a quantized layer that stays float: its kernels stored already quantized.

A Quant* layer re-quantizes its latent kernels on every call. At inference the result never
changes, so `frozen_config` swaps each kernel quantizer for `NoOp` (same declared precision, no
constraint) and `copy_frozen_weights` stores the quantized kernels in the copy. The copy computes
the same outputs without the per-call quantization (a large cost for big float-kept kernels, e.g.
a sign over a first layer's 784x2048 kernel on every batch-1 call). Both functions take any
layer: one that quantizes no kernel is copied unchanged.

The copy is built from the live layer, not loaded: the config's callables (quantizers,
activation, initializers, ...) are the layer's own objects, so a lambda or a plain function
quantizer needs no (de)serialization.

Example::

    copy = frozen_copy(layer)
    copy.build(input_shape)
    copy_frozen_weights(layer, copy)
"""

from __future__ import annotations

import warnings
from typing import Any

import keras

from keras_binary.quantizers import NoOp, precision_of


def _quantized(layer: Any) -> list[tuple[str, str, str]]:
    """The (quantizer, weight, constraint) attributes of `layer` with a kernel quantizer."""
    return [entry for entry in getattr(layer, "quantized_kernels", ())
            if getattr(layer, entry[0], None) is not None]


def quantizes_kernels(layer: Any) -> bool:
    """Whether ``layer`` quantizes a kernel on every call (a frozen copy would store it)."""
    return bool(_quantized(layer))


def frozen_config(layer: Any) -> dict[str, Any]:
    """`layer.get_config()` with each kernel quantizer (if any) an identity of the same
    precision, to build the copy from (not to save: its callables are the live objects).

    Args:
        layer: A quantized layer.

    Returns:
        Its config with identity (`NoOp`) kernel quantizers.
    """
    with warnings.catch_warnings():
        # Serializing a lambda quantizer warns; the serialized form is replaced right below.
        warnings.simplefilter("ignore")
        config = layer.get_config()
    for key, value in config.items():
        live = getattr(layer, key, None)
        if isinstance(value, dict) and callable(live):
            config[key] = live
    for quantizer_attr, _, constraint_attr in _quantized(layer):
        bits = precision_of(getattr(layer, quantizer_attr)) or 32
        config[quantizer_attr] = NoOp(precision=bits)
        config[constraint_attr] = None
    return config


def frozen_copy(layer: Any) -> Any:
    """A new, unbuilt layer like ``layer`` with its kernel quantizers frozen (then build it and
    call `copy_frozen_weights`). Raises a one-line ValueError naming the layer when its config
    does not rebuild it (e.g. a custom layer whose `__init__` arguments it leaves out)."""
    try:
        return type(layer).from_config(frozen_config(layer))
    except Exception as error:  # user code (get_config, from_config, __init__) may raise anything
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} cannot be copied from its config ({reason}); "
            "give it a get_config() that from_config() rebuilds it from"
        ) from None


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

"""Look-up of quantizers by alias, config or instance: `get`, `serialize`, `deserialize`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from keras_binary.quantizers.base import BaseQuantizer
from keras_binary.quantizers.dorefa import DoReFa, dorefa
from keras_binary.quantizers.loss_aware import LossAwareBinarizer
from keras_binary.quantizers.loss_aware_ternary import LossAwareTernarizer
from keras_binary.quantizers.noop import NoOp
from keras_binary.quantizers.scaled_sign import (
    MagnitudeAwareSign,
    XnorWeightScale,
    magnitude_aware_sign,
    xnor_weight_scale,
)
from keras_binary.quantizers.sign import (
    ApproxSign,
    SteHeaviside,
    SteSign,
    SwishSign,
    approx_sign,
    ste_heaviside,
    ste_sign,
    swish_sign,
)
from keras_binary.quantizers.ternary import SteTern, ste_tern

ALIASES: dict[str, type[BaseQuantizer]] = {
    "ste_sign": SteSign,
    "approx_sign": ApproxSign,
    "swish_sign": SwishSign,
    "magnitude_aware_sign": MagnitudeAwareSign,
    "ste_heaviside": SteHeaviside,
    "ste_tern": SteTern,
    "dorefa": DoReFa,
    "dorefa_quantizer": DoReFa,
    "xnor_weight_scale": XnorWeightScale,
    "lab": LossAwareBinarizer,
    "lat": LossAwareTernarizer,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in (*ALIASES.values(), NoOp)}
# The functional forms map to their classes, so that a layer given `ste_sign` (the function)
# serializes and declares a precision like one given "ste_sign".
_BY_FUNCTION = {
    ste_sign: SteSign,
    approx_sign: ApproxSign,
    swish_sign: SwishSign,
    magnitude_aware_sign: MagnitudeAwareSign,
    ste_heaviside: SteHeaviside,
    ste_tern: SteTern,
    dorefa: DoReFa,
    xnor_weight_scale: XnorWeightScale,
}


def serialize(quantizer: BaseQuantizer | Callable | None) -> Any:
    """Serializes a quantizer to a config dict (None stays None).

    Args:
        quantizer: A quantizer instance, a registered callable, or None.

    Returns:
        A Keras config dict (`keras.saving.serialize_keras_object`), or None.

    Example:

    >>> from keras_binary.quantizers import SteSign
    >>> deserialize(serialize(SteSign(clip_value=0.5)))
    SteSign(clip_value=0.5)
    """
    if quantizer is None:
        return None
    return keras.saving.serialize_keras_object(quantizer)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuilds a quantizer from `serialize`'s output (or an alias string).

    Args:
        config: A config dict from `serialize`, an alias string, or None.
        custom_objects: Extra classes by name, for quantizers defined outside keras_binary.

    Returns:
        The quantizer, or None for None.

    Example:

    >>> deserialize("ste_tern")
    SteTern(threshold_value=0.05, ternary_weight_networks=False, clip_value=1.0)
    """
    if config is None:
        return None
    if isinstance(config, str):
        return get(config)
    objects = dict(_BY_CLASS_NAME)
    objects.update(custom_objects or {})
    return keras.saving.deserialize_keras_object(config, custom_objects=objects)


def get(identifier: Any) -> BaseQuantizer | Callable | None:
    """Returns a quantizer for an alias ("ste_sign"), a class name, a config dict, an instance or a
    callable; None gives None.

    Args:
        identifier: An alias from `ALIASES`, a class name, a config dict, a quantizer instance,
            a callable (a quantizer function such as `ste_sign` becomes its class) or None.

    Returns:
        A quantizer, the callable itself, or None.

    Raises:
        ValueError: An unknown alias (the message lists the known ones) or an identifier of
            another type.

    Example:

    >>> get("ste_sign")
    SteSign(clip_value=1.0)
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = ALIASES.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is None:
            known = ", ".join(sorted(ALIASES))
            raise ValueError(f"Unknown quantizer {identifier!r}. Known aliases: {known}.")
        if cls is NoOp:
            raise ValueError("NoOp needs a precision: use NoOp(precision=...) instead of a string.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        try:
            cls = _BY_FUNCTION.get(identifier)
        except TypeError:  # unhashable callables
            cls = None
        return cls() if cls is not None else identifier
    raise ValueError(
        f"Cannot interpret {identifier!r} as a quantizer: expected an alias string, a config dict, "
        "a BaseQuantizer instance, a callable or None."
    )


def get_kernel_quantizer(identifier: Any) -> BaseQuantizer | Callable | None:
    """A kernel quantizer from anything `get` accepts: alias, class name, config, instance,
    function (ours map to their classes, others are used as given) or None.

    Larq's name: it also attached the `flip_ratio` metric of a `metrics_scope`; here the flip
    ratio is the `keras_binary.metrics.FlipRatio` callback, so this is `get`.

    Args:
        identifier: what to resolve.

    Returns:
        The quantizer, or None for None.

    >>> get_kernel_quantizer(lambda x: x * 2)(3.0)
    6.0
    """
    return get(identifier)


def precision_of(quantizer: Any) -> int | None:
    """The precision in bits that `quantizer` produces, or None when it declares none.

    Args:
        quantizer: A quantizer, a callable or None.

    Returns:
        Its `precision` attribute, or None.

    Example:

    >>> precision_of(get("ste_tern")), precision_of(None)
    (2, None)
    """
    return getattr(quantizer, "precision", None) if quantizer is not None else None

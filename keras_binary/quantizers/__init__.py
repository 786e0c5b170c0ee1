"""Quantizers: sign functions with pseudo-gradients, ternary and k-bit quantizers.

Each quantizer is a serializable callable with a `precision` attribute in bits. Use an instance
or an alias wherever a layer takes a quantizer:

>>> from keras_binary import layers
>>> layer = layers.QuantDense(8, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
...                           kernel_constraint="weight_clip")
"""

from keras_binary.docstrings import splice
from keras_binary.quantizers.base import BaseQuantizer
from keras_binary.quantizers.dorefa import DoReFa, dorefa
from keras_binary.quantizers.loss_aware import LossAwareBinarizer
from keras_binary.quantizers.loss_aware_ternary import LossAwareTernarizer
from keras_binary.quantizers.noop import NoOp
from keras_binary.quantizers.registry import (
    ALIASES,
    deserialize,
    get,
    get_kernel_quantizer,
    precision_of,
    serialize,
)
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

# Larq's names: DoReFaQuantizer for the DoReFa class, NoOpQuantizer (NoOp's old name).
DoReFaQuantizer = DoReFa
NoOpQuantizer = NoOp

__all__ = [
    "ALIASES",
    "ApproxSign",
    "BaseQuantizer",
    "DoReFa",
    "DoReFaQuantizer",
    "LossAwareBinarizer",
    "LossAwareTernarizer",
    "MagnitudeAwareSign",
    "NoOp",
    "NoOpQuantizer",
    "SteHeaviside",
    "SteSign",
    "SteTern",
    "SwishSign",
    "XnorWeightScale",
    "approx_sign",
    "deserialize",
    "dorefa",
    "get",
    "get_kernel_quantizer",
    "magnitude_aware_sign",
    "precision_of",
    "serialize",
    "ste_heaviside",
    "ste_sign",
    "ste_tern",
    "swish_sign",
    "xnor_weight_scale",
]

# Fill the shared argument and reference text ({{clip_value_arg}}, ...) into the docstrings.
splice(*(value for value in map(globals().get, __all__) if callable(value)))

"""keras-binary: binarized neural networks for Keras 3 (TensorFlow and JAX backends).

>>> import keras
>>> import keras_binary as kb
>>> model = keras.Sequential([
...     keras.Input((784,)),
...     kb.layers.QuantDense(64, kernel_quantizer="ste_sign", kernel_constraint="weight_clip"),
...     kb.layers.QuantDense(10, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
...                          kernel_constraint="weight_clip"),
... ])
>>> profile = kb.summary(model, print_fn=lambda line: None)
>>> profile.params_by_precision[1]
50816
"""

from keras_binary import (
    activations,
    callbacks,
    constraints,
    kernels,
    layers,
    math,
    metrics,
    optimizers,
    precision,
    quantizers,
    utils,
)
from keras_binary.docstrings import splice_modules
from keras_binary.model_summary import summary

# Fill the shared argument and reference text into the top-level modules' docstrings.
splice_modules(activations, callbacks, constraints, metrics, precision)

__version__ = "0.1.0"

__all__ = [
    "activations",
    "callbacks",
    "constraints",
    "kernels",
    "layers",
    "math",
    "metrics",
    "optimizers",
    "precision",
    "quantizers",
    "summary",
    "utils",
]

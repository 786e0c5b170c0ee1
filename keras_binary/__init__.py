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

from keras_binary._backend_check import require_backend

require_backend()

from keras_binary import (  # noqa: E402  (after the backend check, which imports keras)
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
from keras_binary.docstrings import splice_modules  # noqa: E402
from keras_binary.model_summary import summary  # noqa: E402

# Fill the shared argument and reference text into the top-level modules' docstrings.
splice_modules(activations, callbacks, constraints, metrics, precision)

# Imported on first use: the inference converters are not needed to build or train a model.
_LAZY_SUBPACKAGES = ("inference",)

__version__ = "0.1.0"

__all__ = [
    "activations",
    "callbacks",
    "constraints",
    "inference",
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


def __getattr__(name: str):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"keras_binary.{name}")
    raise AttributeError(f"module 'keras_binary' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

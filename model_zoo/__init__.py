"""The keras-binary model zoo: BNN architectures, offline datasets and pretrained weights.

>>> import model_zoo
>>> model = model_zoo.binarynet_mlp_2048(weights=None)
>>> model.count_params() > 10_000_000
True
"""

import importlib

# Attribute -> the submodule that defines it. Imported on first use, so `python -m model_zoo
# --help` (which runs this file first) does not import Keras and its backend.
_SUBMODULES = ("datasets", "losses", "models")
_ATTRIBUTES = {
    **{name: "model_zoo.models" for name in (
        "MODELS", "binary_alexnet", "binarynet_cnn", "binarynet_cnn_svhn", "binarynet_mlp",
        "binarynet_mlp_2048", "birealnet18", "birealnet34", "birealnet_cifar", "get_model",
        "lab_mlp", "xnornet", "xnornet_cifar")},
    "load_packed_weights": "model_zoo.packed_weights",
    "save_packed_weights": "model_zoo.packed_weights",
    "available_weights": "model_zoo.weights_registry",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"model_zoo.{name}")
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'model_zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

__all__ = [
    "MODELS",
    "available_weights",
    "binary_alexnet",
    "binarynet_cnn",
    "binarynet_cnn_svhn",
    "binarynet_mlp",
    "binarynet_mlp_2048",
    "birealnet18",
    "birealnet34",
    "birealnet_cifar",
    "datasets",
    "get_model",
    "lab_mlp",
    "load_packed_weights",
    "losses",
    "models",
    "save_packed_weights",
    "xnornet",
    "xnornet_cifar",
]

"""The keras-binary model zoo: BNN architectures, offline datasets and pretrained weights.

>>> import model_zoo
>>> model = model_zoo.binarynet_mlp_2048(weights=None)
>>> model.count_params() > 10_000_000
True
"""

from keras_binary.docstrings import splice_modules
from model_zoo import datasets, losses, models
from model_zoo.models import (
    MODELS,
    binary_alexnet,
    binarynet_cnn,
    binarynet_cnn_svhn,
    binarynet_mlp,
    binarynet_mlp_2048,
    birealnet18,
    birealnet34,
    birealnet_cifar,
    get_model,
    lab_mlp,
    xnornet,
    xnornet_cifar,
)
from model_zoo.packed_weights import load_packed_weights, save_packed_weights
from model_zoo.weights_registry import available_weights

# Fill the shared reference text ({{ref_binarynet}}, ...) into the loss's docstring.
splice_modules(losses)

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

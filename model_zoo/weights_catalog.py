"""The pretrained weights registry's entries: which file holds which model trained on which
data set, its sha256 and how it was made. Plain data, no Keras: `python -m model_zoo list` reads
it without loading a backend; `model_zoo.weights_registry` loads the files.

Example:

>>> from model_zoo.weights_catalog import available_weights
>>> "mnist" in available_weights("binarynet_mlp_2048")
True
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """One registry entry: the file for `model` trained on `weights` (a dataset name).

    `filename` is looked up in `model_zoo/weights/`; when `url` is set the file is fetched (and
    cached) with `keras.utils.get_file` instead. `test_accuracy` and `budget` record how the file
    was made (real test set, this project's recipe).

    Args:
        model: Zoo model name.
        weights: Name of the weights (the data set they were trained on).
        filename: File name in `model_zoo/weights/` (or the cache for URL entries).
        sha256: Hex sha256 the file must have.
        test_accuracy: Test accuracy measured with the file.
        budget: How it was trained (epochs, recipe changes).
        url: Where to download the file from, or None for a shipped file.
    """

    model: str
    weights: str
    filename: str
    sha256: str
    test_accuracy: float
    budget: str
    url: str | None = None


REGISTRY: dict[tuple[str, str], PretrainedWeights] = {}


def register(entry: PretrainedWeights) -> PretrainedWeights:
    """Adds `entry` to the registry (a later entry for the same model and name replaces it).

    Args:
        entry: The `PretrainedWeights` entry.

    Returns:
        `entry`.
    """
    REGISTRY[(entry.model, entry.weights)] = entry
    return entry


def available_weights(model_name: str) -> list[str]:
    """The pretrained weight names registered for `model_name`.

    Args:
        model_name: A zoo model name.

    Returns:
        The sorted names to pass as `weights=`.

    Example:

    >>> available_weights("binarynet_mlp_2048")
    ['fashion_mnist', 'mnist']
    """
    return sorted(name for (model, name) in REGISTRY if model == model_name)


# Trained by this project with `python -m model_zoo train binarynet_mlp_2048 --dataset NAME
# --epochs E --seed 1` (BinaryNet recipe, Adam 3e-3 -> 3e-7 exponential over E epochs, batch 100,
# dropout 0.2/0.5, squared hinge; both with the short-budget changes named in their entries) on 2
# shared CPU cores, with `--export FILE` (or stopped early at the checkpoint named in `budget`,
# then `python -m model_zoo export`). Accuracy: full real test set (10,000 images).
register(PretrainedWeights(
    "binarynet_mlp_2048", "mnist", "binarynet_mlp_2048_mnist.npz",
    "17e3ada50938fb4ab20b97a30c2c865f17af5273ac84f8e2daf6b3e3ba5df270", 0.9886,
    "50 epochs (--epochs 50 --seed 1 --final-learning-rate 3e-5 --model-option "
    "dropout_hidden=0: Adam 3e-3 -> 3e-5 exponential over the 50, no hidden dropout), JAX, "
    "about 73 min on one core (another training on the other)",
))
register(PretrainedWeights(
    "binarynet_mlp_2048", "fashion_mnist", "binarynet_mlp_2048_fashion_mnist.npz",
    "dd7acf75b36e281c60121e6ee205cebf0019e6bfa4b2bf8728eef0088a6fd106", 0.8933,
    "20 epochs (--epochs 20 --seed 1 --final-learning-rate 3e-5 --model-option "
    "dropout_hidden=0: the MNIST entry's short-budget changes), JAX, about 33 min on 2 cores "
    "shared with two other trainings",
))
register(PretrainedWeights(
    "lab_mlp", "mnist", "lab_mlp_mnist.npz",
    "7d8f03103b6d26db08a1ee62272f9300b01c5ff87ea0c37879e2c843541c08cd", 0.9882,
    "the paper's 50 epochs (LAB lr 0.01, x0.1 after 30% and 50% of the steps, so at epochs 15 "
    "and 25) on the paper's 50k training split, final epoch of seed 2: `python -m "
    "model_zoo.train_lab_mlp --epochs 50 --variants lab --seed 2 --validation 10000 "
    "--paper-init --save-dir DIR`, JAX, ~73 min on one core (another training on the other)"
))

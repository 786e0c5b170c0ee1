"""The zoo's end-to-end demo: prepare real (Fashion-)MNIST offline, train a BinaryNet MLP for a
short budget with `model.fit` (or load the shipped pretrained weights), evaluate on the test set.

`run_demo(..., after_evaluate=fn)` calls `fn(model, test_images)` last: the place for the
float-versus-popcount speed comparison of `keras_binary.inference`.

Example:

>>> from model_zoo.demo import run_demo
>>> accuracy = run_demo(pretrained=True)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import keras

DEMO_MODEL = "binarynet_mlp_2048"


def run_demo(
    dataset: str = "mnist",
    *,
    pretrained: bool = False,
    epochs: int = 3,
    data_dir: str | os.PathLike | None = None,
    output_dir: str | os.PathLike = "runs/demo",
    limit: int | None = None,
    after_evaluate: Callable[[keras.Model, Any], None] | None = None,
) -> float:
    """Prepares `dataset`, trains (or loads pretrained) BinaryNet MLP 3x2048, prints and returns
    its test accuracy."""
    from model_zoo import datasets
    from model_zoo.models import get_model
    from model_zoo.training import evaluate, train

    print(f"[1/3] preparing {dataset} (offline, pinned and checksummed sources)")
    datasets.prepare(dataset, data_dir=data_dir)
    if pretrained:
        print(f"[2/3] loading pretrained {DEMO_MODEL} weights for {dataset}")
        model = get_model(DEMO_MODEL, weights=dataset)
    else:
        print(f"[2/3] training {DEMO_MODEL} on {dataset} for {epochs} epochs (BinaryNet recipe)")
        model, _ = train(DEMO_MODEL, dataset, epochs=epochs, output_dir=output_dir,
                         data_dir=data_dir, limit=limit)
    result = evaluate(model, dataset, data_dir=data_dir, limit=limit)
    print(f"[3/3] {DEMO_MODEL} test accuracy on {dataset}: {result['accuracy']:.4f} "
          f"({result['examples']} test images)")
    if after_evaluate is not None:
        images, _ = datasets.load_numpy(dataset, "test", data_dir=data_dir, limit=1000)
        after_evaluate(model, images)
    return result["accuracy"]

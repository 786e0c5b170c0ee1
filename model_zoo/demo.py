"""The zoo's end-to-end demo: prepare real (Fashion-)MNIST offline, train a BinaryNet MLP for a
short budget with `model.fit` (or load the shipped pretrained weights), evaluate on the test set.

Then (`popcount=True`, the default) the trained model is converted with
`keras_binary.inference.convert`: its binary layers run as XNOR/popcount on packed weights through
the XLA custom-call kernels; the demo prints the converted model's test accuracy, whether its
predictions agree with the float path, and the latency of both at batch 1 and 32 (measured side by
side in one run). `run_demo(..., after_evaluate=fn)` calls `fn(model, test_images)` last.
Training runs in a temporary directory (removed at the end) unless `output_dir` is given, where
`model_zoo.training.train`'s rules apply (resume the same run, refuse another unless
`overwrite=True`).

Example:

>>> from model_zoo.demo import run_demo
>>> accuracy = run_demo(pretrained=True)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from model_zoo.bench import DIFFERENCE_TOLERANCE

DEMO_MODEL = "binarynet_mlp_2048"
# The demo's short training budget (about 3 min of training on 2 idle cores, 97.5-97.8% on
# MNIST): the BinaryNet recipe (Adam, batch 100) with the shipped weights' short-budget changes
# (Adam 3e-3 decays to 3e-5, not 3e-7, so the late epochs still learn; no hidden dropout) and no
# input dropout either (it slows a run this short). Batches of 100 beat 200 at equal time:
# 3 epochs of 100 gave 97.6-97.7%, 4 epochs of 200 97.4%.
DEMO_EPOCHS = 3
DEMO_RECIPE = {"final_learning_rate": 3e-5}
DEMO_MODEL_OPTIONS = {"dropout_hidden": 0, "dropout_input": 0}
# A first-layer pre-sign value this close to zero is within float32 rounding of a sum of 784
# pixel products (about 1e-6 after the BatchNorm's scaling), with margin.
NEAR_THRESHOLD = 1e-4


def run_demo(
    dataset: str = "mnist",
    *,
    pretrained: bool = False,
    epochs: int | None = None,
    data_dir: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
    limit: int | None = None,
    popcount: bool = True,
    after_evaluate: Callable[[keras.Model, Any], None] | None = None,
    overwrite: bool = False,
) -> float:
    """Prepares `dataset`, trains (`epochs`, default `DEMO_EPOCHS`, of the demo's short-budget
    recipe) or loads pretrained BinaryNet MLP 3x2048, prints and returns its test accuracy.

    Args:
        dataset: "mnist" or "fashion_mnist".
        pretrained: Whether to load the shipped weights instead of training.
        epochs: Training epochs; None takes `DEMO_EPOCHS`.
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        output_dir: Run directory; None trains in a temporary directory.
        limit: Training examples; None uses all.
        popcount: Whether to compare with the popcount path afterwards.
        after_evaluate: Called with the model and its test data after the evaluation.
        overwrite: Whether `output_dir` may hold another run.

    Returns:
        The test accuracy.
    """
    from model_zoo import datasets
    from model_zoo.models import get_model
    from model_zoo.recipes import get_recipe
    from model_zoo.training import evaluate, train

    print(f"[1/3] preparing {dataset} (offline, pinned and checksummed sources)")
    datasets.prepare(dataset, data_dir=data_dir)
    if pretrained:
        print(f"[2/3] loading pretrained {DEMO_MODEL} weights for {dataset}")
        model = get_model(DEMO_MODEL, weights=dataset)
    else:
        epochs = DEMO_EPOCHS if epochs is None else epochs
        recipe = get_recipe(DEMO_MODEL, dataset, epochs=epochs, **DEMO_RECIPE)
        print(f"[2/3] training {DEMO_MODEL} on {dataset} for {epochs} epochs (BinaryNet recipe, "
              f"batch {recipe.batch_size}, Adam {recipe.learning_rate:g} -> "
              f"{recipe.final_learning_rate:g}, no dropout)")
        with tempfile.TemporaryDirectory() as scratch:
            model, _ = train(DEMO_MODEL, dataset, epochs=epochs, data_dir=data_dir, limit=limit,
                             output_dir=scratch if output_dir is None else output_dir,
                             overwrite=overwrite, model_options=DEMO_MODEL_OPTIONS,
                             **DEMO_RECIPE)
    result = evaluate(model, dataset, data_dir=data_dir, limit=limit)
    print(f"[3/3] {DEMO_MODEL} test accuracy on {dataset}: {result['accuracy']:.4f} "
          f"({result['examples']} test images)")
    if popcount or after_evaluate is not None:
        images, labels = datasets.load_numpy(dataset, "test", data_dir=data_dir, limit=limit)
    if popcount:
        compare_with_popcount(model, images, labels)
    if after_evaluate is not None:
        after_evaluate(model, images[:1000])
    return result["accuracy"]


def compare_with_popcount(model: keras.Model, images: Any, labels: Any) -> dict[str, Any]:
    """Converts `model` to the popcount inference path and prints its test accuracy, agreement
    with the float path and the latency of both at batch 1 and 32; returns those numbers.

    Args:
        model: The trained float model.
        images: Test images.
        labels: Their integer labels.

    Returns:
        The printed numbers as a dict.
    """
    from keras_binary import inference
    from model_zoo.bench import kernel_route, latency_table, prediction_agreement

    print(f"[popcount] converting {model.name}: binary layers -> packed weights, {kernel_route()}")
    fast = inference.convert(model, warn=False)
    report: dict[str, Any] = prediction_agreement(model, fast, images, labels)
    print(f"[popcount] test accuracy: float path {report['float_accuracy']:.4f}, popcount path "
          f"{report['popcount_accuracy']:.4f}; same top class on {report['same_class']:.2%} of "
          f"{report['examples']} images (max |difference| {report['max_abs_diff']:.2e})")
    if len(report["differing"]):
        print(explain_difference(model, images, report["differing"]))
    for row in latency_table(model, fast, images, (1, 32), prefix="[popcount] "):
        report[f"batch{row['batch']}"] = row
    return report


def first_sign_margins(model: keras.Model, images: Any) -> np.ndarray:
    """Per image, the smallest |value| entering the first sign: the output of the model's first
    BatchNormalization, which follows the real-valued (float, not popcount) first layer."""
    norm = next(layer for layer in model.layers
                if isinstance(layer, keras.layers.BatchNormalization))
    values = keras.Model(model.inputs, norm.output).predict(images, batch_size=500, verbose=0)
    return np.abs(np.asarray(values).reshape(len(images), -1)).min(axis=1)


def explain_difference(model: keras.Model, images: Any, differing: Any) -> str:
    """One line on where the float and popcount outputs of `images[differing]` part ways.

    The binary layers are exact on both paths (integer accumulators, thresholds folded in
    float64), but the first layer sees real-valued pixels and runs in float32 on both, compiled
    differently, so its sums round differently; a value within that rounding of zero can take
    opposite signs, and one flipped activation moves the outputs by a multiple of the last
    BatchNorm's scale.
    """
    margins = first_sign_margins(model, images[differing])
    near = int(np.sum(margins < NEAR_THRESHOLD))
    cause = (f"in {near} of them a first-layer value lies within {NEAR_THRESHOLD:g} of its sign "
             f"threshold (nearest {margins.min():.1e}), which float32 rounding in the two "
             "paths' different summation orders sends to opposite signs: expected, the binary "
             "layers are exact" if near else "none has a first-layer value near a threshold: "
             "unexpected, please report it")
    return (f"[popcount] {len(differing)} of {len(images)} images differ by more than "
            f"{DIFFERENCE_TOLERANCE:g}; {cause}")

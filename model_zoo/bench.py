"""`python -m model_zoo bench MODEL`: float vs popcount latency of a zoo model per batch size,
and whether both paths predict alike on a real test slice.

The model (pretrained with `weights`, else as initialised) is converted with
`keras_binary.inference.convert`; latencies are medians of `keras_binary.inference.compare_speed`.
Inputs are real test images when the data set is prepared (`model_zoo.datasets.prepare`), random
values in [-1, 1] otherwise (said so in the output, and the agreement line is skipped).

Example:

>>> from model_zoo.bench import run_bench
>>> report = run_bench("binarynet_mlp_2048", weights="mnist", batch_sizes=(1, 32))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

# Output differences above this are more than float32 rounding of the folded BatchNorm outputs:
# a binarized activation differs between the two paths.
DIFFERENCE_TOLERANCE = 1e-3


def prediction_agreement(model: keras.Model, fast: keras.Model, images: Any,
                         labels: Any) -> dict[str, Any]:
    """Accuracy of the float `model` and of its converted `fast` model on `images`, the fraction
    of images with the same top class on both, the largest output difference and the indices of
    the images whose outputs differ by more than `DIFFERENCE_TOLERANCE` ("differing").

    Args:
        model: The float model.
        fast: Its converted model.
        images: Test images.
        labels: Their integer labels.

    Returns:
        A dict of those numbers and the differing indices.
    """
    float_pred = model.predict(images, batch_size=500, verbose=0)
    fast_pred = fast.predict(images, batch_size=500, verbose=0)
    labels = np.asarray(labels)
    difference = np.abs(float_pred - fast_pred).reshape(len(labels), -1).max(axis=1)
    return {
        "float_accuracy": float(np.mean(float_pred.argmax(-1) == labels)),
        "popcount_accuracy": float(np.mean(fast_pred.argmax(-1) == labels)),
        "same_class": float(np.mean(float_pred.argmax(-1) == fast_pred.argmax(-1))),
        "max_abs_diff": float(difference.max()),
        "differing": np.flatnonzero(difference > DIFFERENCE_TOLERANCE),
        "examples": len(labels),
    }


def latency_table(model: keras.Model, fast: keras.Model, inputs: Any, batch_sizes: Sequence[int],
                  repeats: int = 10, prefix: str = "") -> list[dict[str, Any]]:
    """Prints float vs popcount latency per batch size (`inference.compare_speed` on the first
    `batch` of `inputs`, repeated past their end) and returns the rows.

    Args:
        model: The float model.
        fast: Its converted model.
        inputs: Test inputs.
        batch_sizes: Batch sizes to time.
        repeats: Timed calls per model and batch size.
        prefix: Text printed before each row.

    Returns:
        One dict per batch size (`compare_speed`'s numbers).
    """
    from keras_binary import inference

    print(f"{prefix}{'batch':>5} {'float ms':>10} {'popcount ms':>12} {'speed-up':>9}")
    rows = []
    for batch in batch_sizes:
        x = np.resize(inputs, (batch, *inputs.shape[1:]))  # repeats images past the slice
        speed = inference.compare_speed(model, x, converted=fast, repeats=repeats)
        rows.append({"batch": batch, **speed})
        print(f"{prefix}{batch:>5} {speed['float_ms']:>10.2f} {speed['binary_ms']:>12.2f} "
              f"{speed['speedup']:>8.1f}x")
    return rows


def kernel_route() -> str:
    """How the converted model's binary layers run here (XLA custom call, torch custom op or
    float fallback)."""
    from keras_binary import kernels

    info = kernels.kernel_info()
    if info["available"]:
        backend = keras.backend.backend()
        kind = "torch custom op" if backend == "torch" else "XLA custom call"
        return f"{kind} ({info['isa']}, {backend} backend)"
    return f"float fallback ({info['error']})"


def _test_images(dataset: str, model: keras.Model, data_dir: Any,
                 limit: int) -> tuple[np.ndarray, np.ndarray] | None:
    from model_zoo import datasets

    spec = datasets.dataset_spec(dataset)
    if not datasets.is_prepared(dataset, data_dir):
        return None
    if tuple(model.input_shape[1:]) != tuple(spec.image_shape):
        raise ValueError(f"{model.name} takes inputs of shape {model.input_shape[1:]} but "
                         f"{dataset} images have shape {spec.image_shape}: pick --dataset")
    split = "test" if "test" in spec.splits else "validation"
    return datasets.load_numpy(dataset, split, data_dir=data_dir, limit=limit)


def run_bench(
    model_name: str,
    *,
    weights: str | os.PathLike | None = None,
    batch_sizes: Sequence[int] = (1, 32),
    dataset: str | None = None,
    data_dir: str | os.PathLike | None = None,
    limit: int = 1000,
    repeats: int = 10,
) -> dict[str, Any]:
    """Prints and returns the latency table (per batch size: float ms, popcount ms, speed-up)
    and, when `dataset` (default: the recipe's) is prepared, the agreement on `limit` test
    images.

    Args:
        model_name: Zoo model name.
        weights: Weights to load: None, a registered name or a path.
        batch_sizes: Batch sizes to time.
        dataset: Data set for the agreement check; None takes the recipe's.
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        limit: Test images for the agreement check.
        repeats: Timed calls per model and batch size.

    Returns:
        The latency rows and, when measured, the agreement numbers.
    """
    from keras_binary import inference
    from model_zoo.models import get_model
    from model_zoo.recipes import get_recipe

    if not batch_sizes or any(not isinstance(b, int) or b < 1 for b in batch_sizes):
        raise ValueError(f"batch sizes must be positive ints, got {list(batch_sizes)!r}")
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, got {limit!r}")
    dataset = dataset or get_recipe(model_name).dataset
    model = get_model(model_name, weights=weights)
    data = _test_images(dataset, model, data_dir, limit)
    if data is None:
        shape = (max(batch_sizes), *model.input_shape[1:])
        inputs = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
        source = f"random inputs ({dataset} is not prepared)"
    else:
        inputs = data[0]
        source = f"real {dataset} test images"
    state = f"weights {weights}" if weights is not None else "weights as initialised"
    print(f"{model_name} ({state}), popcount path: {kernel_route()}")
    fast = inference.convert(model, warn=False)
    print(f"latency, median of {repeats} calls on {source}")
    rows = latency_table(model, fast, inputs, batch_sizes, repeats)
    report: dict[str, Any] = {"rows": rows, "agreement": None}
    if data is None:
        print(f"agreement: skipped, {dataset} is not prepared "
              f"(python -m model_zoo.datasets prepare {dataset})")
    else:
        agreement = prediction_agreement(model, fast, *data)
        report["agreement"] = agreement
        print(f"agreement on {agreement['examples']} {dataset} test images: same top class on "
              f"{agreement['same_class']:.2%} (max |difference| {agreement['max_abs_diff']:.2e}); "
              f"accuracy float {agreement['float_accuracy']:.4f}, popcount "
              f"{agreement['popcount_accuracy']:.4f}")
    return report

"""Reproduces the LAB paper's MNIST table (Hou, Yao & Kwok, ICLR 2017) and Bop on BinaryNet.

MLP 784-2048-2048-2048-10 with batch normalization and an L2-SVM (squared hinge) output, Adam,
batch 100, learning rate 0.01 (0.005 with binarized activations) divided by 10 after 30% and 50%
of the run (the paper: epochs 15 and 25 of 50). Variants (layer configurations):

- "full": float Dense layers, Adam.
- "binary_connect", "bwn", "lab": every kernel binarized by
  `LossAwareBinarizer(mode=...)`, trained by `keras_binary.optimizers.LAB`.
- "lab2": "lab" with binarized activations (`input_quantizer="ste_sign"` on hidden layers).
- "lat": ternary kernels by `LossAwareTernarizer` (LAT, Hou & Kwok 2018), trained by `LAB`.
- "bop": BinaryNet MLP 3x2048 (binary weights and activations) with Bop for the binary kernels
  and Adam for the rest (`CaseOptimizer`).

Run on the full MNIST (60k/10k, offline route `model_zoo.datasets.raw_arrays`):

    python -m model_zoo.train_lab_mlp --epochs 3 --variants full lab --output results.jsonl

The paper's protocol (its published script): train on the first 50k training images, keep the
last 10k for validation, report the test error of the epoch with the lowest validation error,
and start binary kernels from U(+-sqrt(1.5 / (fan_in + fan_out))):

    python -m model_zoo.train_lab_mlp --epochs 50 --validation 10000 --paper-init
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_binary import atomic_io, host_memory
from keras_binary.layers import QuantDense
from keras_binary.optimizers import LAB, Bop, CaseOptimizer, is_binary_variable
from keras_binary.quantizers import LossAwareBinarizer, LossAwareTernarizer
from model_zoo.losses import SparseSquaredHinge
from model_zoo.model_selection import EvaluateAtBestValidation

VARIANTS = ("full", "binary_connect", "bwn", "lab", "lab2", "lat", "bop")
INITS = ("keras", "paper")
# Bop for "bop": the best (threshold, gamma) of a 10-epoch sweep on this MLP (BENCHMARKS.md).
BOP_THRESHOLD, BOP_GAMMA = 1e-7, 1e-3
BN_KWARGS = {"momentum": 0.9, "epsilon": 1e-4}


def lab_mlp(variant: str, hidden_units: int = 2048) -> keras.Model:
    """The LAB paper's MNIST MLP for `variant` (see the module docstring).

    The loss-aware variants are the zoo's `model_zoo.models.lab_mlp`, so a trained model's
    weights load into (and export from) the zoo model; "full" and "bop" are built here.

    Args:
        variant: "full", "bop" or one of the loss-aware variants (module docstring).
        hidden_units: Units per hidden layer.

    Returns:
        The `keras.Model`.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if variant in ("binary_connect", "bwn", "lab", "lab2", "lat"):
        from model_zoo.models import lab_mlp as zoo_lab_mlp

        mode = "lab" if variant == "lab2" else variant
        quantizer = LossAwareTernarizer() if variant == "lat" else LossAwareBinarizer(mode)
        return zoo_lab_mlp(hidden_units=hidden_units,
                           binarize_activations=variant == "lab2",
                           kernel_quantizer=quantizer)
    bop = variant == "bop"
    inputs = keras.Input((784,))
    x = inputs
    units = [hidden_units] * 3 + [10]
    for index, n in enumerate(units):
        if bop:  # BinaryNet: sign kernels and sign activations, no latent-weight clip
            with warnings.catch_warnings():  # Bop flips signs and keeps no latent weights to clip
                warnings.filterwarnings("ignore", "QuantDense.*latent weights may grow")
                layer = QuantDense(n, use_bias=False, name=f"dense_{index}",
                                   kernel_quantizer="ste_sign",
                                   input_quantizer="ste_sign" if index > 0 else None)
            x = layer(x)
        else:
            x = keras.layers.Dense(n, use_bias=False, name=f"dense_{index}")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{index}", **BN_KWARGS)(x)
        if not bop and index < len(units) - 1:
            x = keras.layers.ReLU()(x)
    return keras.Model(inputs, x, name=f"lab_mlp_{variant}")


def make_optimizer(variant: str, steps: int, bop_threshold: float = BOP_THRESHOLD,
                   bop_gamma: float = BOP_GAMMA) -> keras.optimizers.Optimizer:
    """The paper's optimizer and step-wise learning-rate schedule for `variant`.

    "bop": Bop(`bop_threshold`, `bop_gamma`) for the binary kernels, Adam with the schedule
    for the rest.

    Args:
        variant: The variant.
        steps: Optimizer steps per epoch (for the schedule).
        bop_threshold: Bop's threshold.
        bop_gamma: Bop's gamma.

    Returns:
        The optimizer.
    """
    base = 0.005 if variant in ("lab2", "bop") else 0.01
    lr = keras.optimizers.schedules.PiecewiseConstantDecay(
        [int(0.3 * steps), int(0.5 * steps)], [base, base / 10, base / 100]
    )
    if variant == "full":
        return keras.optimizers.Adam(lr)
    if variant == "bop":
        return CaseOptimizer(
            (is_binary_variable, Bop(threshold=bop_threshold, gamma=bop_gamma)),
            default_optimizer=keras.optimizers.Adam(lr),
        )
    return LAB(lr)


def paper_init(model: keras.Model, seed: int = 0) -> None:
    """Re-draws each QuantDense kernel from U(+-sqrt(1.5 / (fan_in + fan_out))).

    The LAB paper's script starts binarized layers there (Glorot's uniform range halved);
    float layers keep Keras's Glorot uniform, as in the paper's full-precision baseline.

    Args:
        model: The model to re-initialize, in place.
        seed: Seed of the draw.
    """
    for index, layer in enumerate(model.layers):
        if isinstance(layer, QuantDense):
            initializer = keras.initializers.VarianceScaling(
                scale=0.25, mode="fan_avg", distribution="uniform", seed=seed + index)
            layer.kernel.assign(initializer(layer.kernel.shape))


def mnist(limit: int | None = None) -> tuple[np.ndarray, ...]:
    """Full MNIST as float32 vectors in [-1, 1] and int32 labels (offline route).

    Args:
        limit: Training examples to keep; None keeps all.

    Returns:
        `(x_train, y_train, x_test, y_test)`.
    """
    from model_zoo.datasets import raw_arrays

    splits = raw_arrays("mnist")
    out = []
    for split in ("train", "test"):
        images, labels = splits[split]
        images, labels = images[:limit], labels[:limit]
        out += [images.reshape(len(images), -1).astype("float32") / 127.5 - 1.0,
                labels.astype("int32")]
    return tuple(out)


def run(variant: str, epochs: int, batch_size: int = 100, limit: int | None = None,
        hidden_units: int = 2048, seed: int = 0,
        save_dir: str | None = None, overwrite: bool = False,
        validation: int = 0, init: str = "keras", bop_threshold: float = BOP_THRESHOLD,
        bop_gamma: float = BOP_GAMMA) -> dict[str, Any]:
    """Trains one variant and returns its test error (%) and wall time.

    With `validation` > 0, the last `validation` training examples are held out and the result
    also holds the test error at the epoch with the best validation accuracy (the paper's
    protocol); the final model is what is saved. `init="paper"` applies `paper_init` to the
    binarized variants; `bop_threshold` and `bop_gamma` configure Bop for "bop". With
    `save_dir`, the trained model is also saved there as ``lab_mlp_<variant>.keras``; an
    existing file is refused before training unless `overwrite=True`.

    Args:
        variant: The variant.
        epochs: Training epochs.
        batch_size: Batch size.
        limit: Training examples; None uses all.
        hidden_units: Units per hidden layer.
        seed: Seed of weights and shuffling.
        save_dir: Folder to save the trained model in, or None.
        overwrite: Whether an existing saved model may be replaced.
        validation: Training examples held out for validation.
        init: "keras" or "paper".
        bop_threshold: Bop's threshold.
        bop_gamma: Bop's gamma.

    Returns:
        The results as a dict.
    """
    save_path = os.path.join(save_dir, f"lab_mlp_{variant}.keras") if save_dir else None
    if save_path and os.path.exists(save_path) and not overwrite:
        raise FileExistsError(
            f"{save_path} exists; pass overwrite=True (--overwrite) to replace it"
        )
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = mnist(limit)
    if not 0 <= validation < len(x_train):
        raise ValueError(
            f"validation must be in [0, {len(x_train)}) training examples, got {validation}"
        )
    model = lab_mlp(variant, hidden_units)
    if init == "paper":
        paper_init(model, seed)
    shape = (-1, *model.input_shape[1:])  # the zoo model takes 28x28x1 images
    x_train, x_test = x_train.reshape(shape), x_test.reshape(shape)
    fit_kwargs: dict[str, Any] = {}
    if validation:
        x_train, x_val = x_train[:-validation], x_train[-validation:]
        y_train, y_val = y_train[:-validation], y_train[-validation:]
        selector = EvaluateAtBestValidation(x_test, y_test, monitor="val_accuracy")
        fit_kwargs = {"validation_data": (x_val, y_val), "callbacks": [selector]}
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    optimizer = make_optimizer(variant, steps, bop_threshold, bop_gamma)
    model.compile(optimizer=optimizer, loss=SparseSquaredHinge(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2, **fit_kwargs)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    if save_path:
        os.makedirs(save_dir, exist_ok=True)
        with atomic_io.atomic_path(save_path) as temporary:
            model.save(temporary)
    result = {"variant": variant, "backend": keras.backend.backend(), "epochs": epochs,
              "seed": seed, "init": init, "train_examples": len(x_train),
              "test_examples": len(x_test),
              "test_error_percent": round(100.0 * (1.0 - accuracy), 2),
              "train_seconds": round(seconds, 1)}
    if variant == "bop":
        result.update({"bop_threshold": bop_threshold, "bop_gamma": bop_gamma})
    if validation:
        result.update({
            "validation_examples": validation,
            "best_validation_epoch": selector.best_epoch + 1,
            "best_validation_error_percent": round(100.0 * (1.0 - selector.best_value), 2),
            "test_error_at_best_validation_percent": round(
                100.0 * (1.0 - selector.test_results["accuracy"]), 2),
        })
    return result


def _append_line(path: str, line: str) -> None:
    """Appends `line` to the file at `path` by rewriting it atomically (no torn last line)."""
    previous = open(path).read() if os.path.exists(path) else ""
    atomic_io.write_text(path, previous + line + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line of the LAB MLP reproduction (`python -m model_zoo.train_lab_mlp --help`).

    Args:
        argv: The arguments after the program name; None reads `sys.argv`.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--limit", type=int, default=None, help="examples per split (smoke)")
    parser.add_argument("--hidden-units", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation", type=int, default=0,
                        help="hold out this many training examples and report the test error "
                             "at the best validation epoch (the paper: 10000)")
    parser.add_argument("--paper-init", action="store_true",
                        help="binary kernels from U(+-sqrt(1.5/(fan_in+fan_out))), as the paper")
    parser.add_argument("--bop-threshold", type=float, default=BOP_THRESHOLD,
                        help="Bop's tau (bop)")
    parser.add_argument("--bop-gamma", type=float, default=BOP_GAMMA, help="Bop's gamma (bop)")
    parser.add_argument("--output", default=None, help="append JSON lines here")
    parser.add_argument("--save-dir", default=None, help="save each trained model (.keras) here")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace models already saved in --save-dir")
    args = parser.parse_args(argv)
    host_memory.keep_freed_memory()  # each training step reuses the last one's buffers
    for variant in args.variants:
        result = run(variant, args.epochs, limit=args.limit, hidden_units=args.hidden_units,
                     save_dir=args.save_dir, overwrite=args.overwrite, seed=args.seed,
                     validation=args.validation,
                     init="paper" if args.paper_init else "keras",
                     bop_threshold=args.bop_threshold, bop_gamma=args.bop_gamma)
        print(json.dumps(result), flush=True)
        if args.output:
            _append_line(args.output, json.dumps(result))


if __name__ == "__main__":
    main()

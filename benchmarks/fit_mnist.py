"""BinaryNet MLP on real MNIST from an ``.npz``, for machines without TensorFlow/tfds (the GPU
machine): ``model.fit`` with the zoo recipe, test accuracy, then the converted model through
the popcount kernel (accuracy, agreement, batch latency against the float model).

Usage::

    # where the offline MNIST is prepared (needs TensorFlow): write the arrays once
    python benchmarks/fit_mnist.py --export-npz .gpu/mnist.npz
    # anywhere (JAX on a GPU included)
    KERAS_BACKEND=jax python benchmarks/fit_mnist.py --npz .gpu/mnist.npz --epochs 3 --out r.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from keras_binary import atomic_io


def export_npz(path: str) -> None:
    """Writes the real MNIST train/test arrays (uint8 images, labels) from the tfds store."""
    from model_zoo.datasets import load_numpy

    arrays = {}
    for split in ("train", "test"):
        x, y = load_numpy("mnist", split, value_range=None)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x.astype(np.uint8), y.astype(np.uint8)
    with atomic_io.atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    print(f"wrote {path}: " + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))


def run(npz: str, epochs: int, model_name: str) -> dict:
    import keras

    from keras_binary import kernels
    from keras_binary.inference import compare_speed, convert
    from model_zoo.models import get_model
    from model_zoo.recipes import get_recipe, steps_per_epoch
    from model_zoo.training import compile_model

    data = np.load(npz)
    scale = lambda x: x.reshape(len(x), 28, 28, 1).astype(np.float32) / 127.5 - 1.0  # noqa: E731
    x_train, y_train = scale(data["x_train"]), data["y_train"].astype(np.int32)
    x_test, y_test = scale(data["x_test"]), data["y_test"].astype(np.int32)
    recipe = get_recipe(model_name, "mnist", epochs=epochs)
    model = get_model(model_name, num_classes=10)
    compile_model(model, recipe, steps_per_epoch(len(x_train), recipe.batch_size))
    times = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: times.append(-time.perf_counter()),
        on_epoch_end=lambda e, logs: times.__setitem__(-1, times[-1] + time.perf_counter()))
    keras.utils.set_random_seed(0)
    model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=epochs, callbacks=[timer],
              verbose=2)
    float_acc = float(np.mean(model.predict(x_test, batch_size=1000, verbose=0).argmax(-1)
                              == y_test))
    fast = convert(model, warn=False)
    kernel_acc = float(np.mean(fast.predict(x_test, batch_size=1000, verbose=0).argmax(-1)
                               == y_test))
    speed = {b: compare_speed(model, x_test[:b], fast, repeats=20) for b in (1, 100)}
    return {
        "model": model_name, "epochs": epochs, "batch_size": recipe.batch_size,
        "epoch_seconds": times, "test_accuracy_float": float_acc,
        "test_accuracy_kernel": kernel_acc, "kernel": kernels.kernel_info(),
        "backend": keras.backend.backend(),
        "speed": {str(b): {k: v for k, v in s.items()} for b, s in speed.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export-npz", help="write MNIST from the tfds store to this path")
    parser.add_argument("--npz", help="MNIST arrays written by --export-npz")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--model", default="binarynet_mlp_2048")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    if args.export_npz:
        export_npz(args.export_npz)
        return
    if not args.npz:
        parser.error("--npz (or --export-npz) is required")
    result = run(args.npz, args.epochs, args.model)
    for batch, s in result["speed"].items():
        print(f"batch {batch:>3}: float {s['float_ms']:.3f} ms, converted {s['binary_ms']:.3f} ms "
              f"({s['speedup']:.1f}x), same top class {s['argmax_agreement']:.4f}")
    print(f"test accuracy: float path {result['test_accuracy_float']:.4f}, popcount kernel "
          f"{result['test_accuracy_kernel']:.4f}; seconds per epoch "
          + ", ".join(f"{t:.1f}" for t in result["epoch_seconds"]))
    if args.out:
        atomic_io.write_text(args.out, json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()

"""Grouped binary convolutions: a converted stack of grouped QuantConv2D layers vs its float
Keras model, side by side, on both backends (each in its own process).

Four 3x3 "same" QuantConv2D + BatchNorm layers on a 28x28x128 input at batch 1, with
``groups`` = 1 (ungrouped), 4 (32 channels per group: packed between the layers) and 8 (16 per
group: float between the layers, packed inside each group's call). Random weights, non-integer
BatchNorm statistics.

Usage::

    python benchmarks/bench_grouped_conv.py                 # jax + tensorflow
    python benchmarks/bench_grouped_conv.py --backends jax --repeats 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = (1, 4, 8)


def grouped_stack(groups: int):
    import keras
    import numpy as np

    from keras_binary.layers import QuantConv2D

    binary = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)
    x = inputs = keras.Input((28, 28, 128))
    for _ in range(4):
        x = QuantConv2D(128, 3, groups=groups, padding="same", **binary)(x)
        x = keras.layers.BatchNormalization()(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, QuantConv2D):
            layer.kernel.assign(rng.uniform(-1, 1, layer.kernel.shape))
        elif isinstance(layer, keras.layers.BatchNormalization):
            # Sums of 3 * 3 * 128 / groups signs: means and spreads on that scale.
            fan_in = 9 * 128 // groups
            layer.moving_mean.assign(rng.uniform(-0.5, 0.5, 128) * fan_in ** 0.5 + 0.25)
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, 128) * fan_in)
    return model


def worker(repeats: int) -> list[dict]:
    import keras
    import numpy as np

    sys.path.insert(0, ROOT)
    from keras_binary import inference

    rows = []
    x = np.random.default_rng(1).normal(size=(1, 28, 28, 128)).astype("float32")
    for groups in GROUPS:
        model = grouped_stack(groups)
        fast = inference.convert(model, warn=False)
        stats = inference.compare_speed(model, x, converted=fast, repeats=repeats)
        modes = [layer.output_mode for layer in fast.layers if hasattr(layer, "output_mode")]
        rows.append({"backend": keras.backend.backend(), "groups": groups, "outputs": modes,
                     **{k: stats[k] for k in ("float_ms", "binary_ms", "speedup", "agree")}})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow"])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.repeats)))
        return
    print("| backend | groups | converted outputs | float ms | binary ms | speed-up | agree |")
    print("|---|---|---|---|---|---|---|")
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        out = subprocess.run([sys.executable, __file__, "--worker", "--repeats",
                              str(args.repeats)], env=env, stdout=subprocess.PIPE, text=True,
                             check=True)
        for r in json.loads(out.stdout.strip().splitlines()[-1]):
            print(f"| {r['backend']} | {r['groups']} | {', '.join(r['outputs'])} | "
                  f"{r['float_ms']:.2f} | {r['binary_ms']:.2f} | {r['speedup']:.1f}x | "
                  f"{'yes' if r['agree'] else 'NO'} |")


if __name__ == "__main__":
    main()

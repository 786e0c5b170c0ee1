"""Guide 8: deploying a binarized model with ONNX Runtime (export, custom ops, checks, latency).

Run: python guides/08_onnx_runtime.py; python guides/render.py renders it.
"""

# %% [markdown]
# # 8. Deploying a binarized model with ONNX Runtime
#
# A converted model (`keras_binary.inference.convert`, guide 5) runs fast inside a Python
# process with Keras and JAX or TensorFlow. To run it where those are not installed (a server,
# an ARM board) export it to ONNX: `keras_binary.inference.export_onnx` writes the binary layers
# as custom ops of the `ai.keras_binary` domain, with their kernels packed at 1 bit per weight,
# and every other layer as standard ONNX ops. ONNX Runtime runs the file once the custom-op
# library `libkeras_binary_ort.so` is registered in its session options; that library holds the
# same C++ popcount kernels as the Keras path and runs them on ONNX Runtime's threads.
#
# This guide exports the shipped pretrained BinaryNet MLP (MNIST), checks that ONNX Runtime
# classifies the test images exactly as the converted Keras model does, and times both.

# %%
import os
import tempfile
import time

import keras
import numpy as np
import onnx
from guide_utils import fast_or_full, mode_name

from keras_binary import inference
from model_zoo.datasets import mnist_slice
from model_zoo.models import get_model

print("backend:", keras.backend.backend(), "| mode:", mode_name())
n_test = fast_or_full(1000, 10000)
_, _, x_test, y_test = mnist_slice(0, n_test)
model = get_model("binarynet_mlp_2048", weights="mnist")
fast = inference.convert(model)
print("converted layers:", [type(layer).__name__ for layer in fast.layers])

# %% [markdown]
# ## Export
#
# `export_onnx` checks the graph with `onnx.checker` and writes the file atomically. The binary
# layers' packed kernels are int32 initializers; the first layer, which sees real pixels, stays a
# float `MatMul`.

# %%
folder = tempfile.mkdtemp()
path = inference.export_onnx(fast, os.path.join(folder, "binarynet_mlp_mnist.onnx"))
graph = onnx.load(path).graph
print("ops:", sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in graph.node}))
print(f"ONNX file: {os.path.getsize(path) / 1e6:.2f} MB; float32 weights of the trained model: "
      f"{model.count_params() * 4 / 1e6:.2f} MB")

# %% [markdown]
# ## Run it in ONNX Runtime
#
# `onnx_session` registers the custom-op library (`inference.register_ops` does it on a
# `SessionOptions` of your own) and opens a CPU session. The binary layers run the same kernels
# as the Keras path, bit for bit; the float first layer is ONNX Runtime's own matrix product,
# whose float rounding differs from XLA's in the last bits. Where a hidden value lies that close
# to zero its sign (the next binary layer's input bit) can flip, and that image's scores move by
# one bit's weight; the classification and the accuracy stay the same.

# %%
session = inference.onnx_session(path)
name = session.get_inputs()[0].name
ort_scores = session.run(None, {name: x_test})[0]
keras_scores = np.asarray(fast.predict(x_test, batch_size=250, verbose=0))
close = np.isclose(ort_scores, keras_scores, rtol=1e-5, atol=1e-5).all(axis=-1)
print(f"images with the same scores (to 1e-5): {close.mean():.2%}")
print("same top class:", f"{(ort_scores.argmax(-1) == keras_scores.argmax(-1)).mean():.2%}")
print(f"test accuracy: ONNX Runtime {(ort_scores.argmax(-1) == y_test).mean():.4f}, "
      f"Keras {(keras_scores.argmax(-1) == y_test).mean():.4f} ({n_test} images)")

# %% [markdown]
# ## Latency
#
# The median of repeated calls at batch 1 and 32, ONNX Runtime (its default threads) against
# the converted Keras model's `predict_on_batch`. Timings depend on the machine and its load.

# %%


def median_ms(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


repeats = fast_or_full(20, 200)
for batch in (1, 32):
    x = x_test[:batch]
    ort_ms = median_ms(lambda x=x: session.run(None, {name: x}), repeats)
    keras_ms, _ = inference.time_predict(fast, x, repeats=repeats)
    print(f"batch {batch:2d}: ONNX Runtime {ort_ms:7.3f} ms | converted Keras {keras_ms:7.3f} ms")

# %% [markdown]
# ## What to ship
#
# The deployment needs three things: the `.onnx` file, `libkeras_binary_ort.so`
# (`inference.ort_library_path()` says where the package has it) and ONNX Runtime 1.21 or
# newer. The library links no ONNX Runtime of its own: it takes the API from the runtime that
# loads it. In C++ the registration is one call,
# `Ort::SessionOptions::RegisterCustomOpsLibrary(ORT_TSTR("libkeras_binary_ort.so"))`; in
# Python, `SessionOptions.register_custom_ops_library(path)`.

# %%
print("custom-op library:", inference.ort_library_path().name)

# %% [markdown]
# ## The same on ARM
#
# The custom-op library builds from the same sources for 64-bit ARM Linux (AWS Graviton, a
# Raspberry Pi 4 or 5, ...): there the x86 kernels (AVX2, AVX-512, AMX) compile to nothing and
# the portable popcount kernels run; PyPI's `onnxruntime` has aarch64 wheels. From an x86 Linux
# checkout, Debian's cross compiler builds it (`cmake/aarch64-linux-gnu.cmake` is the CMake
# toolchain file the script uses):
#
# ```bash
# sudo apt-get install g++-aarch64-linux-gnu
# scripts/build_aarch64_ort.sh    # prints build/aarch64/build/libkeras_binary_ort.so
# ```
#
# Ship that library with the `.onnx` file. On the target, `scripts/ort_run.py` runs a model on
# `.npy` inputs with nothing but numpy and onnxruntime:
# `python3 ort_run.py libkeras_binary_ort.so THREADS model.onnx x.npy y.npy`.
# Without an ARM machine, `scripts/fetch_aarch64_runtime.sh` fetches, without root, qemu-aarch64
# 10 (Debian bookworm-backports), an arm64 Debian Python 3.11 and PyPI's aarch64 onnxruntime
# into `build/aarch64/runtime/`, and qemu runs the same command:
#
# ```bash
# rt=build/aarch64/runtime
# $rt/qemu-aarch64 -L $rt/sysroot -E PYTHONPATH=$rt/site $rt/sysroot/usr/bin/python3.11 \
#   scripts/ort_run.py build/aarch64/build/libkeras_binary_ort.so 2 model.onnx x.npy y.npy
# ```
#
# `tests/inference/test_onnx_aarch64.py` does this for a BinaryNet MLP, binary ConvNets (packed
# and float outputs, compared bit for bit) and this guide's pretrained MNIST model: aarch64 gives
# the converted Keras model's outputs and its test accuracy (the float first layer may round
# differently on another CPU, as above: the test allows one image in 300 to differ). qemu shows
# that the results are right, not how fast they come: it emulates ARM's vector instructions, and
# most of its time goes to the float first layer.
#
# ONNX Runtime's minimal and mobile builds load its own format, `.ort`:
# `inference.export_ort_format(path, target_platform="arm")` converts an exported file with
# ONNX Runtime's tool, the custom-op library registered and the graph optimized once for that
# CPU family (`"amd64"` for x86-64); `onnx_session` and `ort_run.py` open `.ort` files too, and
# the aarch64 test runs one. A minimal build registers the library only where it was built
# with custom-op support (checked here with PyPI's full runtime, not with a minimal build).

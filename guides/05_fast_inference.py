"""Guide 5: converting a trained BNN to the XNOR-popcount kernels: exactness, speed, packed export.

Run: python guides/05_fast_inference.py; python guides/render.py renders it.
"""

# %% [markdown]
# # 5. Fast inference with popcount kernels
#
# During training a binarized layer still multiplies floats that happen to be +1 or -1. For
# inference, `keras_binary.inference.convert` rewrites the trained model: each binary layer's
# kernel is packed once into bits (32 weights per int32 word), its scale, bias and the following
# batch normalization fold into a per-channel output transform, and the products run as
# `K - 2 * popcount(a XOR w)` in XLA custom-call kernels (AVX-512/AVX2 or portable C++ on CPU),
# on both TensorFlow and JAX. Layers that are not binary (here the first layer, which sees real
# pixels) stay float.
#
# This guide trains a small BinaryNet-style MLP, converts it, checks that the converted model
# computes the same predictions, measures the speed-up, and exports the packed weights.

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
from guide_utils import fast_or_full, mode_name, save_figure

from keras_binary import inference
from keras_binary.layers import QuantDense
from model_zoo.datasets import mnist_slice

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend(), "| mode:", mode_name())
n_train, n_test = fast_or_full((2000, 1000), (60000, 10000))
units = fast_or_full(1024, 2048)
x_train, y_train, x_test, y_test = mnist_slice(n_train, n_test, flatten=True)

# %% [markdown]
# ## A trained binarized MLP
#
# Hidden layers binarize their inputs and kernels with `ste_sign`; batch normalization follows
# each binary layer, so the converter can fold it into an integer threshold.

# %%
binary = dict(
    input_quantizer="ste_sign",
    kernel_quantizer="ste_sign",
    kernel_constraint="weight_clip",
    use_bias=False,
)
model = keras.Sequential(
    [
        keras.Input((784,)),
        QuantDense(
            units, kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False
        ),
        keras.layers.BatchNormalization(momentum=0.9),
        QuantDense(units, **binary),
        keras.layers.BatchNormalization(momentum=0.9),
        QuantDense(units, **binary),
        keras.layers.BatchNormalization(momentum=0.9),
        QuantDense(10, **binary),
        keras.layers.BatchNormalization(momentum=0.9),
    ],
    name="binary_mlp",
)
model.compile(
    optimizer=keras.optimizers.Adam(0.005),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(x_train, y_train, batch_size=100, epochs=fast_or_full(1, 10), verbose=0)
float_logits = model.predict(x_test, batch_size=250, verbose=0)
float_accuracy = np.mean(float_logits.argmax(-1) == y_test)
print(f"{units} hidden units; float-path test accuracy: {float_accuracy:.4f}")

# %% [markdown]
# ## Converting
#
# `convert` returns a new Keras model, an `inference.ConvertedModel`; the original is untouched.
# Its `predict` and `evaluate` are compiled by default (`jit_compile=True`): one XLA program on
# JAX and TensorFlow, and on PyTorch a graph captured once per input shape by `torch.compile`
# without code generation (the kernels do the work; Keras's per-layer Python is what it removes).
# `compile()` resets `jit_compile` as Keras does; set it to `True` again after it.

# %%
fast = inference.convert(model)
for layer in fast.layers:
    print(f"{layer.name:28s} {type(layer).__name__}")

# %% [markdown]
# ## Exactness
#
# A popcount dot product is an integer, and batch normalization folds into exact integer
# thresholds where the next layer binarizes, so the converted model should agree with the float
# path up to float rounding in the last (float-output) transform.
#
# NaN follows the float layers' rule, `sign(NaN) = NaN` (and `sign(0) = +1`): a NaN reaching a
# binary dense layer makes that row's outputs NaN. Packed bits cannot hold NaN, so a converted
# binary layer checks its float input instead: a dense row, or a whole conv sample, holding a NaN
# gets NaN outputs, and where the layer's output is packed, `convert` carries the flag past the
# packed layers to the next float output. ±inf binarize to ±1 on both paths, as `sign` does.
# (Keras's float max pooling may turn a NaN into ±inf or drop it, depending on the backend; the
# converted model flags the sample either way.)

# %%
binary_logits = fast.predict(x_test, batch_size=250, verbose=0)
print(
    "max |float - converted| over all test logits:",
    float(np.abs(float_logits - binary_logits).max()),
)
print(
    "same predicted class on",
    f"{np.mean(float_logits.argmax(-1) == binary_logits.argmax(-1)):.2%}",
    "of the test images",
)
print(f"converted-model test accuracy: {np.mean(binary_logits.argmax(-1) == y_test):.4f}")

# %% [markdown]
# ## Speed
#
# `inference.compare_speed` times `predict_on_batch` of both models (median over repeats, after a
# warm-up: the compiling call, then calls for half a second) and re-checks agreement. The numbers
# depend on the machine and its load; these guides are rendered on a shared 2-core CPU. On JAX,
# start Python with glibc's `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` raised for
# steady times (docs/kernels.md, "Steady latency on JAX's CPU backend").

# %%
rows = []
for batch in fast_or_full((1, 16, 128), (1, 16, 128, 1024)):
    stats = inference.compare_speed(
        model, x_test[:batch], converted=fast, repeats=fast_or_full(5, 30)
    )
    rows.append((batch, stats))
print(f"{'batch':>5s} {'float ms':>9s} {'binary ms':>10s} {'speed-up':>9s} {'agree':>6s}")
for batch, s in rows:
    times = f"{s['float_ms']:>9.3f} {s['binary_ms']:>10.3f}"
    print(f"{batch:>5d} {times} {s['speedup']:>8.2f}x {str(s['agree']):>6s}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
positions = np.arange(len(rows))
ax.bar(positions - 0.2, [s["float_ms"] for _, s in rows], 0.4, label="float model")
ax.bar(positions + 0.2, [s["binary_ms"] for _, s in rows], 0.4, label="converted (popcount)")
for position, (_, s) in zip(positions, rows, strict=True):
    ax.annotate(f"{s['speedup']:.1f}x", (position + 0.2, s["binary_ms"]), ha="center", va="bottom")
ax.set_xticks(positions, [f"batch {b}" for b, _ in rows])
ax.set(
    ylabel="median latency (ms)",
    title=f"MLP with {units} units, {keras.backend.backend()}",
)
ax.legend()
save_figure(fig, "05_speed")

# %% [markdown]
# ## Packed weight export
#
# `export_packed` writes the converted model's weights with binary kernels as packed int32
# words (1 bit per weight) and the float parameters as float32, each with a sha256 checksum.
# `load_packed` fills a freshly converted model of the same architecture and checks every
# checksum and shape.

# %%
folder = tempfile.mkdtemp()
keras_path = os.path.join(folder, "binary_mlp.keras")
packed_path = os.path.join(folder, "binary_mlp.kbpack.npz")
model.save(keras_path)
packed_bytes = inference.export_packed(fast, packed_path)
float_kib = sum(int(np.prod(w.shape)) for w in model.weights) * 4 / 1024
print(f"float32 weights of the trained model : {float_kib:10.1f} KiB")
print(f".keras file (latent + optimizer state): {os.path.getsize(keras_path) / 1024:10.1f} KiB")
print(f"packed export                        : {packed_bytes / 1024:10.1f} KiB")
print(f"reduction vs the .keras file         : {os.path.getsize(keras_path) / packed_bytes:10.1f}x")
header, arrays = inference.read_packed(packed_path)
for kind, dtype in (
    ("packed binary kernels (int32 words)", np.int32),
    ("float parameters", np.float32),
):
    kib = sum(a.nbytes for a in arrays if a.dtype == dtype) / 1024
    print(f"  of which {kind:36s}: {kib:10.1f} KiB")

# %%
keras.utils.set_random_seed(1)  # a fresh, untrained model of the same architecture
fresh = keras.models.clone_model(model)
restored = inference.convert(fresh, warn=False)
inference.load_packed(restored, packed_path)
restored_logits = restored.predict(x_test, batch_size=250, verbose=0)
print(
    "restored from the packed file, max |difference| to the converted model:",
    float(np.abs(restored_logits - binary_logits).max()),
)
for path in (keras_path, packed_path):
    os.remove(path)
os.rmdir(folder)

"""Guide 7: migrating a Larq (tf.keras 2) project to keras-binary (Keras 3).

Run: python guides/07_migrating_from_larq.py; python guides/render.py renders it.
"""

# ruff: noqa: E501 (Markdown table rows are one line each)

# %% [markdown]
# # 7. Migrating from Larq
#
# Larq is built on tf.keras 2 and relies on private tf.keras hooks, so it does not import under
# Keras 3. keras-binary keeps Larq's vocabulary (quantized layers with `input_quantizer` and
# `kernel_quantizer`, quantizer aliases such as `"ste_sign"`, `WeightClip`, `Bop`,
# `CaseOptimizer`, a summary of parameters and MACs per precision) on public Keras 3 APIs, runs
# on TensorFlow and JAX, and adds recurrent layers, LAB and x86 popcount inference.
#
# ## Imports side by side
#
# | Larq 0.13 (tf.keras 2) | keras-binary (Keras 3) |
# |---|---|
# | `import tensorflow as tf`, `tf.keras...` | `import keras` (set `KERAS_BACKEND` to `tensorflow` or `jax`) |
# | `import larq as lq` | `import keras_binary as kb` |
# | `lq.layers.QuantDense`, `QuantConv1D/2D/3D`, `QuantConv2DTranspose`, `QuantDepthwiseConv2D`, `QuantSeparableConv1D/2D` | `kb.layers.` same names (plus `QuantConv1DTranspose`, `QuantDepthwiseConv1D`) |
# | `lq.layers.QuantLocallyConnected1D/2D` | not available (Keras 3 has no locally connected layers) |
# | no recurrent layers | `kb.layers.QuantLSTM`, `QuantGRU`, `QuantSimpleRNN` and their cells |
# | `lq.quantizers.SteSign`, `ApproxSign`, `SwishSign`, `MagnitudeAwareSign`, `SteHeaviside`, `SteTern`, `DoReFaQuantizer`, `NoOp` | `kb.quantizers.` same names (`DoReFa` with the alias `DoReFaQuantizer`), plus `XnorWeightScale` and `LossAwareBinarizer` (`"lab"`) |
# | `lq.constraints.WeightClip`, alias `"weight_clip"` | `kb.constraints.WeightClip`, same alias |
# | `lq.activations.hard_tanh`, `leaky_tanh` | `kb.activations.hard_tanh`, `leaky_tanh` |
# | `lq.optimizers.Bop`, `lq.optimizers.CaseOptimizer` | `kb.optimizers.Bop`, `kb.optimizers.CaseOptimizer` (on `keras.optimizers.MultiOptimizer`) |
# | `lq.optimizers.Bop.is_binary_variable` | `kb.optimizers.is_binary_variable` (also `kb.precision.is_binary_variable`) |
# | no loss-aware optimizer | `kb.optimizers.LAB` with `kernel_quantizer="lab"` |
# | `lq.callbacks.HyperparameterScheduler` | `kb.callbacks.HyperparameterScheduler` |
# | `with lq.context.metrics_scope(["flip_ratio"]): model.compile(...)` | `model.fit(..., callbacks=[kb.metrics.FlipRatio()])` |
# | `lq.models.summary(model)` | `kb.summary(model)` (also returns the counts as a profile object) |
# | `with lq.context.quantized_scope(True): model.save(...)` | `layer.kernel_quantizer(layer.kernel)` for effective weights; `keras_binary.inference.convert` and packed export for deployment |
# | `larq_zoo` (`lqz.literature.BinaryAlexNet(weights="imagenet")`, ...) | `model_zoo.models.get_model(...)`, `python -m model_zoo` |
# | Larq Compute Engine (converter to TFLite, fast on ARM) | `keras_binary.inference.convert` (XLA popcount kernels on x86, TF and JAX) |
#
# ## Behaviour that changed
#
# - **Precision tags instead of variable names.** Larq's `Bop.is_binary_variable` checks a
#   `precision` attribute on the variable; keras-binary does the same through
#   `keras_binary.precision`, set by each layer from its kernel quantizer, so `CaseOptimizer`
#   routing, the summary and the inference converter all read one tag.
# - **Flip ratio is a callback.** Keras 3 metrics only see `y_true` and `y_pred` (and on JAX
#   cannot read weights inside the compiled step), so `FlipRatio` is a callback that writes
#   `flip_ratio` into the training logs (History, TensorBoard) instead of a scoped metric.
# - **Saving** uses the Keras 3 `.keras` format; every keras-binary object is registered, so no
#   `custom_objects` are needed.
# - **Backends:** the same code runs on TensorFlow and JAX; pick one with `KERAS_BACKEND`.
#
# The cells below run the keras-binary side of each row on a tiny real MNIST slice.

# %%
import keras
import numpy as np
from guide_utils import fast_or_full

import keras_binary as kb
from keras_binary.callbacks import HyperparameterScheduler
from keras_binary.metrics import FlipRatio
from model_zoo.datasets import mnist_slice

print("backend:", keras.backend.backend(), "| keras", keras.__version__)

# %% [markdown]
# ## A Larq model, line for line
#
# Larq's README model (`tf.keras.models.Sequential` with `lq.layers.QuantDense`) becomes a
# `keras.Sequential` with `kb.layers.QuantDense`; the arguments are unchanged.

# %%
kwargs = dict(
    input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip"
)
model = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        kb.layers.QuantDense(128, kernel_quantizer="ste_sign", kernel_constraint="weight_clip"),
        keras.layers.BatchNormalization(momentum=0.9),
        kb.layers.QuantDense(10, **kwargs),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Activation("softmax"),
    ]
)
kb.summary(model)

# %% [markdown]
# ## Bop with `CaseOptimizer`, a scheduled `gamma` and the flip ratio
#
# In Larq: `lq.optimizers.CaseOptimizer((lq.optimizers.Bop.is_binary_variable, lq.optimizers.Bop()),
# default_optimizer=tf.keras.optimizers.Adam(0.01))`, plus `metrics_scope(["flip_ratio"])`.

# %%
bop = kb.optimizers.Bop(threshold=1e-6, gamma=1e-3)
optimizer = kb.optimizers.CaseOptimizer(
    (kb.optimizers.is_binary_variable, bop), default_optimizer=keras.optimizers.Adam(0.01)
)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
x_train, y_train, x_test, y_test = mnist_slice(*fast_or_full((1000, 300), (60000, 10000)))
scheduler = HyperparameterScheduler(lambda epoch: 1e-3 * 0.5**epoch, "gamma", bop)
history = model.fit(
    x_train,
    y_train,
    batch_size=100,
    epochs=fast_or_full(2, 10),
    callbacks=[scheduler, FlipRatio()],
    validation_data=(x_test, y_test),
    verbose=0,
)
for key in ("gamma", "flip_ratio", "val_accuracy"):
    print(f"{key:>12s} per epoch:", [float(f"{v:.4g}") for v in history.history[key]])

# %% [markdown]
# ## Effective weights without `quantized_scope`
#
# Larq swaps the latent kernels for their quantized values inside `quantized_scope(True)`. In
# keras-binary every quantized layer keeps its quantizer, so apply it to the kernel directly.

# %%
layer = model.layers[1]
binary_kernel = keras.ops.convert_to_numpy(layer.kernel_quantizer(layer.kernel))
print("kernel precision tag:", kb.precision.get_precision(layer.kernel))
print("distinct values of the effective kernel:", np.unique(binary_kernel).tolist())

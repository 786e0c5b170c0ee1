"""Guide 1: getting started -- a first binarized network on real MNIST.

Run: python guides/01_getting_started.py (fast) or KERAS_BINARY_GUIDES_FULL=1 for the full run;
python guides/render.py guides/01_getting_started.py writes guides/output/01_getting_started.md
(--update: the committed 01_getting_started.md).
"""

# %% [markdown]
# # 1. Getting started: a first binarized neural network
#
# A binarized neural network (BNN) replaces most multiply-accumulates by XNOR and popcount: the
# weights and the activations entering a layer are reduced to +1 or -1. keras-binary does this
# with ordinary Keras layers (`QuantDense`, `QuantConv2D`, ...) that run their inputs and kernels
# through *quantizers* in the forward pass, and use a pseudo-gradient (the straight-through
# estimator) in the backward pass. The network is trained with `model.fit` like any Keras model,
# on TensorFlow or JAX.
#
# This guide builds a small binarized CNN, inspects it with `keras_binary.summary`, trains it
# on real MNIST, and saves and reloads it.

# %%
import os

import keras
import numpy as np
from guide_utils import fast_or_full, mode_name, output_dir, save_figure

from keras_binary import layers, summary
from keras_binary.constraints import WeightClip
from model_zoo.datasets import mnist_slice

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend(), "| mode:", mode_name())

# %% [markdown]
# ## Data
#
# `model_zoo.datasets.mnist_slice` returns the first images of the real MNIST training and test
# sets as numpy arrays scaled to [-1, 1], which suits sign-based networks (the fast mode uses a
# slice, the full run all of it).

# %%
n_train, n_test = fast_or_full((2000, 500), (60000, 10000))
x_train, y_train, x_test, y_test = mnist_slice(n_train, n_test)
print("train:", x_train.shape, "test:", x_test.shape)
print("pixel range:", float(x_train.min()), "to", float(x_train.max()))

# %% [markdown]
# ## The model
#
# Every quantized layer takes an `input_quantizer` (applied to what enters the layer) and a
# `kernel_quantizer` (applied to its weights). `"ste_sign"` is sign(x) in the forward pass with
# the straight-through gradient `1{|x| <= 1}`. The layers keep real-valued *latent* weights that
# the optimizer updates; `WeightClip` keeps them in [-1, 1] where their gradient is alive.
#
# The first layer sees the image itself, so only its kernel is binarized (its input is left
# real-valued, as in BinaryNet). Batch normalization after each binary layer re-centres the
# integer outputs before the next sign (momentum 0.9 lets its running statistics settle within
# a short run).

# %%
binary = dict(
    input_quantizer="ste_sign",
    kernel_quantizer="ste_sign",
    kernel_constraint=WeightClip(1.0),
    use_bias=False,
)
model = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        layers.QuantConv2D(
            32, 3, kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False
        ),
        keras.layers.MaxPooling2D(2),
        keras.layers.BatchNormalization(momentum=0.9, scale=False),
        layers.QuantConv2D(64, 3, **binary),
        keras.layers.MaxPooling2D(2),
        keras.layers.BatchNormalization(momentum=0.9, scale=False),
        keras.layers.Flatten(),
        layers.QuantDense(64, **binary),
        keras.layers.BatchNormalization(momentum=0.9, scale=False),
        layers.QuantDense(10, **binary),
        keras.layers.BatchNormalization(momentum=0.9, scale=False),
        keras.layers.Activation("softmax"),
    ],
    name="first_bnn",
)

# %% [markdown]
# ## What the model costs: `keras_binary.summary`
#
# The summary counts parameters, memory and multiply-accumulates (MACs) per precision: binary
# weights are stored at 1 bit, and a MAC is binary only when both the weight and the input are
# binary. The first convolution has a real-valued input, so its MACs count as 32-bit.

# %%
profile = summary(model)

# %%
print("parameters by precision (bits: count):", profile.params_by_precision)
print("MACs by precision (bits: count):", profile.macs_by_precision)
binary_macs = profile.macs_by_precision.get(1, 0)
print(f"share of binary MACs: {binary_macs / sum(profile.macs_by_precision.values()):.1%}")

# %% [markdown]
# ## Training with `model.fit`
#
# Nothing special: compile with an optimizer and a loss, then fit. Adam updates the latent
# weights; the binarization happens inside the layers.

# %%
epochs = fast_or_full(2, 10)
model.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(
    x_train, y_train, batch_size=64, epochs=epochs, validation_data=(x_test, y_test), verbose=0
)
for epoch in range(epochs):
    print(
        f"epoch {epoch + 1}: train accuracy {history.history['accuracy'][epoch]:.3f}, "
        f"test accuracy {history.history['val_accuracy'][epoch]:.3f}"
    )

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(5, 3.2))
steps = np.arange(1, epochs + 1)
ax.plot(steps, history.history["accuracy"], "o-", label="train")
ax.plot(steps, history.history["val_accuracy"], "s-", label="test")
ax.set(xlabel="epoch", ylabel="accuracy", title="Binarized CNN on MNIST")
ax.set_xticks(steps)
ax.legend()
save_figure(fig, "01_accuracy")

# %% [markdown]
# ## The weights really are binary
#
# The layer stores latent real weights; what the forward pass uses is their sign. Applying the
# layer's kernel quantizer to the kernel shows the values the network computes with.

# %%
dense = model.layers[7]
effective = np.asarray(keras.ops.convert_to_numpy(dense.kernel_quantizer(dense.kernel)))
print("layer:", dense.name, "| distinct effective weight values:", np.unique(effective).tolist())
latent = np.asarray(keras.ops.convert_to_numpy(dense.kernel))
print(f"latent weights lie in [{latent.min():.3f}, {latent.max():.3f}]")

# %% [markdown]
# ## Saving and loading
#
# Quantizers, constraints and layers are registered Keras serializables, so the standard
# `.keras` format stores the whole model and `keras.saving.load_model` restores it without
# `custom_objects`. The reloaded model predicts exactly what the original did.

# %%
path = os.path.join(output_dir(), "01_first_bnn.keras")
model.save(path)
restored = keras.saving.load_model(path)
before = model.predict(x_test, verbose=0)
after = restored.predict(x_test, verbose=0)
print("max |difference| between original and reloaded predictions:", np.abs(before - after).max())
print(f"reloaded test accuracy: {np.mean(after.argmax(-1) == y_test):.3f}")
os.remove(path)

# %% [markdown]
# ## Next steps
#
# - Guide 2 compares the optimizers made for binary weights (Bop, LAB) with latent-weight Adam.
# - Guide 3 plots every quantizer and its pseudo-gradient.
# - Guide 5 converts a trained model to the XNOR-popcount inference kernels.

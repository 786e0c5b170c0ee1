"""Guide 9: exporting trained BNNs to Larq Compute Engine for ARM phones and boards.

Needs KERAS_BACKEND=tensorflow and the lce extra (pip install keras-binary[lce]).
Run: KERAS_BACKEND=tensorflow python guides/09_deploying_with_lce.py; render.py renders it.
"""

# %% [markdown]
# # 8. Deploying to ARM with Larq Compute Engine
#
# [Larq Compute Engine](https://docs.larq.dev/compute-engine/) (LCE) is a TFLite runtime with
# hand-optimized binary kernels for 64-bit ARM (Raspberry Pi, Android phones): `LceBconv2d` (a
# binary convolution with its BatchNorm and next sign fused in), `LceQuantize` (packing signs
# into bits) and `LceBMaxPool2d`. It ships an Android library and prebuilt benchmark binaries.
# `keras_binary.inference.export_lce(model, path)` turns a trained keras-binary model into an
# LCE flatbuffer in one call.
#
# **What runs where.** The export runs on any machine with the TensorFlow backend
# (`KERAS_BACKEND=tensorflow`; the model may have been trained under JAX) and the `lce` extra
# (`pip install keras-binary[lce]`; LCE's wheels cover Python 3.10-3.12). This guide then runs
# the flatbuffer in LCE's Python interpreter on this x86 machine, where LCE's binary kernels are
# its *reference* implementations: the outputs are right, the speed means nothing. LCE's speed
# is an ARM property, and this project has not measured it; measure it on your device with LCE's
# `lce_benchmark_model` binary. (For fast inference on x86 CPUs, guide 5's `convert` is the
# path.)
#
# This guide exports the shipped pretrained BinaryNet MLP, counts its binary layers in the
# flatbuffer, checks LCE's outputs and accuracy against Keras, then does the same for a small
# binarized ConvNet trained here.

# %%
import os
import tempfile

import keras
import numpy as np
from guide_utils import fast_or_full, mode_name

from keras_binary import inference
from keras_binary.layers import QuantConv2D
from model_zoo.datasets import mnist_slice
from model_zoo.models import get_model

keras.utils.set_random_seed(0)
print("backend:", keras.backend.backend(), "| mode:", mode_name())
folder = tempfile.mkdtemp()
n_test = fast_or_full(1000, 10000)

# %% [markdown]
# ## Exporting the pretrained BinaryNet MLP
#
# `binarynet_mlp_2048` with its MNIST weights: a float-input first layer, then three dense
# layers with binary inputs and kernels. LCE has no binary fully-connected op, so `export_lce`
# computes each binary dense layer as a 1x1 binary convolution (same values), which LCE turns
# into `LceBconv2d`. `lce_binary_layers` names the layers that should become binary ops;
# `lce_op_histogram` reads the ops back from the file.

# %%
mlp = get_model("binarynet_mlp_2048", weights="mnist")
mlp_path = inference.export_lce(mlp, os.path.join(folder, "binarynet_mlp_mnist.tflite"))
print("binary layers:", inference.lce_binary_layers(mlp))
print("ops in the flatbuffer:", inference.lce_op_histogram(mlp_path))
print(f"flatbuffer: {os.path.getsize(mlp_path) / 1e6:.2f} MB; float32 Keras weights: "
      f"{mlp.count_params() * 4 / 1e6:.2f} MB")

# %% [markdown]
# Three `LceBconv2d` for three binary layers. The file is mostly the first layer's float
# 784x2048 kernel; the binary kernels are stored as bits. The `LceDequantize`/`LceQuantize`
# pairs come from this model's hidden dropout: its sign is a separate activation layer, so the
# export re-applies the sign after the dense-to-convolution reshape (a no-op on +-1 values) to
# give LCE the sign-then-convolution pattern it fuses.
#
# ## LCE's interpreter against Keras
#
# `lce_predict` runs the flatbuffer in LCE's interpreter one image at a time (the exported
# batch is 1). Scores agree up to float rounding: LCE folds each BatchNorm into its
# convolution's output transform and so rounds in a different order, which can flip a sign
# whose input is within rounding of zero and move that image's scores slightly.

# %%
_, _, x_test, y_test = mnist_slice(0, n_test, dataset="mnist")
keras_scores = mlp.predict(x_test, batch_size=500, verbose=0)
lce_scores = inference.lce_predict(mlp_path, x_test)
difference = np.abs(lce_scores - keras_scores)
print(f"{n_test} test images; scores up to {np.abs(keras_scores).max():.1f} in size")
print(f"max |LCE - Keras|: {difference.max():.2e}; images with any score off by more than "
      f"1e-3: {int((difference.max(axis=1) > 1e-3).sum())}")
print(f"same predicted class: {np.mean(lce_scores.argmax(1) == keras_scores.argmax(1)):.2%}")
print(f"test accuracy: Keras {np.mean(keras_scores.argmax(1) == y_test):.4f}, "
      f"LCE {np.mean(lce_scores.argmax(1) == y_test):.4f}")

# %% [markdown]
# ## A binarized ConvNet
#
# Convolutions are LCE's home ground. The network below follows the patterns LCE fuses: a
# float-input first convolution, binary 3x3 convolutions padded with `pad_values=1` (LCE pads
# with 0 or 1; other values are refused, naming the layer), and a max pooling between a
# BatchNorm and the next binary convolution, which LCE runs on the packed bits
# (`LceBMaxPool2d`). It trains for a moment here, on real MNIST (BatchNorm momentum 0.9 so
# its moving statistics settle within the few steps of fast mode).

# %%
x_train, y_train, x_test, y_test = mnist_slice(fast_or_full(3000, 60000), n_test,
                                               dataset="mnist")
binary = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign",
              kernel_constraint="weight_clip", use_bias=False, padding="same", pad_values=1.0)
convnet = keras.Sequential([
    keras.Input((28, 28, 1)),
    QuantConv2D(32, 3, kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                use_bias=False, padding="same"),
    keras.layers.BatchNormalization(momentum=0.9),
    QuantConv2D(64, 3, **binary),
    keras.layers.BatchNormalization(momentum=0.9),
    keras.layers.MaxPooling2D(2),
    QuantConv2D(64, 3, **binary),
    keras.layers.BatchNormalization(momentum=0.9),
    keras.layers.MaxPooling2D(2),
    QuantConv2D(128, 3, **binary),
    keras.layers.BatchNormalization(momentum=0.9),
    keras.layers.Flatten(),
    keras.layers.Dense(10),
], name="binary_convnet")
convnet.compile(optimizer=keras.optimizers.Adam(0.001), metrics=["accuracy"],
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
convnet.fit(x_train, y_train, batch_size=64, epochs=fast_or_full(1, 5), verbose=0)

conv_path = inference.export_lce(convnet, os.path.join(folder, "binary_convnet.tflite"))
print("binary layers:", inference.lce_binary_layers(convnet))
print("ops in the flatbuffer:", inference.lce_op_histogram(conv_path))
keras_logits = convnet.predict(x_test, batch_size=500, verbose=0)
lce_logits = inference.lce_predict(conv_path, x_test)
print(f"max |LCE - Keras| logit: {np.abs(lce_logits - keras_logits).max():.2e}")
print(f"test accuracy: Keras {np.mean(keras_logits.argmax(1) == y_test):.4f}, "
      f"LCE {np.mean(lce_logits.argmax(1) == y_test):.4f}")

# %% [markdown]
# ## What LCE cannot represent
#
# `export_lce` refuses, with the layer's name and the fix, what LCE would get wrong or could
# not make binary: `pad_values` other than 0 and 1; binary layers other than `QuantConv2D` and
# `QuantDense` (LCE has no binary 1D/3D, depthwise, separable or transposed convolution); an
# input size other than the batch left unknown; and a zero-padded (`pad_values=0`) binary
# convolution whose input is smaller than its kernel (say a 2x2 map under a 3x3 kernel), which
# LCE 0.16 computes wrongly (`pad_values=1`, or a larger input size, is fine).

# %%
tiny = keras.Sequential([keras.Input((2, 2, 64)), QuantConv2D(
    64, 3, padding="same", input_quantizer="ste_sign", kernel_quantizer="ste_sign",
    kernel_constraint="weight_clip", name="late_block")])
try:
    inference.export_lce(tiny, os.path.join(folder, "tiny.tflite"))
except ValueError as error:
    print(error)

# %% [markdown]
# One behaviour differs by design: Keras's `sign(NaN)` is NaN, so a NaN input turns the
# affected outputs NaN, while LCE packs each binary convolution's inputs into bits and gives
# finite outputs. Check the inputs for non-finite values on the device before running the
# model.
#
# ## On the device
#
# Copy the `.tflite` file to the device. On a 64-bit ARM Linux board, LCE's
# `lce_benchmark_model --graph=model.tflite --num_threads=1` (from LCE's releases) times it;
# on Android, LCE's AAR library runs it like any TFLite model, inputs float32 with a batch
# of 1. Pre-processing must match training: the BinaryNet models take pixels scaled to
# [-1, 1], as `model_zoo.datasets` prepares them.

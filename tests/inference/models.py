"""Tiny BinaryNet / XNOR-Net / Bi-Real Net style models with random weights and BN statistics."""

from __future__ import annotations

import keras
import numpy as np

from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.quantizers import NoOp, SteSign

BIN = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign",
       "kernel_constraint": "weight_clip", "use_bias": False}


def sample_inputs(model: keras.Model, batch: int = 3, seed: int = 1) -> np.ndarray:
    shape = (batch,) + tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def randomize(model: keras.Model, x: np.ndarray, seed: int = 0) -> keras.Model:
    """Random latent kernels; BatchNorm statistics near those of the data ``x`` (so thresholds
    fall inside the accumulator range) with scales of both signs."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            for weight in layer.weights:
                weight.assign(rng.uniform(-1, 1, weight.shape).astype("float32"))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            h = keras.ops.convert_to_numpy(keras.Model(model.input, layer.input)(x))
            h = h.reshape(-1, h.shape[-1])
            n = h.shape[-1]
            std = h.std(axis=0) + 0.5
            layer.moving_mean.assign(h.mean(axis=0) + rng.normal(0, 0.3, n) * std + 0.13)
            layer.moving_variance.assign((std * rng.uniform(0.7, 1.4, n)) ** 2)
            if layer.scale:
                layer.gamma.assign(rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 1.5, n))
            if layer.center:
                layer.beta.assign(rng.normal(0, 0.3, n))
    return model


def exact_dense() -> keras.Model:
    inputs = keras.Input((45,))
    return keras.Model(inputs, QuantDense(33, **BIN)(inputs))


def exact_conv(pad_values: float, strides: int, padding: str = "same") -> keras.Model:
    inputs = keras.Input((7, 6, 5))
    kwargs = dict(BIN, use_bias=True)
    outputs = QuantConv2D(6, 3, strides=strides, padding=padding, pad_values=pad_values,
                          **kwargs)(inputs)
    return keras.Model(inputs, outputs)


def binarynet_mlp(dropout: bool = False) -> keras.Model:
    """Flatten -> float-input QuantDense -> BN -> [sign -> Dropout ->] binary dense layers."""
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Flatten()(inputs)
    x = QuantDense(40, **dict(BIN, input_quantizer=None))(x)
    for units in (37, 10):
        x = keras.layers.BatchNormalization()(x)
        if dropout:
            x = keras.layers.Activation(SteSign())(x)
            x = keras.layers.Dropout(0.3)(x)
            x = QuantDense(units, **dict(BIN, input_quantizer=NoOp(precision=1)))(x)
        else:
            x = QuantDense(units, **BIN)(x)
    return keras.Model(inputs, keras.layers.BatchNormalization()(x))


def binarynet_convnet() -> keras.Model:
    """Same/valid convolutions, strides, pad_values 1 and 0, max pooling, BN, Flatten, dense."""
    inputs = keras.Input((10, 9, 3))
    x = QuantConv2D(8, 3, padding="same", **dict(BIN, input_quantizer=None))(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(16, 3, padding="same", pad_values=1.0, **BIN)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(40, 3, strides=2, padding="valid", **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(20, 2, strides=(1, 2), padding="same", pad_values=0.0, **BIN)(x)
    x = keras.layers.MaxPooling2D(2, strides=1, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    x = QuantDense(24, **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = QuantDense(10, **BIN)(x)
    return keras.Model(inputs, keras.layers.BatchNormalization()(x))


def grouped_convnet() -> keras.Model:
    """Grouped binary convolutions: 32 input channels per group (packed input; zero padding),
    32 output channels per group (packed output), 6 and 2 (float outputs), 4 input channels
    per group (float input), then a dense layer."""
    inputs = keras.Input((7, 6, 5))
    x = QuantConv2D(64, 3, padding="same", **BIN)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(64, 3, groups=2, padding="same", pad_values=0.0, **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(12, 3, groups=2, strides=2, padding="valid", **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(6, 1, groups=3, **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, QuantDense(10, **BIN)(x))


def xnor_net() -> keras.Model:
    xnor = dict(BIN, kernel_quantizer="xnor_weight_scale")
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.BatchNormalization(scale=False)(x)
    x = QuantConv2D(33, 3, padding="same", **xnor)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.BatchNormalization(scale=False)(x)
    x = QuantConv2D(35, 3, padding="same", **xnor)(x)
    x = keras.layers.BatchNormalization(scale=False)(x)
    x = keras.layers.Flatten()(x)
    x = QuantDense(20, **xnor)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def _bireal_block(x, filters: int, strides: int):
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.AveragePooling2D(strides, strides=strides, padding="same")(x)
        shortcut = keras.layers.Conv2D(filters, 1, use_bias=False)(shortcut)
        shortcut = keras.layers.BatchNormalization()(shortcut)
    x = QuantConv2D(filters, 3, strides=strides, padding="same", input_quantizer="approx_sign",
                    kernel_quantizer="magnitude_aware_sign", kernel_constraint="weight_clip",
                    use_bias=False)(x)
    return keras.layers.Add()([keras.layers.BatchNormalization()(x), shortcut])


def bireal_net() -> keras.Model:
    inputs = keras.Input((9, 9, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)  # the ImageNet stem's pooling
    x = _bireal_block(x, 8, 1)
    x = _bireal_block(x, 16, 2)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def converted(model: keras.Model, seed: int = 0, batch: int = 3):
    """(original, converted, inputs, original predictions, converted predictions)."""
    from keras_binary import inference

    x = sample_inputs(model, batch)
    randomize(model, x, seed)
    fast = inference.convert(model)
    return model, fast, x, model.predict_on_batch(x), fast.predict_on_batch(x)

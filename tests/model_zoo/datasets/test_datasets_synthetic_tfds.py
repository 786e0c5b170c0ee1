"""CIFAR-10 and ImageNet have no offline source: their pipelines run here on tiny SYNTHETIC
datasets stored in tfds's format under the real names, features and versions."""

import os

import numpy as np
import pytest

from model_zoo.datasets import dataset_spec, load, load_numpy


def _store(name, data_dir, images, labels):
    import tensorflow_datasets as tfds

    features = tfds.builder(name).info.features
    id_key = "file_name" if name == "imagenet2012" else "id"
    examples = [
        (f"k{i}", {"image": image, "label": int(label), id_key: f"synthetic_{i}"})
        for i, (image, label) in enumerate(zip(images, labels, strict=True))
    ]
    tfds.dataset_builders.store_as_tfds_dataset(
        name=name,
        version=dataset_spec(name).version,
        features=features,
        split_datasets={dataset_spec(name).splits[0]: examples},
        data_dir=os.fspath(data_dir),
    )


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("synthetic_tfds")
    rng = np.random.default_rng(0)
    cifar = rng.integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)
    cifar[0] = 0
    cifar[1] = 255
    _store("cifar10", data_dir, cifar, np.arange(12) % 10)
    sizes = [(40, 60), (64, 48), (50, 50)]
    imagenet = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in sizes]
    _store("imagenet2012", data_dir, imagenet, [3, 999, 0])
    return data_dir, cifar


def test_cifar_pipeline_scales_and_keeps_content(synthetic_dir):
    data_dir, cifar = synthetic_dir
    images, labels = load_numpy("cifar10", "train", data_dir, value_range=None)
    assert images.shape == (12, 32, 32, 3) and sorted(labels.tolist()) == sorted(np.arange(12) % 10)
    stored = sorted(x.tobytes() for x in cifar)
    assert sorted(x.astype(np.uint8).tobytes() for x in images) == stored
    scaled, _ = load_numpy("cifar10", "train", data_dir)
    assert scaled.min() == -1.0 and scaled.max() == 1.0


def test_cifar_augmentation_changes_images_but_not_shapes(synthetic_dir):
    data_dir, _ = synthetic_dir
    plain = load("cifar10", "train", data_dir, batch_size=12, value_range=None)
    augmented = load("cifar10", "train", data_dir, batch_size=12, augment=True, value_range=None)
    (x_plain, y_plain), (x_aug, y_aug) = next(iter(plain)), next(iter(augmented))
    assert x_aug.shape == (12, 32, 32, 3) and x_aug.dtype == x_plain.dtype
    np.testing.assert_array_equal(np.sort(y_aug.numpy()), np.sort(y_plain.numpy()))
    assert not np.array_equal(
        np.sort(x_aug.numpy(), axis=None), np.sort(x_plain.numpy(), axis=None)
    )


def test_imagenet_pipeline_resizes_to_batches(synthetic_dir):
    data_dir, _ = synthetic_dir
    batch = next(iter(load("imagenet2012", "train", data_dir, batch_size=3, image_size=32)))
    images, labels = batch[0].numpy(), batch[1].numpy()
    assert images.shape == (3, 32, 32, 3) and sorted(labels.tolist()) == [0, 3, 999]
    assert -1.0 <= images.min() and images.max() <= 1.0

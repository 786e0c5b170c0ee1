import os
import time

import numpy as np
import pytest

from model_zoo.datasets import (
    DatasetNotPreparedError,
    dataset_spec,
    is_prepared,
    load,
    load_numpy,
    prepare,
    raw_arrays,
)


def _row_digests(images: np.ndarray) -> list[bytes]:
    return sorted(row.tobytes() for row in images.reshape(len(images), -1))


def test_prepared_mnist_loads_with_tfds_offline(mnist_data_dir):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    assert is_prepared("mnist", mnist_data_dir)
    splits = {}
    for split, count in (("train", 60000), ("test", 10000)):
        splits[split] = tfds.load(
            "mnist",
            split=split,
            data_dir=os.fspath(mnist_data_dir),
            download=False,
            as_supervised=True,
        )
        assert int(splits[split].cardinality()) == count
    image_spec, label_spec = splits["test"].element_spec
    assert image_spec.shape == (28, 28, 1) and image_spec.dtype == tf.uint8
    assert label_spec.dtype == tf.int64


def test_load_scales_to_minus_one_one_and_flattens(mnist_data_dir):
    images, labels = next(
        iter(load("mnist", "train", mnist_data_dir, batch_size=512, flatten=True))
    )
    images, labels = images.numpy(), labels.numpy()
    assert images.shape == (512, 784) and images.dtype == np.float32
    assert labels.dtype == np.int32 and 0 <= labels.min() and labels.max() <= 9
    assert images.min() == -1.0 and images.max() == 1.0
    np.testing.assert_allclose((images + 1.0) * 127.5, np.round((images + 1.0) * 127.5), atol=1e-3)


def test_load_numpy_test_split_is_the_real_mnist_test_set(mnist_data_dir):
    images, labels = load_numpy("mnist", "test", mnist_data_dir, value_range=None)
    raw_images, raw_labels = raw_arrays("mnist")["test"]
    assert images.shape == (10000, 28, 28, 1) and labels.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.bincount(raw_labels))
    assert _row_digests(images.astype(np.uint8)) == _row_digests(raw_images)


def test_load_numpy_limit_and_value_range(mnist_data_dir):
    images, labels = load_numpy("mnist", "train", mnist_data_dir, limit=300, value_range=(0, 1))
    assert images.shape == (300, 28, 28, 1) and labels.shape == (300,)
    assert images.min() == 0.0 and images.max() == 1.0


def test_prepare_is_idempotent_and_quick(mnist_data_dir):
    info = mnist_data_dir / "mnist" / "3.0.1" / "dataset_info.json"
    before = info.stat().st_mtime_ns
    start = time.perf_counter()
    assert prepare("mnist", mnist_data_dir) == info.parent
    assert time.perf_counter() - start < 2.0
    assert info.stat().st_mtime_ns == before


def test_not_prepared_offline_fails_fast_with_the_command(tmp_path):
    start = time.perf_counter()
    with pytest.raises(DatasetNotPreparedError) as error:
        load("mnist", "train", tmp_path)
    assert time.perf_counter() - start < 5.0
    assert f"python -m model_zoo.datasets prepare mnist --data-dir {tmp_path}" in str(error.value)
    with pytest.raises(DatasetNotPreparedError, match="prepare fashion_mnist"):
        load_numpy("fashion_mnist", "test", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["cifar10", "svhn_cropped", "imagenet2012"])
def test_datasets_without_offline_source_explain_how_to_get_them(name, tmp_path):
    start = time.perf_counter()
    with pytest.raises(DatasetNotPreparedError, match="no offline source") as error:
        load(name, "train", tmp_path, image_size=224)
    with pytest.raises(DatasetNotPreparedError, match="no offline source"):
        prepare(name, tmp_path)
    assert time.perf_counter() - start < 5.0
    assert f"prepare {name} --download" in str(error.value)


def test_data_dir_defaults_to_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BINARY_DATA_DIR", str(tmp_path / "from-env"))
    with pytest.raises(DatasetNotPreparedError, match="from-env"):
        load("mnist", "test")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"name": "mnistt", "split": "train"}, ValueError, "Unknown dataset 'mnistt'"),
        ({"name": "mnist", "split": "validation"}, ValueError, "Unknown split 'validation'"),
        ({"name": "mnist", "split": 3}, TypeError, "split must be a string"),
        ({"name": "mnist", "split": "train", "batch_size": 0}, ValueError, "batch_size"),
        ({"name": "mnist", "split": "train", "value_range": (1, -1)}, ValueError, "low < high"),
        ({"name": "mnist", "split": "train", "limit": -1}, ValueError, "limit"),
        ({"name": "imagenet2012", "split": "train", "batch_size": 8}, ValueError, "image_size"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message, tmp_path):
    with pytest.raises(error, match=message):
        load(data_dir=tmp_path, **kwargs)


def test_catalog_versions_match_installed_tfds():
    import tensorflow_datasets as tfds

    for name in ("mnist", "fashion_mnist", "cifar10", "svhn_cropped", "imagenet2012"):
        builder = tfds.builder(name)
        spec = dataset_spec(name)
        assert str(builder.version) == spec.version
        assert tuple(builder.info.features["image"].shape) == spec.image_shape
        assert builder.info.features["label"].num_classes == spec.num_classes


def test_evaluate_prepares_an_offline_dataset_on_first_use(mnist_tarball, tmp_path, capsys):
    from model_zoo.models import binarynet_mlp
    from model_zoo.training import evaluate

    model = binarynet_mlp(hidden_units=8, num_hidden_layers=1)
    result = evaluate(model, "mnist", data_dir=tmp_path, limit=50)
    assert result["examples"] == 50
    first = capsys.readouterr()
    assert f"Preparing mnist offline into {tmp_path}" in first.err
    # tfds's own "Downloading and preparing dataset Unknown size ..." (nothing is downloaded).
    assert "Downloading and preparing" not in first.out + first.err
    assert "Subsequent calls will reuse" not in first.out + first.err
    evaluate(model, "mnist", data_dir=tmp_path, limit=50)
    assert "Preparing" not in capsys.readouterr().err


def test_batched_load_gives_the_same_examples_as_per_example_preprocessing(mnist_data_dir):
    # Batched, `load` preprocesses whole batches; unbatched, one example at a time.
    common = {"limit": 700, "flatten": True}
    examples = list(load("mnist", "test", mnist_data_dir, **common).as_numpy_iterator())
    batches = list(load("mnist", "test", mnist_data_dir, batch_size=256,
                        **common).as_numpy_iterator())
    assert [len(images) for images, _ in batches] == [256, 256, 188]
    np.testing.assert_array_equal(np.concatenate([images for images, _ in batches]),
                                  np.stack([image for image, _ in examples]))
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in batches]),
                                  np.array([label for _, label in examples]))


@pytest.mark.parametrize("global_seed", [None, 0])
def test_endless_shuffle_passes_are_set_by_the_seed_not_by_earlier_iterators(global_seed,
                                                                              mnist_data_dir):
    if global_seed is not None:  # 0 once made TensorFlow's shuffle read the pass seed as a bool
        import keras

        keras.utils.set_random_seed(global_seed)

    def passes(data, count=2):
        labels = [y.numpy() for _, y in data.take(count * 4)]  # 4 batches of 16 per pass
        return [np.concatenate(labels[i * 4:(i + 1) * 4]) for i in range(count)]

    data = load("mnist", "train", mnist_data_dir, batch_size=16, limit=64, shuffle=True,
                seed=3, endless=True)
    first = passes(data)
    next(iter(data))  # a throwaway iterator, as Keras's TF trainer makes under a strategy
    again = passes(data)
    np.testing.assert_array_equal(np.stack(again), np.stack(first))
    assert not np.array_equal(first[0], first[1])  # each pass is shuffled anew
    assert sorted(first[0]) == sorted(first[1])  # over the same 64 examples

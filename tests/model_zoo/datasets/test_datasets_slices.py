import numpy as np
import pytest

from model_zoo.datasets import mnist_slice, raw_arrays


def test_raw_mnist_is_the_real_dataset():
    splits = raw_arrays("mnist")
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    # the first ten MNIST training labels, as printed in countless tutorials
    assert train_y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test_y[:5].tolist() == [7, 2, 1, 0, 4]
    assert train_x.dtype == np.uint8 and train_x.max() == 255 and train_x.min() == 0
    assert not train_x.flags.writeable


def test_raw_fashion_mnist_is_balanced(fashion_mnist_dir):
    splits = raw_arrays("fashion_mnist")
    assert np.bincount(splits["train"][1]).tolist() == [6000] * 10
    assert np.bincount(splits["test"][1]).tolist() == [1000] * 10
    with pytest.raises(ValueError, match="No offline source for 'cifar10'"):
        raw_arrays("cifar10")


@pytest.mark.parametrize("flatten, shape", [(True, (784,)), (False, (28, 28, 1))])
def test_mnist_slice_shapes_scaling_and_order(flatten, shape):
    x_train, y_train, x_test, y_test = mnist_slice(100, 20, flatten=flatten)
    assert x_train.shape == (100, *shape) and x_test.shape == (20, *shape)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert x_train.min() == -1.0 and x_train.max() == 1.0
    raw_train, raw_labels = raw_arrays("mnist")["train"]
    np.testing.assert_array_equal(y_train, raw_labels[:100])
    restored = np.round((x_train.reshape(100, 28, 28) + 1.0) * 127.5).astype(np.uint8)
    np.testing.assert_array_equal(restored, raw_train[:100])
    assert y_test.tolist() == raw_arrays("mnist")["test"][1][:20].tolist()


def test_mnist_slice_other_range_and_dataset(fashion_mnist_dir):
    x_train, _, x_test, y_test = mnist_slice(10, 0, value_range=(0, 1), dataset="fashion_mnist")
    assert x_train.min() == 0.0 and x_train.max() == 1.0 and x_test.shape == (0, 28, 28, 1)
    assert y_test.shape == (0,)


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((70000, 10), ValueError, r"n_train must be in 0..60000"),
        ((10, -1), ValueError, r"n_test must be in 0..10000"),
        (("10", 1), TypeError, "n_train must be an int"),
    ],
)
def test_mnist_slice_rejects_bad_counts(args, error, message):
    with pytest.raises(error, match=message):
        mnist_slice(*args)

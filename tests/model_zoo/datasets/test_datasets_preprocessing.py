import numpy as np
import pytest

from model_zoo.datasets.preprocessing import (
    rescale_factors,
    rescale_numpy,
    tf_crop_flip,
    tf_preprocess,
    tf_resize_crop,
)


def test_rescale_numpy_hand_values():
    pixels = np.array([0, 51, 255], np.uint8)
    np.testing.assert_allclose(rescale_numpy(pixels), [-1.0, -0.6, 1.0], atol=1e-6)
    np.testing.assert_allclose(rescale_numpy(pixels, (0, 1)), [0.0, 0.2, 1.0], atol=1e-6)
    np.testing.assert_array_equal(rescale_numpy(pixels, None), [0.0, 51.0, 255.0])
    assert rescale_numpy(pixels).dtype == np.float32


@pytest.mark.parametrize("bad, error", [((1, 1), ValueError), ("ab", TypeError), (3, TypeError)])
def test_rescale_factors_rejects_bad_ranges(bad, error):
    with pytest.raises(error, match="value_range"):
        rescale_factors(bad)


def test_crop_flip_is_a_shifted_possibly_flipped_window():
    # synthetic image: distinct values per pixel so the window position is identifiable
    image = np.arange(1, 6 * 5 * 2 + 1, dtype=np.int32).reshape(6, 5, 2)
    padded = np.pad(image, [(4, 4), (4, 4), (0, 0)])
    candidates = [
        window
        for top in range(9)
        for left in range(9)
        for window in (padded[top : top + 6, left : left + 5],)
        for window in (window, window[:, ::-1])
    ]
    seen = set()
    for _ in range(20):
        out = tf_crop_flip(image).numpy()
        assert out.shape == image.shape
        matches = [i for i, c in enumerate(candidates) if np.array_equal(c, out)]
        assert matches, "output is not a crop of the padded image"
        seen.add(matches[0])
    assert len(seen) > 1, "augmentation never varied"


def test_resize_crop_shapes_and_centre():
    image = np.zeros((50, 80, 3), np.uint8)
    image[:, 35:45] = 200  # a vertical bar in the centre survives the centre crop
    out = tf_resize_crop(image, 32).numpy()
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert out[:, 16].min() == 200 and out[:, 0].max() == 0
    assert tf_resize_crop(image, 32, random=True).numpy().shape == (32, 32, 3)


def test_preprocess_flattens_and_casts():
    image = np.full((4, 4, 1), 255, np.uint8)
    out, label = tf_preprocess(image, np.int64(7), flatten=True)
    assert out.shape == (16,) and str(out.dtype) == "<dtype: 'float32'>"
    np.testing.assert_array_equal(out.numpy(), np.ones(16, np.float32))
    assert int(label) == 7 and str(label.dtype) == "<dtype: 'int32'>"


def test_batched_preprocess_matches_one_example_at_a_time():
    images = np.random.default_rng(0).integers(0, 256, (5, 6, 6, 1)).astype(np.uint8)
    labels = np.arange(5, dtype=np.int64)
    batch, batch_labels = tf_preprocess(images, labels, flatten=True, batched=True)
    for index in range(5):
        one, label = tf_preprocess(images[index], labels[index], flatten=True)
        np.testing.assert_array_equal(batch.numpy()[index], one.numpy())
        assert int(batch_labels[index]) == int(label)
    assert batch.shape == (5, 36)


@pytest.mark.parametrize("kwargs", [{"augment": True}, {"image_size": 8}])
def test_batched_preprocess_refuses_per_example_work(kwargs):
    with pytest.raises(ValueError, match="one example at a time"):
        tf_preprocess(np.zeros((2, 6, 6, 1), np.uint8), np.zeros(2, np.int64), batched=True,
                      **kwargs)

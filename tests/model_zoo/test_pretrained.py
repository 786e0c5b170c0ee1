"""Every shipped pretrained model loads and reaches its recorded accuracy on the real test set."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model_zoo.datasets import mnist_slice
from model_zoo.models import get_model
from model_zoo.weights_registry import REGISTRY, WEIGHTS_DIR, sha256_of

SHIPPED = sorted(key for key, entry in REGISTRY.items() if entry.url is None)


def test_at_least_the_issue_s_models_are_shipped():
    assert ("binarynet_mlp_2048", "mnist") in SHIPPED
    assert ("binarynet_mlp_2048", "fashion_mnist") in SHIPPED
    assert ("lab_mlp", "mnist") in SHIPPED


@pytest.mark.parametrize("model_name, weights", SHIPPED)
def test_shipped_file_is_small_and_registered_with_its_sha256(model_name, weights):
    entry = REGISTRY[(model_name, weights)]
    path = WEIGHTS_DIR / entry.filename
    assert sha256_of(path) == entry.sha256
    assert path.stat().st_size < 1_500_000


@pytest.mark.parametrize("model_name, weights", SHIPPED)
def test_pretrained_test_accuracy_on_the_real_test_set(model_name, weights):
    entry = REGISTRY[(model_name, weights)]
    _, _, x_test, y_test = mnist_slice(0, 10000, dataset=weights)
    model = get_model(model_name, weights=weights)
    scores = np.concatenate([
        keras.ops.convert_to_numpy(model(x_test[i:i + 2000], training=False))
        for i in range(0, len(x_test), 2000)
    ])
    accuracy = float(np.mean(scores.argmax(axis=-1) == y_test))
    assert accuracy == pytest.approx(entry.test_accuracy, abs=0.002)

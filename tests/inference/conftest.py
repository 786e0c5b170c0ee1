"""A converted BinaryNet-style ConvNet shared by the inference tests (built once per session)."""

import pytest

from tests.inference import models


@pytest.fixture(scope="session")
def convnet():
    """(original, converted, inputs, original predictions, converted predictions)."""
    return models.converted(models.binarynet_convnet(), batch=4)

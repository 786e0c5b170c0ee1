"""BinaryNet's loss: the squared hinge on +/-1 one-hot targets, taking integer class labels.

Example:

>>> import numpy as np
>>> loss = SparseSquaredHinge()
>>> float(loss(np.array([1]), np.array([[-1.0, 0.5]], "float32")))
0.125
"""

from __future__ import annotations

import sys
from typing import Any

import keras
from keras import ops

from keras_binary.docstrings import splice_modules


@keras.saving.register_keras_serializable(package="model_zoo")
class SparseSquaredHinge(keras.losses.Loss):
    """mean over classes of max(0, 1 - t * y_pred)^2 with t = +1 for the true class, else -1.

    The L2-SVM output of BinaryNet and LAB; `y_true` holds integer labels, `y_pred` raw scores.

    Args:
        name: Name of the loss.
        **kwargs: Keyword arguments of `keras.losses.Loss` (`reduction`, `dtype`).

    Example:

    >>> import numpy as np
    >>> loss = SparseSquaredHinge()
    >>> float(loss(np.array([0]), np.array([[1.0, -1.0]], "float32")))
    0.0

    References:
        {{ref_binarynet}}
        {{ref_lab}}
    """

    def __init__(self, name: str = "sparse_squared_hinge", **kwargs: Any):
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        num_classes = y_pred.shape[-1]
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        targets = 2.0 * ops.one_hot(labels, num_classes, dtype=y_pred.dtype) - 1.0
        return ops.mean(ops.square(ops.relu(1.0 - targets * y_pred)), axis=-1)


# Fill the shared reference text ({{ref_binarynet}}, ...) into this module's docstrings.
splice_modules(sys.modules[__name__])

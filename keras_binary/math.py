"""Elementwise functions of binarized networks: `sign` (never zero) and `heaviside` (Larq's
`larq.math`).

Both keep NaN as NaN, so a non-finite value reaches the loss instead of being absorbed into a
valid binary value. Neither defines a gradient of its own: use them in forward passes and wrap
them with a pseudo-gradient (as the quantizers do) to train through them.

Example:

>>> import numpy as np
>>> from keras_binary import math
>>> x = np.array([-2.0, 0.0, 0.5], "float32")
>>> np.asarray(math.sign(x)).tolist(), np.asarray(math.heaviside(x)).tolist()
([-1.0, 1.0, 1.0], [0.0, 0.0, 1.0])
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["heaviside", "sign"]


def sign(x: Any) -> Any:
    """sign(x) with sign(0) = +1 and sign(NaN) = NaN, in the dtype of `x`.

    Written as sign(sign(x) + 0.1), as Larq does: a NaN stays NaN, so it reaches the loss instead
    of being absorbed as -1, and TensorFlow lowers it to the `Sign`/`AddV2` pattern that Larq
    Compute Engine's converter turns into binary ops. The converted popcount layers keep the rule
    although bits cannot hold NaN: a row whose input holds a NaN gets NaN outputs
    (`keras_binary.inference.nan_rows`); +-inf give +-1 on both paths.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of -1 and +1 (NaN where `x` is NaN), shaped and typed like `x`.

    >>> import numpy as np
    >>> np.asarray(sign(np.array([-0.5, 0.0, 3.0], "float32"))).tolist()
    [-1.0, 1.0, 1.0]
    """
    x = ops.convert_to_tensor(x)
    if keras.backend.backend() == "torch" and x.is_floating_point():
        # torch.sign(NaN) is 0, which would give +1: _torch_eager.sign puts the NaN back.
        from keras_binary import _torch_eager

        return _torch_eager.sign(x)
    return ops.sign(ops.sign(x) + ops.cast(0.1, x.dtype))


def heaviside(x: Any) -> Any:
    """The step function: 1 where x > 0, 0 where x <= 0, NaN where `x` is NaN, in its dtype.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of 0 and 1 (NaN where `x` is NaN), shaped and typed like `x`.

    >>> import numpy as np
    >>> np.asarray(heaviside(np.array([-0.5, 0.0, 3.0], "float32"))).tolist()
    [0.0, 0.0, 1.0]
    """
    x = ops.convert_to_tensor(x)
    step = ops.cast(ops.greater(x, 0), x.dtype)
    return ops.where(ops.isnan(x), x, step)

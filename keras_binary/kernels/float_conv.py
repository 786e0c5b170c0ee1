"""`float_conv2d`: a float NHWC conv with a per-channel affine epilogue, on every CPU thread.

A converted model keeps its float convs (Bi-Real's 7x7 stem, the 1x1 shortcuts), and XLA runs
such a conv as one YNNPACK call on one thread on CPU: half of converted Bi-Real-18's time.
On the CPU this op is a kernel call (the ``float_conv2d_f32`` target: an XLA custom call
under JAX and TensorFlow, a ``torch.library`` op under PyTorch) that spreads output rows over
the framework's threads and applies ``acc * scale + bias`` (a folded BatchNorm) as it stores.
Elsewhere, and with ``implementation="reference"``, it is ``keras.ops.conv`` followed by the
same affine. Both are float32 sums of the same products in different orders, so they agree to
rounding, not bit for bit.

Example:

>>> import numpy as np
>>> x = np.ones((1, 4, 4, 3), "float32")
>>> y = float_conv2d(x, np.ones((3, 3, 3, 2), "float32"), padding="same", bias=[0.5, 1.0])
>>> tuple(y.shape), float(y[0, 1, 1, 0]), float(y[0, 0, 0, 1])
((1, 4, 4, 2), 27.5, 13.0)
"""

from __future__ import annotations

from keras import ops

from keras_binary.kernels import ops as packed_ops
from keras_binary.kernels.float_input import _fused
from keras_binary.kernels.geometry import Conv2dGeometry


def float_conv2d(x, kernel, strides=1, padding: str = "valid", dilation_rate=1, scale=None,
                 bias=None, implementation: str = "auto"):
    """``conv(x, kernel) * scale + bias`` for NHWC float32 ``x``, zero padding.

    Args:
        x: float32 [B, H, W, C] with static H, W and C.
        kernel: float32 Keras conv kernel [kh, kw, C, Cout].
        strides: int or pair.
        padding: "valid" or "same" (TensorFlow's convention).
        dilation_rate: int or pair.
        scale: Optional float [Cout] multiplying the conv (default 1).
        bias: Optional float [Cout] added after scaling (default 0).
        implementation: "auto" (the CPU kernel where available), "kernel" (error if
            unavailable) or "reference" (``keras.ops.conv`` and the affine).

    Returns:
        float32 [B, out_h, out_w, Cout].

    Example:

    >>> import numpy as np
    >>> y = float_conv2d(np.ones((2, 5, 5, 1), "float32"), np.ones((3, 3, 1, 4), "float32"),
    ...                  strides=2, scale=np.full(4, 0.5, "float32"))
    >>> tuple(y.shape), float(y[1, 1, 1, 3])
    ((2, 2, 2, 4), 4.5)
    """
    x = packed_ops._check_dtype(x, ("float32",), "float_conv2d input")
    w = packed_ops._check_dtype(kernel, ("float32",), "float_conv2d kernel")
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise ValueError(f"float_conv2d input and kernel must have rank 4 (NHWC and [kh, kw, C, "
                         f"Cout]), got {x.shape} and {w.shape}")
    channels = x.shape[-1]
    if w.shape[2] != channels:
        raise ValueError(f"float_conv2d kernel {tuple(w.shape)} reads {w.shape[2]} channels, "
                         f"the input has {channels}")
    g = Conv2dGeometry.create(x.shape[1:3], w.shape[0:2], channels, strides, padding,
                              dilation_rate, "zero")
    n = w.shape[-1]
    scale = packed_ops._channel_vector(scale, n, "scale", 1.0)
    bias = packed_ops._channel_vector(bias, n, "bias", 0.0)
    if not _fused(implementation):
        y = ops.conv(x, w, strides=strides, padding=padding, dilation_rate=dilation_rate)
        return y * scale + bias
    return packed_ops._call("float_conv2d_f32", [x, w, scale, bias],
                            [(0, 0), g.out_h, g.out_w, n], "float32", **g.kernel_attrs())

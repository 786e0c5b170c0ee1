"""Static geometry of a binary conv2d (output size and TF-style "same" padding).

Example::

    g = Conv2dGeometry.create((32, 32), (3, 3), channels=64, strides=2, padding="same")
    g.out_h, g.pad_top, g.pad_bottom  # 16, 0, 1
"""

from __future__ import annotations

import dataclasses

import numpy as np


def is_positive_int(value) -> bool:
    """True for a Python or numpy integer >= 1; False for bools (``True`` is not a size)."""
    return (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            and value >= 1)


def _pair(value, name: str) -> tuple[int, int]:
    # Not np.ndim: torch.compile cannot trace it on a tuple of shape ints.
    value = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value, value)
    if len(value) != 2 or not all(is_positive_int(v) for v in value):
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {value}")
    return tuple(int(v) for v in value)


@dataclasses.dataclass(frozen=True)
class Conv2dGeometry:
    """Everything about a conv2d that does not depend on the data.

    Build it with `Conv2dGeometry.create`, which checks the arguments and computes the rest.

    Args:
        in_h: Input height.
        in_w: Input width.
        kernel_h: Kernel height.
        kernel_w: Kernel width.
        channels: Input channels (unpacked).
        stride_h: Vertical stride.
        stride_w: Horizontal stride.
        dilation_h: Vertical dilation.
        dilation_w: Horizontal dilation.
        pad_top: Rows padded above.
        pad_bottom: Rows padded below.
        pad_left: Columns padded on the left.
        pad_right: Columns padded on the right.
        out_h: Output height.
        out_w: Output width.
        zero_padding: Whether padded pixels are 0 (else +1).

    Example:

    >>> g = Conv2dGeometry.create((32, 32), (3, 3), channels=64, strides=2, padding="same")
    >>> g.out_h, g.pad_top, g.pad_bottom
    (16, 0, 1)
    """

    in_h: int
    in_w: int
    kernel_h: int
    kernel_w: int
    channels: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    out_h: int
    out_w: int
    zero_padding: bool

    @classmethod
    def create(cls, input_hw, kernel_hw, channels: int, strides=1, padding: str = "valid",
               dilation_rate=1, pad_value: str = "one") -> Conv2dGeometry:
        """Computes output size and padding; ``padding`` is "valid" or "same" (TF convention)."""
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        if pad_value not in ("one", "zero"):
            raise ValueError(f"pad_value must be 'one' or 'zero', got {pad_value!r}")
        if not is_positive_int(channels):
            raise ValueError(f"channels must be a positive int, got {channels!r}")
        in_h, in_w = input_hw
        if in_h is None or in_w is None:
            raise ValueError("binary_conv2d needs static spatial dimensions (height, width)")
        kh, kw = _pair(tuple(kernel_hw), "kernel size")
        sh, sw = _pair(strides, "strides")
        dh, dw = _pair(dilation_rate, "dilation_rate")
        dims = []
        for size, k, s, d in ((in_h, kh, sh, dh), (in_w, kw, sw, dw)):
            span = (k - 1) * d + 1
            if padding == "valid":
                if size < span:
                    raise ValueError(
                        f"input size {size} is smaller than the dilated kernel size {span}"
                    )
                dims.append(((size - span) // s + 1, 0, 0))
            else:
                out = -(-size // s)
                total = max((out - 1) * s + span - size, 0)
                dims.append((out, total // 2, total - total // 2))
        (out_h, top, bottom), (out_w, left, right) = dims
        return cls(in_h, in_w, kh, kw, channels, sh, sw, dh, dw, top, bottom, left, right,
                   out_h, out_w, pad_value == "zero")

    def kernel_attrs(self) -> dict[str, int]:
        """The integer attributes the conv2d kernel targets decode by name (``ConvAttrs`` in
        ``csrc/ffi_checks.h``)."""
        return {"channels": self.channels, "stride_h": self.stride_h, "stride_w": self.stride_w,
                "dilation_h": self.dilation_h, "dilation_w": self.dilation_w,
                "pad_top": self.pad_top, "pad_left": self.pad_left,
                "zero_padding": int(self.zero_padding)}

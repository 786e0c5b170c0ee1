"""Small helpers from Larq's `larq.utils` that scripts use with the profile: memory as text.

Example:

>>> memory_as_readable_str(8 * 1536)
'1.50 KiB'
"""

from __future__ import annotations

import numbers

__all__ = ["memory_as_readable_str"]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def memory_as_readable_str(num_bits: float) -> str:
    """A memory size given in bits as text in B, KiB, MiB, GiB or TiB (1 KiB = 1024 B).

    Takes bits, as `ModelProfile.memory` gives them, and uses the largest binary unit that keeps
    the number below 1024, with two decimals.

    Args:
        num_bits: a non-negative, finite number of bits.

    Returns:
        The size as text, e.g. "4.88 MiB".

    >>> memory_as_readable_str(8 * 5_120_000)
    '4.88 MiB'
    """
    if isinstance(num_bits, bool) or not isinstance(num_bits, numbers.Real):
        raise TypeError(f"num_bits must be a number of bits, got {num_bits!r}")
    if not 0 <= num_bits < float("inf"):
        raise ValueError(f"num_bits must be finite and >= 0, got {num_bits!r}")
    size = num_bits / 8
    for unit in _UNITS[:-1]:
        if size < 1024:
            return f"{size:,.2f} {unit}"
        size /= 1024
    return f"{size:,.2f} {_UNITS[-1]}"

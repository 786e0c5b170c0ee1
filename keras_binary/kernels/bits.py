"""How many int32 words hold a row of packed sign bits.

Example::

    packed_words(70)  # 3: bits 0-31, 32-63 and 64-69 (the last word padded)
"""

WORD_BITS = 32  # bits per packed word (int32, so JAX without x64 keeps them intact)


def packed_words(bits: int) -> int:
    """Number of int32 words that hold ``bits`` packed bits (the last one padded).

    Args:
        bits: Number of sign bits in a row (e.g. a binary layer's input size K).

    Returns:
        ``ceil(bits / 32)``.

    Example:

    >>> packed_words(70)
    3
    """
    return -(-bits // WORD_BITS)

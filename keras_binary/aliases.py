"""Look-up of keras_binary's string aliases before Keras' own `get` functions.

Keras resolves activation and constraint strings only among its own objects, so
`keras_binary.activations.get` and `keras_binary.constraints.get` look at our aliases first.

>>> import keras
>>> get_with_aliases("relu", {}, keras.activations.get, "activation") is keras.activations.relu
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def get_with_aliases(
    identifier: Any, aliases: dict[str, Any], fallback: Callable[[Any], Any], kind: str
) -> Any:
    """`aliases[identifier]` for one of our strings, else `fallback(identifier)`; a ValueError
    naming the identifier and our aliases when neither knows it.

    Args:
        identifier: The user's identifier.
        aliases: Our aliases.
        fallback: Keras's `get` for everything else.
        kind: What is looked up ("activation", "constraint"), for the message.

    Returns:
        The resolved object.

    Raises:
        ValueError: neither knows `identifier`.
    """
    if isinstance(identifier, str) and identifier in aliases:
        return aliases[identifier]
    try:
        return fallback(identifier)
    except ValueError as error:
        known = ", ".join(sorted(aliases))
        raise ValueError(
            f"Unknown {kind} {identifier!r}: not a keras_binary alias ({known}) nor a Keras "
            f"{kind} ({error})"
        ) from None

"""Weight constraints for binarized layers: `WeightClip` keeps latent weights in [-c, c].

Keras resolves constraint strings only among its own classes, so the Quant* layers look
identifiers up with `keras_binary.constraints.get`, which knows the alias "weight_clip" and falls
back to `keras.constraints.get`.

Example:

>>> import numpy as np
>>> from keras_binary.constraints import WeightClip
>>> np.asarray(WeightClip(0.5)(np.array([-2.0, 0.1, 0.7], "float32"))).tolist()
[-0.5, 0.10000000149011612, 0.5]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.aliases import get_with_aliases


@keras.saving.register_keras_serializable(package="keras_binary")
class WeightClip(keras.constraints.Constraint):
    """Clips weights elementwise to [-clip_value, clip_value] after each update (alias
    "weight_clip").

    Binary layers train latent real-valued weights whose sign is used in the forward pass; the
    straight-through gradient does not vanish outside [-1, 1], so without a clip the latent
    weights may grow without bound and never flip sign again.

    Under PyTorch a `keras.Variable` argument is clipped in place (the optimizer then assigns
    the variable its own values, which copies nothing); any other argument is left unchanged.

    Args:
        clip_value: Positive bound c of the interval [-c, c].

    Example:

    >>> import numpy as np
    >>> np.asarray(WeightClip(1.0)(np.array([-2.0, 0.5], "float32"))).tolist()
    [-1.0, 0.5]

    References:
        {{ref_binarynet}}
    """

    def __init__(self, clip_value: float = 1.0):
        if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)):
            raise TypeError(f"WeightClip clip_value must be a number, got {clip_value!r}")
        if not clip_value > 0:
            raise ValueError(f"WeightClip clip_value must be > 0, got {clip_value!r}")
        self.clip_value = float(clip_value)

    def __call__(self, w: Any) -> Any:
        if (keras.backend.backend() == "torch" and isinstance(w, keras.Variable)
                and w.value.is_floating_point()):
            from keras_binary import _torch_eager  # torch only: clipped in place, no copy

            return _torch_eager.clip_(w.value, self.clip_value)
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {"clip_value": self.clip_value}

    def __repr__(self) -> str:
        return f"WeightClip(clip_value={self.clip_value!r})"


# Larq's lowercase name of the class (`lq.constraints.weight_clip(2.0)`).
weight_clip = WeightClip

ALIASES: dict[str, type[keras.constraints.Constraint]] = {
    "weight_clip": WeightClip,
    "WeightClip": WeightClip,
}


def get(identifier: Any) -> Any:
    """A constraint from an alias ("weight_clip"), a config dict, an instance or None.

    Anything that is not one of our aliases goes to `keras.constraints.get`.

    Args:
        identifier: "weight_clip", "WeightClip", or a Keras constraint identifier (name,
            config dict, instance or None).

    Returns:
        A constraint instance, or None.

    Example:

    >>> get("weight_clip")
    WeightClip(clip_value=1.0)
    """
    constraint = get_with_aliases(identifier, ALIASES, keras.constraints.get, "constraint")
    return constraint() if isinstance(constraint, type) else constraint

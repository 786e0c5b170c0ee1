"""`Bop`: the latent-free Binary Optimizer (Helwegen et al., 2019)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.optimizers import hyperparameter
from keras_binary.optimizers.finite_steps import SkipNonFiniteSteps
from keras_binary.precision import is_binary_variable
from keras_binary.quantizers.base import sign


@keras.saving.register_keras_serializable(package="keras_binary")
class Bop(SkipNonFiniteSteps, keras.optimizers.Optimizer):
    """Flips binary weights whose gradient momentum persistently points against them.

    For each binary variable w (values +/-1) with gradient g:
    m <- (1 - gamma) m + gamma g, then w <- -w where w * m > threshold.

    Bop updates binary variables only (those tagged by their layer, see
    `keras_binary.precision.is_binary_variable`); combine it with another optimizer for the
    rest. It holds no latent weights: on `build` it sets every binary variable to sign(w), so
    binary kernels may use any initializer. `threshold` and `gamma` accept a float (assignable,
    e.g. by `keras_binary.callbacks.HyperparameterScheduler`) or a schedule of the step.

    A step whose gradients are not all finite is skipped (weights, momentum and `iterations`
    unchanged) and counted in `optimizer.skipped_steps`: one NaN gradient would otherwise leave
    the momentum NaN for good, and no weight would flip again.

    Args:
        threshold: The flip threshold tau (default 1e-8, the paper's): a float or a
            `keras.optimizers.schedules.LearningRateSchedule` of the iteration.
        gamma: The adaptivity rate of the momentum (default 1e-4, the paper's), a float or
            a schedule; the paper's ImageNet run decays it linearly from 1e-4 to 1e-6.
        {{optimizer_keyword_args}}

    Example:

    >>> import keras
    >>> from keras_binary.optimizers import Bop, CaseOptimizer
    >>> from keras_binary.precision import is_binary_variable
    >>> optimizer = CaseOptimizer((is_binary_variable, Bop(threshold=1e-8, gamma=1e-4)),
    ...                           default_optimizer=keras.optimizers.Adam(0.01))

    References:
        {{ref_bop}}
    """

    # Larq's spelling of the predicate: CaseOptimizer((Bop.is_binary_variable, Bop()), ...).
    is_binary_variable = staticmethod(is_binary_variable)

    def __init__(
        self,
        threshold: Any = 1e-8,
        gamma: Any = 1e-4,
        name: str = "bop",
        **kwargs: Any,
    ):
        if "learning_rate" in kwargs:
            raise ValueError(
                "Bop has no learning rate: it flips a weight's sign when its gradient momentum "
                "exceeds `threshold`, with `gamma` as the momentum's rate; pass those instead, "
                "e.g. Bop(threshold=1e-8, gamma=1e-4)"
            )
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self._threshold = hyperparameter.create(self, "threshold", threshold)
        self._gamma = hyperparameter.create(self, "gamma", gamma)

    @property
    def threshold(self) -> Any:
        """The flip threshold tau at the current step."""
        return hyperparameter.current(self, self._threshold, "float32")

    @threshold.setter
    def threshold(self, value: float) -> None:
        hyperparameter.assign(self, "threshold", self._threshold, value)

    @property
    def gamma(self) -> Any:
        """The momentum adaptivity rate gamma at the current step."""
        return hyperparameter.current(self, self._gamma, "float32")

    @gamma.setter
    def gamma(self, value: float) -> None:
        hyperparameter.assign(self, "gamma", self._gamma, value)

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        not_binary = [v.path for v in var_list if not is_binary_variable(v)]
        if not_binary:
            raise ValueError(
                f"Bop updates binary variables only, but got non-binary variables {not_binary}. "
                "Route them to another optimizer, e.g. CaseOptimizer((is_binary_variable, Bop()), "
                "default_optimizer=keras.optimizers.Adam())."
            )
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")
        for variable in var_list:
            variable.assign(sign(ops.convert_to_tensor(variable)))

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        gamma = hyperparameter.current(self, self._gamma, dtype)
        threshold = hyperparameter.current(self, self._threshold, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        if keras.backend.backend() == "torch":  # the same step in place (keras_binary._torch_eager)
            from keras_binary import _torch_eager

            _torch_eager.lerp_(m.value, gradient, gamma)
            w = sign(variable.value)  # a new tensor, flipped in place
            self.assign(variable, _torch_eager.bop_flip(w, m.value, threshold))
            return
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), gamma))
        w = sign(ops.convert_to_tensor(variable))
        self.assign(variable, ops.where(ops.greater(w * m, threshold), -w, w))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("learning_rate", None)
        config["threshold"] = hyperparameter.serialize(self._threshold)
        config["gamma"] = hyperparameter.serialize(self._gamma)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Bop:
        config = dict(config)
        for key in ("threshold", "gamma"):
            config[key] = hyperparameter.deserialize(config[key])
        return cls(**config)

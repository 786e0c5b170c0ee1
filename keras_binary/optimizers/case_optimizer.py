"""`CaseOptimizer`: Larq's optimizer router, built on `keras.optimizers.MultiOptimizer`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from keras_binary.optimizers.finite_steps import SkipNonFiniteSteps
from keras_binary.precision import get_precision, is_binary_variable
from keras_binary.quantizers.loss_aware import is_loss_aware_scale, loss_aware_quantizer

Predicate = Callable[[Any], bool]

# Predicates must be serializable for `.keras` files: register the ones we offer.
keras.saving.register_keras_serializable(package="keras_binary", name="is_binary_variable")(
    is_binary_variable
)


@keras.saving.register_keras_serializable(package="keras_binary")
def is_loss_aware_variable(variable: Any) -> bool:
    """True for kernels binarized by a `LossAwareBinarizer` and for their `alpha` scales.

    Route these to `LAB` when combining it with other optimizers.

    Args:
        variable: A `keras.Variable`.

    Returns:
        Whether `LAB`'s loss-aware step owns `variable`.

    Example:

    >>> import keras
    >>> from keras_binary.optimizers import LAB, Bop, CaseOptimizer
    >>> optimizer = CaseOptimizer((is_loss_aware_variable, LAB(0.01)),
    ...                           default_optimizer=keras.optimizers.Adam(0.01))
    """
    return is_loss_aware_scale(variable) or loss_aware_quantizer(variable) is not None


class _CaseRouter:
    """Callable variable -> optimizer for `MultiOptimizer`: the one predicate that claims it."""

    def __init__(self, pairs: list[tuple[Predicate, Any]], default_optimizer: Any):
        self.pairs = pairs
        self.default_optimizer = default_optimizer

    def values(self) -> list[Any]:
        return [optimizer for _, optimizer in self.pairs]

    def __call__(self, variable: Any) -> Any:
        claims = [(p, opt) for p, opt in self.pairs if p(variable)]
        if len(claims) > 1:
            names = ", ".join(f"{getattr(p, '__name__', p)} -> {opt.name}" for p, opt in claims)
            raise ValueError(
                f"Variable {variable.path!r} is claimed by more than one optimizer ({names}); "
                "make the predicates mutually exclusive."
            )
        if claims:
            return claims[0][1]
        if self.default_optimizer is None:
            # Larq warns and leaves the variable untrained; a silently frozen BatchNorm or bias
            # is easy to miss, so this refuses and names both explicit choices.
            raise ValueError(
                f"Variable {variable.path!r} (precision {get_precision(variable)}) is claimed by "
                "no predicate and there is no default_optimizer: pass default_optimizer=... to "
                "train it, or set trainable=False on its layer to freeze it (Larq only warned; "
                "see guides/07_migrating_from_larq.md)."
            )
        return self.default_optimizer


@keras.saving.register_keras_serializable(package="keras_binary")
class CaseOptimizer(SkipNonFiniteSteps, keras.optimizers.MultiOptimizer):
    """Routes each variable to the optimizer whose predicate accepts it (Larq's API).

    Args:
        *predicate_optimizer_pairs: `(predicate, optimizer)` tuples; `predicate(variable)`
            returns True for the variables that `optimizer` updates. Predicates must not
            overlap, and every optimizer must claim at least one variable.
        default_optimizer: updates the variables no predicate claims. Needed when any
            trainable variable is claimed by no predicate: then building raises a ValueError,
            where Larq warns and leaves the variable untrained (freeze such variables with
            `trainable=False` on their layer instead).

    A step in which any gradient is not finite is skipped as a whole (every variable and every
    optimizer's state unchanged, `iterations` included) and counted in
    `optimizer.skipped_steps`; the optimizers inside do not check again.

    >>> import keras
    >>> from keras_binary.optimizers import Bop
    >>> from keras_binary.precision import is_binary_variable
    >>> optimizer = CaseOptimizer((is_binary_variable, Bop()),
    ...                           default_optimizer=keras.optimizers.Adam(0.01))
    """

    def __init__(
        self,
        *predicate_optimizer_pairs: tuple[Predicate, Any],
        default_optimizer: Any = None,
        name: str | None = None,
        loss_scale_factor: float | None = None,
    ):
        pairs = [_check_pair(pair) for pair in predicate_optimizer_pairs]
        if not pairs:
            raise ValueError("CaseOptimizer needs at least one (predicate, optimizer) pair.")
        optimizers = [opt for _, opt in pairs]
        if default_optimizer is not None:
            if not isinstance(default_optimizer, keras.optimizers.Optimizer):
                raise TypeError(
                    f"default_optimizer must be a keras Optimizer, got {default_optimizer!r}"
                )
            optimizers.append(default_optimizer)
        if len({id(opt) for opt in optimizers}) != len(optimizers):
            raise ValueError(
                "Each optimizer may appear only once in a CaseOptimizer (one instance per "
                "predicate, and the default separate); create a new instance instead."
            )
        for optimizer in optimizers:  # the whole step is checked here, once
            if isinstance(optimizer, SkipNonFiniteSteps):
                optimizer.checks_finite_gradients = False
        super().__init__(
            _CaseRouter(pairs, default_optimizer),
            loss_scale_factor=loss_scale_factor,
            name=name,
        )

    @property
    def default_optimizer(self) -> Any:
        return self._optimizer_map.default_optimizer

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        claimed = {id(opt) for opt in map(self._optimizer_map, var_list)}
        for predicate, optimizer in self._optimizer_map.pairs:
            if id(optimizer) not in claimed:
                raise ValueError(
                    f"Optimizer {optimizer.name!r} claims no variable: predicate "
                    f"{getattr(predicate, '__name__', predicate)!r} is False for all "
                    f"{len(var_list)} trainable variables. Check that the layers tag their "
                    "kernels (a binary kernel_quantizer) or remove the pair."
                )

    def get_config(self) -> dict[str, Any]:
        serialize = keras.saving.serialize_keras_object
        return {
            "predicate_optimizer_pairs": [
                [serialize(p), serialize(opt)] for p, opt in self._optimizer_map.pairs
            ],
            "default_optimizer": serialize(self.default_optimizer),
            "name": self.name,
            "loss_scale_factor": self.loss_scale_factor,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> CaseOptimizer:
        def load(item: Any) -> Any:
            return keras.saving.deserialize_keras_object(item, custom_objects=custom_objects)

        pairs = [(load(p), load(opt)) for p, opt in config["predicate_optimizer_pairs"]]
        return cls(
            *pairs,
            default_optimizer=load(config["default_optimizer"]),
            name=config.get("name"),
            loss_scale_factor=config.get("loss_scale_factor"),
        )


def _check_pair(pair: Any) -> tuple[Predicate, Any]:
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise TypeError(f"Expected a (predicate, optimizer) pair, got {pair!r}")
    predicate, optimizer = pair
    if not callable(predicate):
        raise TypeError(f"A CaseOptimizer predicate must be callable, got {predicate!r}")
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"Expected a keras Optimizer in the pair, got {optimizer!r}")
    if isinstance(optimizer, keras.optimizers.MultiOptimizer):
        raise TypeError("A CaseOptimizer pair cannot hold another MultiOptimizer/CaseOptimizer.")
    return predicate, optimizer

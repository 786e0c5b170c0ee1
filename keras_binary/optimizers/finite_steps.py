"""`SkipNonFiniteSteps`: an optimizer step whose gradients are not all finite changes nothing.

One NaN gradient would otherwise stay in the optimizer for good: Bop's momentum stays NaN and no
weight flips again, LAB's kernels become NaN. As Keras's `LossScaleOptimizer` does, such a step
is skipped: the model variables and every optimizer variable (slots, `iterations`) keep their
values bit for bit, and `optimizer.skipped_steps` counts it.

Example:

>>> import numpy as np
>>> import keras
>>> from keras_binary.optimizers import Bop
>>> from keras_binary.precision import set_precision
>>> kernel = keras.Variable(np.ones((2, 2), "float32"))
>>> set_precision(kernel, 1)  # what a binary layer does to its kernel
>>> bop = Bop()
>>> bop.apply([np.full((2, 2), np.nan, "float32")], [kernel])
>>> int(bop.skipped_steps), int(bop.iterations)
(1, 0)
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _dense_values(grad: Any) -> Any:
    """The values of a sparse gradient (TF's `IndexedSlices.values`), else the gradient itself;
    a torch tensor's `values` is a method, not values."""
    values = getattr(grad, "values", None)
    return grad if values is None or callable(values) else values


def _is_traced(x: Any) -> bool:
    """Whether `x` is an abstract JAX value (inside `jax.jit`), whose truth is not known yet."""
    if keras.backend.backend() != "jax":
        return False
    import jax  # lazy: keras_binary must not import JAX under other backends

    return isinstance(x, jax.core.Tracer)


def all_finite(grads: list[Any]) -> Any:
    """A scalar bool tensor: True when no gradient holds a NaN or an infinity (None: skipped)."""
    flags = [ops.all(ops.isfinite(_dense_values(g))) for g in grads if g is not None]
    return ops.all(ops.stack(flags)) if flags else ops.convert_to_tensor(True)


def _torch_sums_finite(grads: list[Any]) -> bool:
    """Eager torch: True when every gradient's sum is finite, so none holds a NaN or infinity.

    One reduction per gradient, where `all_finite`'s elementwise isfinite writes a bool tensor
    as large as the gradient (slow on CPU). False (a non-finite value, or finite values whose
    sum overflows) leaves the answer to `all_finite`.
    """
    import torch  # lazy: keras_binary must not import torch under other backends

    if torch.compiler.is_compiling():
        return False
    from keras_binary import _torch_eager

    return _torch_eager.finite_sums(
        [ops.convert_to_tensor(_dense_values(g)) for g in grads if g is not None]
    )


class SkipNonFiniteSteps:
    """Mixin for a `keras.optimizers.Optimizer`: steps with non-finite gradients are skipped.

    Put it before the Keras optimizer class in the bases. It adds the `skipped_steps` variable on
    `build`; `apply` (hence `apply_gradients`, `stateless_apply` and `model.fit`) checks every
    gradient and either makes the normal step or, if one is not finite, only counts it.
    `iterations` does not advance on a skipped step, as with `LossScaleOptimizer`.
    """

    # False for an optimizer inside a `CaseOptimizer`, which checks all gradients at once.
    checks_finite_gradients = True

    def build(self, var_list: list[Any]) -> None:
        super().build(var_list)
        self._skipped_steps = self.add_variable(
            shape=(), dtype="int", initializer="zeros", aggregation="only_first_replica",
            name="skipped_steps",
        )

    @property
    def skipped_steps(self) -> keras.Variable:
        """The number of steps skipped because a gradient was NaN or infinite (int variable)."""
        if not hasattr(self, "_skipped_steps"):
            raise ValueError(
                f"{self.name}.skipped_steps is created when the optimizer is built: make a step "
                "or call optimizer.build(model.trainable_variables) first."
            )
        return self._skipped_steps

    def apply(self, grads: list[Any], trainable_variables: Any = None) -> None:
        grads = list(grads)
        if not grads or not self.checks_finite_gradients:
            return super().apply(grads, trainable_variables)
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        if not self.built:  # variables must exist before the step is guarded
            if trainable_variables is None:
                return super().apply(grads, trainable_variables)  # raises Keras's error
            self.build(trainable_variables)
            self.built = True
        if keras.backend.backend() == "tensorflow":
            self._tf_apply_if_finite(grads, trainable_variables)
            return None
        if keras.backend.backend() == "torch" and _torch_sums_finite(grads):
            super().apply(grads, trainable_variables)  # no NaN or infinity: skip the exact check
            return None
        finite = all_finite(grads)
        if _is_traced(finite):
            self._jax_cond_apply_if_finite(finite, grads, trainable_variables)
        elif bool(finite):  # eager (PyTorch, eager JAX): only the branch taken runs
            super().apply(grads, trainable_variables)
        else:
            self._skip()
        return None

    def _skip(self) -> None:
        self._skipped_steps.assign_add(1)  # returns nothing: both `cond` branches must match

    def _count_skipped(self, finite: Any) -> None:
        """Counts the step as skipped where ``finite`` (a traced boolean) is false."""
        self._skipped_steps.assign_add(ops.cast(ops.logical_not(finite), self._skipped_steps.dtype))

    def _jax_cond_apply_if_finite(self, finite: Any, grads: list[Any],
                                  trainable_variables: Any) -> None:
        """Traced JAX (`stateless_apply` in a jitted train step): `lax.cond` between the step
        and the count. The step runs in its own `StatelessScope`, seeded with the variables'
        current values, and the branch returns the values it assigned; the outer scope then gets
        one assignment per variable. XLA computes the step only in the branch taken, where a
        branch-free select made it compute the updates twice (in the step and in the select).
        """
        import jax  # lazy: keras_binary must not import JAX under other backends

        watched = list(trainable_variables or self._trainable_variables)
        watched += [v for v in self.variables if v is not self._skipped_steps]

        def step(values: list[Any], grads: list[Any]) -> list[Any]:
            with keras.StatelessScope(state_mapping=list(zip(watched, values, strict=True))) \
                    as scope:
                super(SkipNonFiniteSteps, self).apply(grads, trainable_variables)
            return [ops.cast(scope.get_current_value(v), v.dtype) for v in watched]

        def skip(values: list[Any], grads: list[Any]) -> list[Any]:
            return values

        values = jax.lax.cond(finite, step, skip, [v.value for v in watched], grads)
        for variable, value in zip(watched, values, strict=True):
            variable.assign(value)
        self._count_skipped(finite)

    def _tf_apply_if_finite(self, grads: list[Any], trainable_variables: Any) -> None:
        """TensorFlow: the step in a loop of one trip when the gradients are finite and none
        otherwise, then the count; under a distribution strategy that needs merge calls, a
        `cond` between the step and the count in a cross-replica context, as
        `LossScaleOptimizer` does.

        Not a `cond` where a loop serves: XLA turns a two-branch conditional of elementwise ops
        (an optimizer step) into selects, which keep a copy of every updated variable's old
        value; a loop it keeps as it is (docs/performance-notes.md, "Training").
        """
        import tensorflow as tf  # lazy: keras_binary must not import TF under other backends

        def step(grads: list[Any], trainable_variables: Any) -> None:
            super(SkipNonFiniteSteps, self).apply(grads, trainable_variables)

        if tf.__internal__.distribute.strategy_supports_no_merge_call():
            finite = all_finite(grads)

            def one_step(trips: Any) -> tuple[Any]:
                step(grads, trainable_variables)
                return (trips + 1,)

            tf.while_loop(lambda trips: trips < tf.cast(finite, tf.int32), one_step,
                          (tf.constant(0),))
            self._count_skipped(finite)
            return

        def cross_replica(distribution: Any, grads: list[Any], trainable_variables: Any) -> None:
            # Gradients are all-reduced, so every replica finds the same flag: take the first.
            finite = distribution.experimental_local_results(
                distribution.extended.call_for_each_replica(all_finite, args=(grads,))
            )[0]
            ops.cond(
                finite,
                lambda: distribution.extended.call_for_each_replica(
                    step, args=(grads, trainable_variables)
                ),
                self._skip,
            )

        tf.distribute.get_replica_context().merge_call(
            cross_replica, args=(grads, trainable_variables)
        )

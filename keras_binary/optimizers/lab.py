"""`LAB`: loss-aware binarization (Hou, Yao & Kwok, ICLR 2017) as a Keras optimizer."""

from __future__ import annotations

import contextlib
from typing import Any

import keras
from keras import ops

from keras_binary.optimizers.finite_steps import SkipNonFiniteSteps
from keras_binary.quantizers.loss_aware import (
    is_loss_aware_scale,
    loss_aware_quantizer,
)


def _outside_traced_step() -> contextlib.AbstractContextManager:
    """Context that runs one-time assignments eagerly, even when called while tracing.

    Without a distribution strategy, Keras's TF trainer builds the optimizer lazily inside the
    first traced train step, after the forward pass: assignments made there would become graph
    ops that run on every step, after the first forward pass has already read the old values.
    `tf.init_scope` lifts them out of the graph (as TF does for variable creation), so they run
    once, before the first step executes. JAX and eager TF need nothing.
    """
    if keras.backend.backend() != "tensorflow":
        return contextlib.nullcontext()
    import tensorflow as tf  # lazy: keras_binary must not import TF under other backends

    return tf.init_scope()


@keras.saving.register_keras_serializable(package="keras_binary")
class LAB(SkipNonFiniteSteps, keras.optimizers.Adam):
    """Adam for every variable, with LAB's proximal Newton step for loss-aware binarized kernels.

    For a kernel whose layer applies a `keras_binary.quantizers.LossAwareBinarizer` (the gradient
    g is taken at the binarized kernel w_hat = alpha * sign(w)):

        m <- beta_1 m + (1 - beta_1) g,   v <- beta_2 v + (1 - beta_2) g^2
        d = sqrt(v / (1 - beta_2^t)) + epsilon
        w <- clip(w - lr * (m / (1 - beta_1^t)) / d, -1, 1)
        alpha <- ||d * w||_1 / ||d||_1          ("lab" mode only; per block with `groups`)

    BinaryConnect and BWN are the same step with a `LossAwareBinarizer(mode="binary_connect")`
    or `mode="bwn"` kernel (alpha = 1 and alpha = mean |w| respectively). A
    `LossAwareTernarizer` kernel (LAT, Hou & Kwok 2018) gets the same step with its ternary
    alpha (`quantizer.scale(w, d)`, alternating fit). Every other variable gets plain Adam. On
    `build` the optimizer clips such kernels to [-1, 1] and sets alpha to its closed form with
    uniform d (= mean |w|), the value matching a fresh second moment; the first forward pass sees
    these values on every backend, even where Keras builds the optimizer inside the first traced
    train step (TF without a distribution strategy). LAB2 is LAB with binarized
    activations: give the layers `input_quantizer="ste_sign"` as well.

    A step whose gradients are not all finite is skipped (kernels, alpha, moments and
    `iterations` unchanged) and counted in `optimizer.skipped_steps`.

    Args:
        learning_rate: The step size eta, a float or a
            `keras.optimizers.schedules.LearningRateSchedule`.
        beta_1: Decay rate of the first moment m.
        beta_2: Decay rate of the second moment v, whose bias-corrected square root is the
            diagonal curvature d.
        epsilon: Added to sqrt(v_hat) in d.
        {{optimizer_keyword_args}}
            `amsgrad=True` is refused (the scale uses Adam's second moment).

    Example:

    >>> import keras
    >>> from keras_binary import layers
    >>> model = keras.Sequential([keras.Input((784,)),
    ...                           layers.QuantDense(10, kernel_quantizer="lab")])
    >>> model.compile(optimizer=LAB(learning_rate=0.01), loss="squared_hinge")

    References:
        {{ref_lab}}
        {{ref_lat}}
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        name: str = "lab",
        **kwargs: Any,
    ):
        if kwargs.pop("amsgrad", False):
            raise ValueError("LAB does not support amsgrad (its scale uses Adam's second moment).")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=False,
            name=name,
            **kwargs,
        )

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        with _outside_traced_step():
            for variable in var_list:
                quantizer = loss_aware_quantizer(variable)
                if quantizer is None:
                    continue
                variable.assign(ops.clip(ops.convert_to_tensor(variable), -1.0, 1.0))
                if quantizer.alpha is not None:  # "lab" / "lat": alpha set here
                    quantizer.alpha.assign(quantizer.scale(variable))  # uniform d

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        index = self._get_variable_index(variable)
        model_variable = self._trainable_variables[index]
        if is_loss_aware_scale(model_variable):
            return  # alpha is set in closed form by its kernel's step
        quantizer = loss_aware_quantizer(model_variable)
        if quantizer is None:
            super().update_step(gradient, variable, learning_rate)
            return
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        m = self._momentums[index]
        v = self._velocities[index]
        epsilon = ops.cast(self.epsilon, dtype)
        if keras.backend.backend() == "torch":  # the same step in place (keras_binary._torch_eager)
            from keras_binary import _torch_eager

            w, d = _torch_eager.lab_step_(variable.value, gradient, m.value, v.value, lr,
                                          beta_1, beta_2, step, epsilon)
        else:
            self.assign_add(m, (gradient - m) * (1 - beta_1))
            self.assign_add(v, (ops.square(gradient) - v) * (1 - beta_2))
            m_hat = m / (1 - ops.power(beta_1, step))
            d = ops.sqrt(v / (1 - ops.power(beta_2, step))) + epsilon
            w = ops.clip(variable - lr * m_hat / d, -1.0, 1.0)
        self.assign(variable, w)
        if quantizer.alpha is not None:
            self.assign(quantizer.alpha, quantizer.scale(w, d))

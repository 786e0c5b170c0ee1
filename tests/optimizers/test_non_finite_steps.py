"""A step with a NaN gradient is skipped and counted by Bop, LAB and CaseOptimizer(Bop + Adam);
the next finite step is exactly the step the optimizer would have made without it."""

import keras
import numpy as np
import pytest

from keras_binary.optimizers import LAB, Bop
from tests.backend_options import JIT_COMPILE
from tests.optimizers.helpers import binary_model, bop_adam, data

KINDS = ("bop", "lab", "case")


def make(kind: str) -> tuple[keras.Model, keras.optimizers.Optimizer]:
    """A model without BatchNorm (its moving stats are no optimizer state) and its optimizer."""
    if kind == "bop":  # Bop alone updates binary variables only: freeze the float head
        model = binary_model("ste_sign", batch_norm=False)
        model.get_layer("head").trainable = False
        return model, Bop(threshold=1e-6, gamma=0.1)
    if kind == "lab":
        return binary_model("lab", batch_norm=False), LAB(0.01)
    return binary_model("ste_sign", batch_norm=False), bop_adam()


def state(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> list[np.ndarray]:
    """Every model variable and every optimizer variable except the skip counter."""
    variables = model.variables + [v for v in optimizer.variables if "skipped_steps" not in v.path]
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list:
    """Gradients of the mean squared error (backend-native autodiff)."""
    variables = model.trainable_variables
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.ops.square(model(x) - y))
        return tape.gradient(loss, variables)
    if keras.backend.backend() == "torch":
        import torch

        loss = keras.ops.mean(keras.ops.square(model(x) - keras.ops.convert_to_tensor(y)))
        return list(torch.autograd.grad(loss, [v.value for v in variables]))
    import jax

    def loss_fn(values):
        predictions, _ = model.stateless_call(values, [v.value for v in
                                                       model.non_trainable_variables], x)
        return keras.ops.mean(keras.ops.square(predictions - y))

    return jax.grad(loss_fn)([v.value for v in variables])


def assert_same(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(a, b)


def with_nan(grads: list) -> list:
    """The gradients with one NaN planted in the last one (Adam's head under CaseOptimizer)."""
    last = keras.ops.convert_to_numpy(grads[-1]).copy()
    last.reshape(-1)[0] = np.nan
    return [*grads[:-1], keras.ops.convert_to_tensor(last)]


@pytest.mark.parametrize("kind", KINDS)
def test_eager_nan_step_changes_nothing_and_next_step_is_normal(kind):
    x, y = data()
    model, optimizer = make(kind)
    twin, twin_optimizer = make(kind)
    for m, opt in ((model, optimizer), (twin, twin_optimizer)):
        opt.build(m.trainable_variables)
        opt.apply(gradients(m, x[:16], y[:16]), m.trainable_variables)  # non-zero slots

    before = state(model, optimizer)
    optimizer.apply(with_nan(gradients(model, x[16:], y[16:])), model.trainable_variables)
    assert_same(state(model, optimizer), before)
    assert int(optimizer.skipped_steps) == 1
    assert int(optimizer.iterations) == 1

    for m, opt in ((model, optimizer), (twin, twin_optimizer)):
        opt.apply(gradients(m, x[16:], y[16:]), m.trainable_variables)
    assert_same(state(model, optimizer), state(twin, twin_optimizer))
    assert int(optimizer.skipped_steps) == 1 and int(twin_optimizer.skipped_steps) == 0
    assert int(optimizer.iterations) == 2


def test_bop_step_after_a_skipped_one_is_the_hand_computed_step():
    from keras_binary.precision import set_precision

    w = keras.Variable(np.array([1.0, -1.0, 1.0, -1.0], "float32"))
    set_precision(w, 1)
    optimizer = Bop(threshold=0.5, gamma=0.5)
    optimizer.apply([keras.ops.convert_to_tensor(np.array([2.0, 2.0, -2.0, 0.0], "float32"))],
                    [w])  # m = (1, 1, -1, 0): w * m = 1, -1, -1, 0 -> flips the first
    np.testing.assert_array_equal(w.numpy(), [-1.0, -1.0, 1.0, -1.0])
    nan = np.array([np.nan, 0.0, 0.0, 0.0], "float32")
    optimizer.apply([keras.ops.convert_to_tensor(nan)], [w])
    np.testing.assert_array_equal(w.numpy(), [-1.0, -1.0, 1.0, -1.0])
    momentum = [v for v in optimizer.variables if "momentum" in v.path][0]
    np.testing.assert_array_equal(momentum.numpy(), [1.0, 1.0, -1.0, 0.0])
    optimizer.apply([keras.ops.convert_to_tensor(np.array([1.0, -3.0, -3.0, -2.0], "float32"))],
                    [w])  # m = (1, -1, -2, -1): w * m = -1, 1, -2, 1 -> flips the 2nd and 4th
    np.testing.assert_array_equal(momentum.numpy(), [1.0, -1.0, -2.0, -1.0])
    np.testing.assert_array_equal(w.numpy(), [-1.0, 1.0, 1.0, 1.0])
    assert (int(optimizer.skipped_steps), int(optimizer.iterations)) == (1, 2)


def test_skipped_steps_before_build_is_a_clear_error():
    with pytest.raises(ValueError, match="created when the optimizer is built"):
        Bop().skipped_steps  # noqa: B018


@pytest.mark.parametrize("kind", KINDS)
def test_fit_skips_the_batch_with_a_nan_sample_and_continues_normally(kind):
    x, y = data(n=16)
    bad = x.copy()
    bad[3, 2] = np.nan  # one input value: sign(NaN) = NaN makes the loss and gradients NaN
    model, optimizer = make(kind)
    twin, twin_optimizer = make(kind)
    for m, opt in ((model, optimizer), (twin, twin_optimizer)):
        m.compile(optimizer=opt, loss="mse", jit_compile=JIT_COMPILE)
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)

    before = state(model, optimizer)
    history = model.fit(bad, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert np.isnan(history.history["loss"][0])
    assert_same(state(model, optimizer), before)
    assert (int(optimizer.skipped_steps), int(optimizer.iterations)) == (1, 1)

    for m in (model, twin):
        m.fit(x[::-1], y[::-1], batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert_same(state(model, optimizer), state(twin, twin_optimizer))
    assert (int(optimizer.skipped_steps), int(optimizer.iterations)) == (1, 2)


@pytest.mark.parametrize(
    ("gradient", "skipped"),
    [
        ([3e38, 3e38, -1.0, 1.0], False),  # finite values whose sum overflows: a normal step
        ([np.inf, -np.inf, 1.0, 1.0], True),  # both infinities: their sum is NaN
        ([np.inf, 1.0, 1.0, 1.0], True),
        ([1.0, np.nan, 1.0, 1.0], True),
    ],
)
def test_only_non_finite_gradients_skip_the_step(gradient, skipped):
    from keras_binary.precision import set_precision

    w = keras.Variable(np.array([1.0, -1.0, 1.0, -1.0], "float32"))
    set_precision(w, 1)
    optimizer = Bop(threshold=0.5, gamma=1.0)
    optimizer.apply([keras.ops.convert_to_tensor(np.array(gradient, "float32"))], [w])
    assert (int(optimizer.skipped_steps), int(optimizer.iterations)) == (int(skipped),
                                                                        int(not skipped))
    # m = g on a step made: w * m = (3e38, -3e38, -1, -1) flips the first weight only.
    expected = [1.0, -1.0, 1.0, -1.0] if skipped else [-1.0, -1.0, 1.0, -1.0]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), expected)

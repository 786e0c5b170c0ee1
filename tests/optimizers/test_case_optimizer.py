"""CaseOptimizer: routing by predicate on MultiOptimizer, errors, serialization, model.fit."""

import keras
import numpy as np
import pytest

from keras_binary.optimizers import Bop, CaseOptimizer, is_binary_variable
from tests.optimizers.helpers import binary_model, bop_adam, data


def test_routes_binary_kernels_to_bop_and_the_rest_to_the_default():
    model = binary_model()
    optimizer = bop_adam()
    optimizer.build(model.trainable_variables)
    bop, adam = optimizer.optimizers
    assert isinstance(bop, Bop) and adam is optimizer.default_optimizer
    binary_kernel = model.get_layer("binary").kernel
    assert [v.path for v in bop._trainable_variables] == [binary_kernel.path]
    assert len(adam._trainable_variables) == len(model.trainable_variables) - 1


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_flips_binary_kernel_and_trains_float_weights(jit_compile):
    x, y = data()
    model = binary_model()
    model.compile(optimizer=bop_adam(), loss="mse", jit_compile=jit_compile)
    head0 = model.get_layer("head").kernel.numpy().copy()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    kernel = model.get_layer("binary").kernel.numpy()
    assert set(np.unique(kernel)) <= {-1.0, 1.0}
    assert not np.allclose(model.get_layer("head").kernel.numpy(), head0)
    assert [int(o.iterations) for o in model.optimizer.optimizers] == [8, 8]


def test_variable_claimed_twice_is_an_error():
    model = binary_model()
    optimizer = CaseOptimizer(
        (is_binary_variable, Bop()),
        (lambda v: "kernel" in v.path, keras.optimizers.SGD()),
        default_optimizer=keras.optimizers.Adam(),
    )
    with pytest.raises(ValueError, match="claimed by more than one optimizer"):
        optimizer.build(model.trainable_variables)


def test_optimizer_claiming_nothing_and_unclaimed_variables_are_errors():
    model = binary_model()
    never = CaseOptimizer((lambda v: False, keras.optimizers.SGD()),
                          default_optimizer=keras.optimizers.Adam())
    with pytest.raises(ValueError, match="claims no variable"):
        never.build(model.trainable_variables)
    no_default = CaseOptimizer((is_binary_variable, Bop()))
    with pytest.raises(ValueError, match="no default_optimizer"):
        no_default.build(model.trainable_variables)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="at least one"):
        CaseOptimizer(default_optimizer=keras.optimizers.Adam())
    with pytest.raises(TypeError, match="pair"):
        CaseOptimizer(is_binary_variable)
    with pytest.raises(TypeError, match="keras Optimizer"):
        CaseOptimizer((is_binary_variable, "adam"))
    adam = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="only once"):
        CaseOptimizer((is_binary_variable, adam), default_optimizer=adam)


def test_config_round_trip():
    optimizer = bop_adam()
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert isinstance(restored, CaseOptimizer)
    bop, adam = restored.optimizers
    assert bop.get_config() == optimizer.optimizers[0].get_config()
    assert adam.get_config() == optimizer.optimizers[1].get_config()
    assert restored._optimizer_map.pairs[0][0] is is_binary_variable

"""Recipes: paper defaults, overrides, schedules and clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model_zoo.models import MODELS
from model_zoo.recipes import (
    RECIPES,
    get_recipe,
    learning_rate_schedule,
    make_loss,
    make_optimizer,
)


def _lr(schedule, step):
    if isinstance(schedule, float):
        return schedule
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_every_zoo_model_has_a_recipe_and_every_recipe_a_model():
    assert set(MODELS) == set(RECIPES)  # `python -m model_zoo list` lists the recipes


def test_binarynet_mlp_decays_exponentially_from_3e3_to_3e7_over_the_run():
    recipe = get_recipe("binarynet_mlp_2048", "fashion_mnist", epochs=10)
    assert (recipe.dataset, recipe.batch_size, recipe.loss) == ("fashion_mnist", 100,
                                                              "squared_hinge")
    schedule = learning_rate_schedule(recipe, steps_per_epoch=600)
    np.testing.assert_allclose(_lr(schedule, 0), 3e-3, rtol=1e-6)
    np.testing.assert_allclose(_lr(schedule, 3000), np.sqrt(3e-3 * 3e-7), rtol=1e-4)
    np.testing.assert_allclose(_lr(schedule, 6000), 3e-7, rtol=1e-4)


def test_lab_steps_divide_by_ten_at_epochs_15_and_25():
    schedule = learning_rate_schedule(get_recipe("lab_mlp"), steps_per_epoch=10)
    values = [_lr(schedule, step) for step in (0, 149, 151, 249, 251)]
    np.testing.assert_allclose(values, [1e-2, 1e-2, 1e-3, 1e-3, 1e-4], rtol=1e-6)


def test_overrides_and_optimizers():
    recipe = get_recipe("binarynet_cnn", batch_size=8, epochs=None)
    assert (recipe.batch_size, recipe.epochs, recipe.optimizer) == (8, 500, "bop")
    assert type(make_optimizer(get_recipe("binarynet_mlp_2048"), 10)).__name__ == "Adam"
    assert type(make_optimizer(recipe, 10)).__name__ == "CaseOptimizer"
    assert type(make_optimizer(get_recipe("lab_mlp"), 10)).__name__ == "LAB"
    assert make_loss(get_recipe("birealnet18")).name == "sparse_categorical_crossentropy"


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("resnet",), {}, "No recipe for 'resnet'"),
        (("lab_mlp",), {"optimizer": "sgd"}, "optimizer must be one of"),
        (("lab_mlp",), {"epochs": 0}, "epochs must be a positive int"),
        (("lab_mlp",), {"momentum": 0.9}, "Unknown recipe fields"),
        (("lab_mlp",), {"final_learning_rate": 1e-5}, "only applies to an exponential"),
    ],
)
def test_bad_recipes_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_recipe(*args, **kwargs)


def test_zoo_training_compiles_with_xla_on_jax_and_tensorflow():
    # Keras's "auto" is no XLA on CPU-only TensorFlow; the zoo asks for it explicitly there.
    from model_zoo.models import get_model
    from model_zoo.training import compile_model

    recipe = get_recipe("lab_mlp", "mnist", epochs=1)
    model = compile_model(get_model("lab_mlp", hidden_units=16), recipe, steps=10)
    expected = keras.backend.backend() in ("jax", "tensorflow")
    assert bool(model.jit_compile) is expected

"""Training recipes: the papers' optimizer, schedule, loss, batch size and preprocessing as
defaults for each zoo model, and the objects they compile to.

Recipes (sources in `Recipe.source`):

- BinaryNet MLP (MNIST, Fashion-MNIST): Adam 3e-3 decayed exponentially to 3e-7 over the run,
  batch 100, squared hinge, inputs in [-1, 1], 1000 epochs in the paper.
- BinaryNet CNN (CIFAR-10, SVHN): Bop (threshold 1e-8, gamma 1e-4 x0.1 every 100 epochs) for
  binary weights, Adam 0.01 for the rest, batch 50, squared hinge, flips/crops, 500 epochs.
- LAB MLP (MNIST): LAB, Adam-style lr 0.01 x0.1 at epochs 15 and 25, batch 100, squared hinge,
  50 epochs, no augmentation.
- ImageNet models (XNOR-Net, Binary AlexNet, Bi-Real Net): Adam 1e-3 with cosine decay, batch
  256, cross-entropy, random crops and flips, 100 epochs (Larq Zoo's setting, not the papers').

Example:

>>> recipe = get_recipe("binarynet_mlp_2048", "mnist", epochs=10)
>>> recipe.optimizer, recipe.batch_size, recipe.epochs
('adam', 100, 10)
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Keras is imported where a recipe is compiled, so reading recipes is cheap
    import keras

OPTIMIZERS = ("adam", "bop", "lab")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to train one zoo model on one data set (all fields overridable by the CLI).

    `schedule` is "exponential" (learning_rate -> final_learning_rate over the run), "steps"
    (x0.1 at each epoch in `decay_epochs`) or "cosine".

    Args:
        dataset: Data set name.
        epochs: Training epochs.
        batch_size: Batch size.
        optimizer: "adam", "bop" (Bop + Adam) or "lab".
        learning_rate: Initial learning rate.
        schedule: "exponential", "steps", "cosine" or "constant".
        loss: "squared_hinge" or "crossentropy" (see `make_loss`).
        final_learning_rate: Last learning rate of the exponential schedule.
        decay_epochs: Epochs at which the steps schedule multiplies by 0.1.
        augment: Whether to augment the images (CIFAR recipe).
        bop_threshold: Bop's threshold.
        bop_gamma: Bop's initial gamma.
        source: Where the recipe comes from (paper, script).
    """

    dataset: str
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    schedule: str
    loss: str
    final_learning_rate: float = 0.0
    decay_epochs: tuple[int, ...] = ()
    augment: bool = False
    bop_threshold: float = 1e-8
    bop_gamma: float = 1e-4
    source: str = ""


_BINARYNET_MLP = Recipe(
    "mnist", 1000, 100, "adam", 3e-3, "exponential", "squared_hinge", final_learning_rate=3e-7,
    source="BinaryNet (Courbariaux et al. 2016), Theano MNIST code",
)
_BINARYNET_CNN = Recipe(
    "cifar10", 500, 50, "bop", 1e-2, "steps", "squared_hinge", decay_epochs=(100, 200, 300, 400),
    augment=True, source="Bop (Helwegen et al. 2019), CIFAR-10 BinaryNet",
)
_LAB_MLP = Recipe(
    "mnist", 50, 100, "lab", 1e-2, "steps", "squared_hinge", decay_epochs=(15, 25),
    source="LAB (Hou et al. 2017), MNIST MLP",
)
_IMAGENET = Recipe(
    "imagenet2012", 100, 256, "adam", 1e-3, "cosine", "crossentropy", augment=True,
    source="Larq Zoo's ImageNet setting (project default, not from the papers)",
)
_CIFAR = dataclasses.replace(_IMAGENET, dataset="cifar10", epochs=200, batch_size=128,
                             source="project default for the CIFAR variants")

RECIPES: dict[str, Recipe] = {
    "binarynet_mlp_4096": _BINARYNET_MLP,
    "binarynet_mlp_2048": _BINARYNET_MLP,
    "binarynet_cnn": _BINARYNET_CNN,
    "binarynet_cnn_svhn": dataclasses.replace(_BINARYNET_CNN, dataset="svhn_cropped", epochs=200,
                                              decay_epochs=(50, 100, 150), augment=False),
    "lab_mlp": _LAB_MLP,
    "binary_alexnet": _IMAGENET,
    "xnornet": _IMAGENET,
    "birealnet18": _IMAGENET,
    "birealnet34": _IMAGENET,
    "xnornet_cifar": _CIFAR,
    "birealnet_cifar": _CIFAR,
}


def get_recipe(model: str, dataset: str | None = None, **overrides: Any) -> Recipe:
    """The recipe for `model` on `dataset` (its paper's data set when None), with overrides.

    Overrides that are None are ignored, so CLI defaults can be passed through unchanged.

    Args:
        model: Zoo model name.
        dataset: Data set name; None takes the paper's.
        **overrides: `Recipe` fields to replace.

    Returns:
        The `Recipe`.
    """
    if model not in RECIPES:
        raise ValueError(f"No recipe for {model!r}; known: {', '.join(sorted(RECIPES))}")
    changes = {key: value for key, value in overrides.items() if value is not None}
    if dataset is not None:
        changes["dataset"] = dataset
    fields = {f.name for f in dataclasses.fields(Recipe)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ValueError(f"Unknown recipe fields {unknown}; known: {sorted(fields)}")
    recipe = dataclasses.replace(RECIPES[model], **changes)
    if "final_learning_rate" in changes and recipe.schedule != "exponential":
        raise ValueError(f"final_learning_rate only applies to an exponential schedule; "
                         f"{model}'s is {recipe.schedule!r}")
    if recipe.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {recipe.optimizer!r}")
    for name in ("epochs", "batch_size"):
        value = getattr(recipe, name)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return recipe


def learning_rate_schedule(recipe: Recipe, steps_per_epoch: int) -> Any:
    """The learning rate (a float or a `keras.optimizers.schedules` object) of `recipe`.

    Args:
        recipe: The `Recipe`.
        steps_per_epoch: Optimizer steps per epoch.

    Returns:
        A float or a schedule.
    """
    import keras

    total = max(1, recipe.epochs * steps_per_epoch)
    if recipe.schedule == "exponential":
        if recipe.final_learning_rate <= 0:
            return recipe.learning_rate
        rate = recipe.final_learning_rate / recipe.learning_rate
        return keras.optimizers.schedules.ExponentialDecay(recipe.learning_rate, total, rate)
    if recipe.schedule == "steps":
        boundaries = [e * steps_per_epoch for e in recipe.decay_epochs if e < recipe.epochs]
        values = [recipe.learning_rate * 0.1**i for i in range(len(boundaries) + 1)]
        if not boundaries:
            return recipe.learning_rate
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    if recipe.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, total)
    if recipe.schedule == "constant":
        return recipe.learning_rate
    raise ValueError(f"Unknown schedule {recipe.schedule!r} (exponential, steps, cosine, constant)")


def _bop_gamma(recipe: Recipe, steps_per_epoch: int) -> Any:
    import keras

    boundaries = [e * steps_per_epoch for e in recipe.decay_epochs if e < recipe.epochs]
    if not boundaries:
        return recipe.bop_gamma
    values = [recipe.bop_gamma * 0.1**i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimizer of `recipe`: Adam, Bop (binary weights) + Adam (the rest), or LAB.

    Args:
        recipe: The `Recipe`.
        steps_per_epoch: Optimizer steps per epoch (for the schedules).

    Returns:
        The optimizer.
    """
    import keras

    learning_rate = learning_rate_schedule(recipe, steps_per_epoch)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate)
    from keras_binary import optimizers

    if recipe.optimizer == "bop":
        from keras_binary.precision import is_binary_variable

        bop = optimizers.Bop(threshold=recipe.bop_threshold,
                             gamma=_bop_gamma(recipe, steps_per_epoch))
        return optimizers.CaseOptimizer(
            (is_binary_variable, bop), default_optimizer=keras.optimizers.Adam(learning_rate)
        )
    return optimizers.LAB(learning_rate)


def make_loss(recipe: Recipe) -> keras.losses.Loss:
    """Squared hinge on integer labels (BinaryNet, LAB) or sparse categorical cross-entropy.

    Args:
        recipe: The `Recipe`.

    Returns:
        The `keras.losses.Loss`.
    """
    import keras

    from model_zoo.losses import SparseSquaredHinge

    if recipe.loss == "squared_hinge":
        return SparseSquaredHinge()
    if recipe.loss == "crossentropy":
        return keras.losses.SparseCategoricalCrossentropy()
    raise ValueError(f"Unknown loss {recipe.loss!r} (squared_hinge, crossentropy)")


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Batches per epoch (the last, smaller batch included).

    Args:
        num_examples: Training examples.
        batch_size: Batch size.

    Returns:
        ceil(num_examples / batch_size), at least 1.

    Example:

    >>> steps_per_epoch(1000, 128)
    8
    """
    return max(1, math.ceil(num_examples / batch_size))

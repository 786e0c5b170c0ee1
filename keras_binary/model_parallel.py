"""Model parallelism on JAX with Keras's own `keras.distribution.ModelParallel`.

The large fully connected layers of BinaryNet (784/2048 -> 2048 units) and XNOR-Net (4096
filters, written as 6x6 and 1x1 convolutions) hold most of the weights. `model_parallel` splits
their kernels along the output axis over the ``"model"`` axis of a device mesh and splits each
batch over the ``"batch"`` axis (the remaining devices, data-parallel); XLA inserts the
communication. Optimizer state follows: Keras's optimizers, and the project's Bop, LAB and
CaseOptimizer, create each slot with its variable's layout (`add_variable_from_reference`).

The rule (`sharded_paths`): a layer's ``kernel`` of rank >= 2 whose last axis (units or filters)
is at least `MIN_UNITS` and divisible by the model-axis size is sharded on that axis, and so is
the same layer's bias. Everything else is replicated: BatchNormalization vectors, LAB's scales
and small layers hold ``units`` floats against the kernel's ``inputs * units``, so replicating
them costs little memory and keeps each layer's layout independent of the layers around it.

The rule needs the variables' shapes, and Keras applies a layout when a variable is created:
build the model once, make the distribution from it, then build the model again under it.
Across processes (after `keras_binary.distributed.connect`) the mesh spans all their devices in
order, so with one device per process the model axis splits a kernel across processes. Keras
3.15 cannot save such a variable (its saving reads each variable whole); the checkpoint
callbacks of `keras_binary.checkpointing` save a gathered copy instead (`keras_binary.host_copy`).
"""

from __future__ import annotations

import re

import keras

MIN_UNITS = 1024  # smaller layers stay replicated: splitting them saves little memory
MODEL_AXIS, BATCH_AXIS = "model", "batch"


def require_jax() -> None:
    """Raises a one-line ValueError naming the fix unless the backend is JAX.

    Raises:
        ValueError: the backend is not JAX.
    """
    backend = keras.backend.backend()
    if backend != "jax":
        raise ValueError(f"model parallelism runs on the jax backend only, not {backend}: set "
                         "KERAS_BACKEND=jax (or train data-parallel, without --model-parallel)")


def sharded_paths(model: keras.Model, model_devices: int,
                  min_units: int = MIN_UNITS) -> dict[str, int]:
    """The paths of `model`'s variables that `model_parallel` shards, with their rank.

    Args:
        model: A built model.
        model_devices: Devices on the model axis.
        min_units: The fewest output units (or filters) of a sharded kernel.

    Returns:
        ``{variable.path: rank}`` for each sharded kernel and its layer's bias.

    Example:

    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2048, name="big"),
    ...                           keras.layers.Dense(10, name="head")], name="mlp")
    >>> sharded_paths(model, 2)
    {'mlp/big/kernel': 2, 'mlp/big/bias': 1}
    """
    shapes = {variable.path: tuple(variable.shape) for variable in model.variables}
    paths: dict[str, int] = {}
    for path, shape in shapes.items():
        layer, _, name = path.rpartition("/")
        if name != "kernel" or len(shape) < 2 or shape[-1] < min_units or shape[-1] % model_devices:
            continue
        paths[path] = len(shape)
        if shapes.get(f"{layer}/bias") == shape[-1:]:
            paths[f"{layer}/bias"] = 1
    return paths


def model_parallel(model: keras.Model, model_devices: int, min_units: int = MIN_UNITS,
                   devices: list[str] | None = None) -> keras.distribution.ModelParallel:
    """A `keras.distribution.ModelParallel` splitting `model`'s large kernels over
    `model_devices` devices and each batch over the rest.

    The mesh is ``(len(devices) // model_devices, model_devices)`` with axes ``("batch",
    "model")``; the sharded variables are those of `sharded_paths`, each on its last axis.
    Set the distribution (`keras.distribution.set_distribution`), then build, compile and fit
    a fresh copy of the model: layouts apply to variables created afterwards. JAX only.

    Args:
        model: A built model of the architecture to train (only its shapes are read).
        model_devices: Devices on the model axis (>= 1), dividing the number of devices.
        min_units: The fewest output units (or filters) of a sharded kernel.
        devices: Devices of the mesh; None takes `keras.distribution.list_devices()`.

    Returns:
        The distribution.

    Raises:
        ValueError: not on JAX, `model_devices` does not divide the devices, or no kernel
            qualifies.

    Example:

    >>> probe = get_model("binarynet_mlp_2048")  # doctest: +SKIP
    >>> keras.distribution.set_distribution(model_parallel(probe, 2))  # doctest: +SKIP
    >>> model = get_model("binarynet_mlp_2048")  # kernels split in two  # doctest: +SKIP

    References:
        Shoeybi et al., "Megatron-LM: Training Multi-Billion Parameter Language Models Using
        Model Parallelism" (column-parallel linear layers), https://arxiv.org/abs/1909.08053
    """
    require_jax()
    devices = keras.distribution.list_devices() if devices is None else list(devices)
    if not isinstance(model_devices, int) or model_devices < 1 or len(devices) % model_devices:
        raise ValueError(f"the model axis of {model_devices!r} devices does not divide the "
                         f"{len(devices)} devices: choose a divisor of {len(devices)} "
                         "(CLI: --model-parallel)")
    paths = sharded_paths(model, model_devices, min_units)
    if not paths:
        raise ValueError(f"{model.name} has no kernel with >= {min_units} output units "
                         f"divisible by {model_devices}: nothing to split; train it "
                         "data-parallel (without --model-parallel)")
    mesh = keras.distribution.DeviceMesh((len(devices) // model_devices, model_devices),
                                         (BATCH_AXIS, MODEL_AXIS), devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    for path, rank in paths.items():  # keys are regexes: escaped, each matches its path only
        layout_map[re.escape(path)] = (None,) * (rank - 1) + (MODEL_AXIS,)
    return keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name=BATCH_AXIS)

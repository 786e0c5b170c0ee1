"""A small file format for trained BNNs: binary kernels packed at 1 bit, the rest as float32.

A file is a numpy ``.npz`` archive (read with ``allow_pickle=False``) holding, for the i-th
variable of ``model.weights``:

- a float variable: ``v{i}``, the float32 values;
- a binary variable (tagged with precision 1 by its layer, see `keras_binary.precision`):
  ``v{i}.bits``, ``numpy.packbits`` (big-endian bit order) of ``w < 0`` over the C-order
  flattened kernel, padded with 0 bits to a whole byte -- bit 1 means -1, bit 0 means +1, the
  convention of the popcount kernels -- and ``v{i}.scale``, float32 mean |w| per output channel
  (last axis). Loading restores ``w = scale * sign``, which every sign quantizer maps to the same
  values as the trained kernel (sign, MagnitudeAwareSign and XnorWeightScale alike).

``__meta__`` holds JSON: format name and version, model name, and each variable's path, shape and
kind. Saving checks that the restored kernel quantizes exactly like the original and stores the
variable as float otherwise (e.g. a quantizer whose output depends on more than the signs and
per-channel mean |w|).

Example:

>>> import keras, numpy as np, tempfile, os
>>> from keras_binary.precision import set_precision
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, use_bias=False)])
>>> set_precision(model.weights[0], 1)
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.npz")
>>> size = save_packed_weights(model, path, model_name="tiny")
>>> load_packed_weights(model, path)
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from keras_binary.npz_archive import encode_header, read_npz, write_npz
from keras_binary.precision import get_quantizer, is_binary_variable

FORMAT_NAME = "keras_binary.packed_weights"
FORMAT_VERSION = 1


class WeightsFileError(ValueError):
    """A weights file is corrupted, of another format, or does not fit the model."""


def _pack_sign(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bits of ``values < 0`` (1 = -1) and the per-last-axis mean |values|."""
    bits = np.packbits((values < 0).reshape(-1))
    axes = tuple(range(values.ndim - 1))
    scale = np.mean(np.abs(values), axis=axes) if axes else np.abs(values)
    return bits, scale.astype(np.float32)


def _unpack_sign(bits: np.ndarray, scale: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape))
    negative = np.unpackbits(bits, count=size).reshape(shape).astype(bool)
    return np.where(negative, -1.0, 1.0).astype(np.float32) * scale.astype(np.float32)


def _quantizes_alike(variable: Any, original: np.ndarray, restored: np.ndarray) -> bool:
    quantizer = get_quantizer(variable)
    if quantizer is None:  # tagged binary without a quantizer: sign is what matters
        return bool(np.array_equal(original < 0, restored < 0))
    a = keras.ops.convert_to_numpy(quantizer(original))
    b = keras.ops.convert_to_numpy(quantizer(restored))
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-7))


def pack_model_weights(model: keras.Model, model_name: str = "") -> dict[str, np.ndarray]:
    """The arrays of a packed weights file for ``model`` (see the module docstring).

    Args:
        model: The model whose `model.weights` are packed.
        model_name: Name recorded in the metadata.

    Returns:
        The arrays by name, `__meta__` included.
    """
    arrays: dict[str, np.ndarray] = {}
    entries = []
    for index, variable in enumerate(model.weights):
        values = np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32)
        kind = "float"
        if is_binary_variable(variable) and values.ndim >= 1:
            bits, scale = _pack_sign(values)
            if _quantizes_alike(variable, values, _unpack_sign(bits, scale, values.shape)):
                arrays[f"v{index}.bits"], arrays[f"v{index}.scale"] = bits, scale
                kind = "binary"
        if kind == "float":
            arrays[f"v{index}"] = values
        entries.append({"path": variable.path, "shape": list(values.shape), "kind": kind})
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "model": model_name or model.name,
        "variables": entries,
    }
    arrays["__meta__"] = encode_header(meta)
    return arrays


def save_packed_weights(
    model: keras.Model, path: str | os.PathLike, model_name: str = "", overwrite: bool = False
) -> int:
    """Writes ``model``'s weights to ``path`` (.npz) with binary kernels packed at 1 bit; returns
    the file size in bytes. Refuses to replace an existing file unless ``overwrite=True``.

    Args:
        model: The model whose `model.weights` are saved.
        path: Destination `.npz` file.
        model_name: Name recorded in the file's metadata.
        overwrite: Whether an existing file may be replaced.

    Returns:
        The size of the written file in bytes.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.

    Example:

    >>> save_packed_weights(model, "model.npz", model_name="binarynet_mlp_2048")  # doctest: +SKIP
    """
    return write_npz(path, pack_model_weights(model, model_name), compressed=True,
                     overwrite=overwrite)


def read_packed_weights(path: str | os.PathLike) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Reads a packed weights file: its metadata and the list of float32 arrays it restores.

    Args:
        path: A file written by `save_packed_weights`.

    Returns:
        `(metadata, arrays)`: the metadata dict and one float32 array per variable.

    Raises:
        WeightsFileError: the file is damaged, of another format, or its metadata lacks a field.
    """
    meta, arrays = read_npz(path, "__meta__", FORMAT_NAME, FORMAT_VERSION, WeightsFileError,
                            entries=("variables", ("path", "shape", "kind")))
    values = []
    for index, entry in enumerate(meta["variables"]):
        shape = tuple(entry["shape"])
        try:
            if entry["kind"] == "binary":
                value = _unpack_sign(arrays[f"v{index}.bits"], arrays[f"v{index}.scale"], shape)
            else:
                value = arrays[f"v{index}"].reshape(shape)
        except (KeyError, ValueError) as error:
            raise WeightsFileError(
                f"{path}: variable {index} ({entry['path']}) is damaged: {error}"
            ) from error
        values.append(value)
    return meta, values


def load_packed_weights(model: keras.Model, path: str | os.PathLike) -> None:
    """Assigns the weights stored in ``path`` to ``model``; refuses a file that does not fit.

    Args:
        model: A model of the architecture the file was saved from.
        path: A file written by `save_packed_weights`.

    Raises:
        WeightsFileError: the file is damaged or holds another architecture's weights.

    Example:

    >>> load_packed_weights(model, "model.npz")  # doctest: +SKIP
    """
    meta, values = read_packed_weights(path)
    variables = model.weights
    if len(values) != len(variables):
        raise WeightsFileError(
            f"{path} holds {len(values)} variables (model {meta.get('model')!r}) but the model "
            f"{model.name!r} has {len(variables)}: the file is for another architecture."
        )
    for variable, value, entry in zip(variables, values, meta["variables"], strict=True):
        if tuple(variable.shape) != value.shape:
            raise WeightsFileError(
                f"{path}: variable {entry['path']} has shape {value.shape} in the file but "
                f"{variable.path} has shape {tuple(variable.shape)} in the model "
                f"{model.name!r}: the file is for another architecture."
            )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value.astype(variable.dtype))

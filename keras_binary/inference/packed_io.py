"""Export/import of a converted model's weights: binary kernels as their packed int32 words
(1 bit per weight, 32x smaller than float32) and the float parameters as float32.

The file is an uncompressed ``.npz`` (read with ``allow_pickle=False``): ``w{i}`` is the i-th
weight of ``model.weights``; ``__header__`` holds JSON with the format name and version and,
per weight, its path, shape, dtype and sha256. Loading checks the format, every checksum and
that each shape fits the model, and raises `PackedFileError` naming the problem otherwise.

Example::

    fast = inference.convert(model)
    inference.export_packed(fast, "model.kbpack.npz")
    inference.load_packed(inference.convert(fresh_model), "model.kbpack.npz")
"""

from __future__ import annotations

import hashlib
import os

import keras
import numpy as np

from keras_binary.npz_archive import encode_header, read_npz, write_npz

FORMAT = "keras_binary.inference.packed"
VERSION = 1


class PackedFileError(ValueError):
    """A packed weights file is damaged, of another format, or does not fit the model."""


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def export_packed(model: keras.Model, path: str | os.PathLike, overwrite: bool = False) -> int:
    """Writes ``model``'s weights to ``path``; returns the file size in bytes.

    Refuses to replace an existing file unless ``overwrite=True``.

    Args:
        model: A model from `keras_binary.inference.convert`.
        path: Destination `.npz` file.
        overwrite: Whether an existing file may be replaced.

    Returns:
        The size of the written file in bytes.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.

    Example:

    >>> import keras, os, tempfile
    >>> from keras_binary import inference
    >>> from keras_binary.layers import QuantDense
    >>> model = keras.Sequential([keras.Input((64,)), QuantDense(
    ...     10, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)])
    >>> fast = inference.convert(model)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> size = inference.export_packed(fast, path)
    >>> inference.load_packed(inference.convert(model), path)
    """
    arrays, entries = {}, []
    for index, variable in enumerate(model.weights):
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        if value.dtype != np.int32:
            value = value.astype(np.float32)
        arrays[f"w{index}"] = value
        entries.append({"path": variable.path, "shape": list(value.shape),
                        "dtype": str(value.dtype), "sha256": _digest(value)})
    header = {"format": FORMAT, "version": VERSION, "model": model.name, "weights": entries}
    arrays["__header__"] = encode_header(header)
    return write_npz(path, arrays, overwrite=overwrite)


def read_packed(path: str | os.PathLike) -> tuple[dict, list[np.ndarray]]:
    """The header and the checked arrays of a packed weights file.

    Args:
        path: A file written by `export_packed`.

    Returns:
        `(header, arrays)`: the JSON header (format, version, per-weight dtype, shape and
        sha256) and the weights in `model.weights` order.

    Raises:
        PackedFileError: The file is damaged (a checksum differs), of another format, or its
            header lacks a field.
    """
    header, arrays = read_npz(path, "__header__", FORMAT, VERSION, PackedFileError,
                              entries=("weights", ("path", "shape", "dtype", "sha256")))
    values = []
    for index, entry in enumerate(header["weights"]):
        value = arrays.get(f"w{index}")
        if value is None or _digest(value) != entry["sha256"]:
            raise PackedFileError(
                f"{path}: weight {entry['path']} is missing or fails its sha256 check "
                "(the file is corrupted)"
            )
        values.append(value)
    return header, values


def load_packed(model: keras.Model, path: str | os.PathLike) -> None:
    """Assigns the weights in ``path`` to the converted ``model`` after checking every shape.

    Args:
        model: A converted model of the same architecture as the one exported.
        path: A file written by `export_packed`.

    Raises:
        PackedFileError: The file is damaged or does not fit the model (the message names the
            first weight that differs).
    """
    header, values = read_packed(path)
    variables = model.weights
    stored = [(entry["dtype"], list(value.shape)) for entry, value in
              zip(header["weights"], values, strict=True)]
    wanted = [(str(np.dtype(v.dtype)), list(v.shape)) for v in variables]
    if len(stored) != len(wanted):
        raise PackedFileError(
            f"{path} holds {len(stored)} weights (model {header.get('model')!r}) but "
            f"{model.name!r} has {len(wanted)}: the file is for another architecture"
        )
    for (dtype, shape), want, variable in zip(stored, wanted, variables, strict=True):
        if (dtype, shape) != want:
            raise PackedFileError(
                f"{path}: a weight stored as {dtype}{shape} does not fit {variable.path}, "
                f"{want[0]}{want[1]} in the model"
            )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)

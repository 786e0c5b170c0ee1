"""The image datasets known to the loaders: tfds name, version, and how to get them.

Example:
    >>> from model_zoo.datasets.catalog import dataset_spec
    >>> dataset_spec("mnist").version, dataset_spec("mnist").offline
    ('3.0.1', True)
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from model_zoo.datasets.paths import resolve_data_dir


class DatasetNotPreparedError(FileNotFoundError):
    """The dataset is not in the data dir and no download was asked for."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A tfds dataset: its registered ``version`` (tfds 4.9.10), splits and image shape.

    Args:
        name: tfds name.
        version: Registered tfds version.
        splits: Split names.
        image_shape: Shape of one image.
        num_classes: Number of classes.
        offline: Whether `prepare` builds it without internet.
        note: How to get it when it is not offline.
    """

    name: str
    version: str
    splits: tuple[str, ...]
    image_shape: tuple[int | None, ...]
    num_classes: int
    offline: bool  # True where `prepare` can build it without internet
    note: str = ""

    def prepared_dir(self, data_dir: str | os.PathLike | None = None) -> Path:
        return resolve_data_dir(data_dir) / self.name / self.version


DATASETS = {
    spec.name: spec
    for spec in (
        DatasetSpec("mnist", "3.0.1", ("train", "test"), (28, 28, 1), 10, True),
        DatasetSpec("fashion_mnist", "3.0.1", ("train", "test"), (28, 28, 1), 10, True),
        DatasetSpec(
            "cifar10",
            "3.0.2",
            ("train", "test"),
            (32, 32, 3),
            10,
            False,
            "tfds downloads it from www.cs.toronto.edu (163 MB).",
        ),
        DatasetSpec(
            "svhn_cropped",
            "3.1.0",
            ("train", "test", "extra"),
            (32, 32, 3),
            10,
            False,
            "tfds downloads it from ufldl.stanford.edu (1.4 GB with 'extra').",
        ),
        DatasetSpec(
            "imagenet2012",
            "5.1.0",
            ("train", "validation"),
            (None, None, 3),
            1000,
            False,
            "tfds cannot download it: put ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar into "
            "<data_dir>/downloads/manual/ first (see the tfds imagenet2012 page).",
        ),
    )
}


def dataset_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` for a tfds name; ValueError naming the known ones otherwise.

    Args:
        name: A tfds dataset name, a key of `DATASETS`.

    Returns:
        Its `DatasetSpec` (version, splits, image shape, classes, offline flag).

    Raises:
        ValueError: an unknown name (the message lists the known ones).

    Example:

    >>> dataset_spec("mnist").image_shape
    (28, 28, 1)
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def is_prepared(name: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether tfds's files for ``name`` (at its registered version) are in the data dir.

    Args:
        name: A tfds dataset name.
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.

    Returns:
        Whether `tfds.load(name, data_dir=..., download=False)` will find it.

    Example:

    >>> is_prepared("mnist")  # doctest: +SKIP
    True
    """
    return (dataset_spec(name).prepared_dir(data_dir) / "dataset_info.json").is_file()


def not_prepared_error(
    name: str, data_dir: str | os.PathLike | None = None
) -> DatasetNotPreparedError:
    """The error (with the exact command to run) for a dataset missing from the data dir.

    Args:
        name: Data set name.
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.

    Returns:
        The `DatasetNotPreparedError`.
    """
    spec = dataset_spec(name)
    where = resolve_data_dir(data_dir)
    head = f"Dataset {name!r} (tfds version {spec.version}) is not prepared in {where}."
    if spec.offline:
        return DatasetNotPreparedError(
            f"{head} Prepare it offline (no internet needed) with:\n"
            f"    python -m model_zoo.datasets prepare {name} --data-dir {where}\n"
            "or call model_zoo.datasets.prepare(name, data_dir=...) first."
        )
    return DatasetNotPreparedError(
        f"{head} There is no offline source for it. {spec.note} On a machine with internet run:\n"
        f"    python -m model_zoo.datasets prepare {name} --download --data-dir {where}\n"
        "or pass download=True to the loader; then copy the folder "
        f"{where / name} to this machine if needed."
    )

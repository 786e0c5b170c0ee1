"""Offline-capable data layer: tfds image datasets, real MNIST slices and character corpora.

Importing this package never imports TensorFlow; loaders import it (and tensorflow_datasets) lazily.

Example:
    >>> from model_zoo import datasets
    >>> datasets.prepare("mnist")  # doctest: +SKIP
    >>> train = datasets.load("mnist", "train", batch_size=128, flatten=True)  # doctest: +SKIP
    >>> x_train, y_train, x_test, y_test = datasets.mnist_slice(1000, 200)  # doctest: +SKIP
"""

from model_zoo.datasets.catalog import (
    DATASETS,
    DatasetNotPreparedError,
    dataset_spec,
    is_prepared,
)
from model_zoo.datasets.char_sequences import char_dataset, split_bounds
from model_zoo.datasets.checksums import ChecksumMismatchError
from model_zoo.datasets.cli import main
from model_zoo.datasets.idx import IdxFormatError
from model_zoo.datasets.images import load, load_numpy
from model_zoo.datasets.prepare import ensure_prepared, prepare
from model_zoo.datasets.raw_arrays import raw_arrays
from model_zoo.datasets.slices import mnist_slice
from model_zoo.datasets.text import TEXT_CORPORA, load_text_corpus
from model_zoo.datasets.vocabulary import CharVocabulary

__all__ = [
    "DATASETS",
    "TEXT_CORPORA",
    "CharVocabulary",
    "ChecksumMismatchError",
    "DatasetNotPreparedError",
    "IdxFormatError",
    "char_dataset",
    "dataset_spec",
    "is_prepared",
    "load",
    "load_numpy",
    "load_text_corpus",
    "main",
    "mnist_slice",
    "ensure_prepared",
    "prepare",
    "raw_arrays",
    "split_bounds",
]

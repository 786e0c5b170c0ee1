"""keras-binary: binarized neural networks for Keras 3 (TensorFlow and JAX backends)."""

from keras_binary import precision, quantizers

__version__ = "0.1.0"

__all__ = ["precision", "quantizers"]

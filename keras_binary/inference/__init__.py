"""Binary inference: convert a trained model to packed weights and popcount kernels, or export
it to Larq Compute Engine (`export_lce`) for ARM devices.

Example:

>>> import keras
>>> from keras_binary import inference
>>> from keras_binary.layers import QuantDense
>>> model = keras.Sequential([keras.Input((64,)), QuantDense(
...     10, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)])
>>> fast = inference.convert(model)
>>> [type(layer).__name__ for layer in fast.layers]
['InputLayer', 'BinaryDenseInference']
"""

from keras_binary.inference.binary_conv2d import BinaryConv2DInference
from keras_binary.inference.binary_dense import BinaryDenseInference
from keras_binary.inference.convert import convert
from keras_binary.inference.converted_model import ConvertedModel
from keras_binary.inference.float_conv2d import FloatConv2DInference
from keras_binary.inference.lce_export import export_lce, lce_binary_layers
from keras_binary.inference.lce_verify import lce_op_histogram, lce_predict
from keras_binary.inference.onnx_export import export_onnx
from keras_binary.inference.onnx_runtime import onnx_session, ort_library_path, register_ops
from keras_binary.inference.ort_format import export_ort_format
from keras_binary.inference.packed_io import (
    PackedFileError,
    export_packed,
    load_packed,
    read_packed,
)
from keras_binary.inference.packed_pooling import PackedMaxPooling2D
from keras_binary.inference.sliced_pooling import SlicedMaxPooling2D
from keras_binary.inference.speed import compare_speed, time_predict

__all__ = [
    "BinaryConv2DInference",
    "BinaryDenseInference",
    "ConvertedModel",
    "FloatConv2DInference",
    "PackedFileError",
    "PackedMaxPooling2D",
    "SlicedMaxPooling2D",
    "compare_speed",
    "convert",
    "export_onnx",
    "export_ort_format",
    "export_lce",
    "export_packed",
    "lce_binary_layers",
    "lce_op_histogram",
    "lce_predict",
    "load_packed",
    "onnx_session",
    "ort_library_path",
    "read_packed",
    "register_ops",
    "time_predict",
]

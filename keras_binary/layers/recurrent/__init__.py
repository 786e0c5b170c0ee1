"""Quantized recurrent layers: cells for `keras.layers.RNN` and ready-made RNN layers.

>>> from keras_binary.layers.recurrent import QuantLSTM
>>> lstm = QuantLSTM(16, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign")
"""

from keras_binary.layers.recurrent.lstm import QuantLSTM
from keras_binary.layers.recurrent.lstm_cell import QuantLSTMCell

__all__ = ["QuantLSTM", "QuantLSTMCell"]

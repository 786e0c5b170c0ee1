"""Quantized recurrent layers: cells for `keras.layers.RNN` and ready-made RNN layers.

>>> from keras_binary.layers.recurrent import QuantLSTM
>>> lstm = QuantLSTM(16, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign",
...                  kernel_constraint="weight_clip", recurrent_constraint="weight_clip")
"""

from keras_binary.layers.recurrent.gru import QuantGRU
from keras_binary.layers.recurrent.gru_cell import QuantGRUCell
from keras_binary.layers.recurrent.lstm import QuantLSTM
from keras_binary.layers.recurrent.lstm_cell import QuantLSTMCell
from keras_binary.layers.recurrent.simple_rnn import QuantSimpleRNN
from keras_binary.layers.recurrent.simple_rnn_cell import QuantSimpleRNNCell

__all__ = [
    "QuantGRU",
    "QuantGRUCell",
    "QuantLSTM",
    "QuantLSTMCell",
    "QuantSimpleRNN",
    "QuantSimpleRNNCell",
]

"""Character-level LSTM language model of the LAB paper (Hou, Yao & Kwok, ICLR 2017), with its
weight-binarization variants, and text sampling.

One-hot characters -> one LSTM layer -> dense softmax over the vocabulary. The one-hot inputs are
never binarized. Variants (`VARIANTS`):

- "full": full precision.
- "binaryconnect": sign(W) for the LSTM's input and recurrent weights.
- "bwn": alpha * sign(W) with alpha = mean |W| per matrix (Binary Weight Networks).
- "lab": loss-aware binarization, alpha set by the `LAB` optimizer from Adam's second moment.
- "lab2": LAB weights and a binarized (sign) hidden state entering the recurrent product.

As in the paper's implementation, only the LSTM's weights are binarized: the softmax output
layer stays full precision, as the first and last layers of most BNNs do.
`binarize_output=True` binarizes it too, with the LSTM's weight mode (one alpha for the whole
matrix, or per vocabulary entry with `scale="unit"`); with alpha = 1 (BinaryConnect) its logits
are sums of `units` terms of +/-h, too large for a softmax, and training diverges.

`scale="gate"` (default) gives one alpha per matrix, and "per matrix" means per gate: the LSTM
kernels hold the four gates' matrices side by side, and each gets its own alpha
(`LossAwareBinarizer(groups=4)`), as in the paper's implementation, where every gate's input and
hidden weights are separate matrices. `scale="unit"` gives every output unit (kernel column) its
own alpha, as XNOR-Net's per-channel scales; LAB's closed form is the same computed over each
column, since the proximal step separates over any partition of the weights into scale blocks.
A per-column scale costs nothing at inference: it folds into the output transform.

The binarized variants all use `keras_binary.quantizers.LossAwareBinarizer` (modes
"binary_connect", "bwn", "lab") and train with `keras_binary.optimizers.LAB`, which is Adam with
weights clipped to [-1, 1] plus, in "lab" mode, the closed-form scale: the variants differ only in
alpha, as in the paper.

Example:

>>> model = build_char_lstm(vocab_size=40, variant="binaryconnect", units=16)
>>> model.output_shape
(None, None, 40)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_binary.layers import QuantDense
from keras_binary.layers.recurrent import QuantLSTM
from keras_binary.quantizers import LossAwareBinarizer

# where binarized weights get their own alpha: per gate matrix (the paper's) or per output unit
SCALES = ("gate", "unit")

# variant -> (LossAwareBinarizer mode of the weights, hidden-state quantizer alias)
VARIANTS: dict[str, tuple[str | None, str | None]] = {
    "full": (None, None),
    "binaryconnect": ("binary_connect", None),
    "bwn": ("bwn", None),
    "lab": ("lab", None),
    "lab2": ("lab", "ste_sign"),
}


def _weight_quantizer(mode: str | None, groups: int = 1) -> LossAwareBinarizer | None:
    """A new instance per kernel: alpha belongs to one kernel (one per block of `groups`)."""
    return None if mode is None else LossAwareBinarizer(mode=mode, groups=groups)


def build_char_lstm(
    vocab_size: int,
    variant: str = "full",
    units: int = 512,
    init_scale: float = 0.08,
    scale: str = "gate",
    binarize_output: bool = False,
) -> keras.Model:
    """The LAB paper's char-LSTM: ids (batch, time) -> next-character logits (batch, time, vocab).

    Weights start from U[-init_scale, init_scale]; binarized variants clip latent LSTM weights to
    [-1, 1] (`weight_clip`) and have one alpha per gate matrix (`scale="gate"`, the paper's) or
    per output unit (`scale="unit"`). The output layer is full precision unless
    `binarize_output` (the paper keeps it full precision). Train with
    `keras_binary.optimizers.LAB` (needed for "lab"/"lab2"; Adam for everything else) and sparse
    categorical cross-entropy on the logits.

    Args:
        vocab_size: Number of characters.
        variant: A key of `VARIANTS`: "full", "binaryconnect", "bwn", "lab" or "lab2".
        units: LSTM cells.
        init_scale: Half-width of the uniform initializer.
        scale: "gate" or "unit", the granularity of alpha.
        binarize_output: Whether to binarize the output layer too.

    Returns:
        The `keras.Model`.
    """
    if variant not in VARIANTS:
        raise ValueError(f"Unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}; known: {', '.join(SCALES)}")
    if not isinstance(vocab_size, int) or vocab_size < 2:
        raise ValueError(f"vocab_size must be an int >= 2, got {vocab_size!r}")
    weight_mode, hidden_q = VARIANTS[variant]
    init = keras.initializers.RandomUniform(-init_scale, init_scale)
    clip = "weight_clip" if weight_mode else None
    lstm_groups, logits_groups = (4, 1) if scale == "gate" else (4 * units, vocab_size)
    ids = keras.Input((None,), dtype="int32", name="char_ids")
    x = keras.layers.CategoryEncoding(vocab_size, output_mode="one_hot", name="one_hot")(ids)
    x = QuantLSTM(
        units,
        return_sequences=True,
        kernel_quantizer=_weight_quantizer(weight_mode, groups=lstm_groups),
        recurrent_quantizer=_weight_quantizer(weight_mode, groups=lstm_groups),
        recurrent_input_quantizer=hidden_q,
        kernel_initializer=init,
        recurrent_initializer=init,
        kernel_constraint=clip,
        recurrent_constraint=clip,
        name="lstm",
    )(x)
    output_mode = weight_mode if binarize_output else None
    logits = QuantDense(
        vocab_size,
        kernel_quantizer=_weight_quantizer(output_mode, groups=logits_groups),
        kernel_initializer=init,
        kernel_constraint="weight_clip" if output_mode else None,
        name="logits",
    )(x)
    return keras.Model(ids, logits, name=f"char_lstm_{variant}")


def sample_text(
    model: keras.Model,
    encode: Any,
    decode: Any,
    prime: str,
    length: int = 300,
    temperature: float = 0.8,
    window: int = 100,
    seed: int = 0,
) -> str:
    """Generates `length` characters after `prime`, each from the model's softmax at
    `temperature` given the last `window` characters (`encode`: str -> ids, `decode`: ids -> str).

    Args:
        model: A trained char-LSTM.
        encode: str -> ids.
        decode: ids -> str.
        prime: Text to start from.
        length: Characters to generate.
        temperature: Softmax temperature.
        window: Characters of context.
        seed: Sampling seed.

    Returns:
        The generated text (without `prime`).
    """
    if not prime:
        raise ValueError("prime must be a non-empty string")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    rng = np.random.default_rng(seed)
    ids = list(np.asarray(encode(prime)).tolist())
    for _ in range(length):
        context = np.asarray(ids[-window:], "int32")[None]
        logits = np.asarray(ops.convert_to_numpy(model(context, training=False)))[0, -1]
        logits = logits.astype("float64") / temperature
        probs = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return decode(np.asarray(ids[len(prime) :], "int32"))

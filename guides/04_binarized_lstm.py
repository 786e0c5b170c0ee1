"""Guide 4: a binarized character-level LSTM on Linux kernel source text (LAB vs BinaryConnect).

Run: python guides/04_binarized_lstm.py; python guides/render.py renders it.
"""

# %% [markdown]
# # 4. A binarized LSTM language model
#
# Recurrent networks are where naive binarization hurts most: the same binary matrices are
# applied at every time step, and errors compound. The LAB paper (Hou, Yao & Kwok, ICLR 2017)
# showed that BinaryConnect (plain `sign(W)`) LSTMs fail on character-level language modelling,
# while loss-aware binarization (`alpha * sign(W)` with a Hessian-aware scale) stays close to
# full precision.
#
# This guide trains the paper's model -- one-hot characters, one `QuantLSTM` layer, a softmax
# over the vocabulary -- on real Linux kernel source (the kernel headers shipped by Debian's
# `linux-libc-dev`, via `model_zoo.datasets.load_text_corpus("linux")`), in three variants:
# full precision, BinaryConnect and LAB, and then generates text with the LAB model.

# %%
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from guide_utils import fast_or_full, mode_name, save_figure

from keras_binary.optimizers import LAB
from model_zoo.datasets import CharVocabulary, char_dataset, load_text_corpus
from model_zoo.models.char_lstm import build_char_lstm, sample_text

print("backend:", keras.backend.backend(), "| mode:", mode_name())
corpus = load_text_corpus("linux")
vocab = CharVocabulary.from_text(corpus)
text = corpus[: fast_or_full(60_000, 1_000_000)]
units, seq_len, batch_size = fast_or_full((64, 50, 32), (512, 100, 50))
epochs = fast_or_full(2, 20)
print(
    f"corpus: {len(corpus):,} characters, vocabulary of {vocab.size}; using the first {len(text):,}"
)
print(f"LSTM units {units}, sequence length {seq_len}, batch {batch_size}, {epochs} epochs")
print("a piece of the training text:\n" + text[2000:2300])

# %% [markdown]
# ## Data
#
# `char_dataset` cuts the text into contiguous 90/5/5 train/validation/test parts and
# non-overlapping windows; the target of each character is the next one.

# %%
data = {
    split: char_dataset(text, seq_len, batch_size, split, vocabulary=vocab)
    for split in ("train", "valid", "test")
}
for split, (inputs, _) in data.items():
    print(f"{split:5s}: {inputs.shape[0]} windows of {inputs.shape[1]} characters")

# %% [markdown]
# ## Three variants of one model
#
# `model_zoo.models.char_lstm.build_char_lstm` builds the model. Its binarized variants give
# the LSTM's weight matrices (input kernel and recurrent kernel) a `LossAwareBinarizer` whose
# mode picks the scale: `"binary_connect"` uses `sign(W)` and `"lab"` uses `alpha * sign(W)`,
# with `alpha` set by the `LAB` optimizer (one `alpha` per gate: `LossAwareBinarizer(groups=4)`).
# The softmax output layer stays full precision, as in the paper's implementation
# (`binarize_output=True` binarizes it too). All variants train with `LAB`
# (Adam on everything else, gradients clipped as in the paper), so they differ only in the
# binarization.

# %%
names = {"full": "full precision", "binaryconnect": "BinaryConnect", "lab": "LAB"}
models, histories = {}, {}
for variant, label in names.items():
    keras.utils.set_random_seed(0)
    model = build_char_lstm(vocab.size, variant, units=units)
    model.compile(
        optimizer=LAB(learning_rate=0.002 * fast_or_full(5, 1), clipvalue=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(
        *data["train"],
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        validation_data=data["valid"],
        verbose=0,
    )
    test_ce = float(model.evaluate(*data["test"], batch_size=batch_size, verbose=0))
    models[variant], histories[variant] = model, history.history
    print(
        f"{label:15s} validation cross-entropy per epoch (nats/char): "
        + ", ".join(f"{v:.3f}" for v in history.history["val_loss"])
        + f" | test: {test_ce:.3f} nats = {test_ce / math.log(2):.3f} bits per character"
    )

# %% [markdown]
# The fast mode raises the learning rate (it is printed with the optimizer config below) so the
# models get somewhere in a few short epochs; the full run uses the paper's rate.

# %%
print(f"learning rate used: {float(models['lab'].optimizer.learning_rate):g}")
uniform = math.log(vocab.size)
print(f"for scale: a uniform guess over the vocabulary costs {uniform:.3f} nats per character")

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
for variant, label in names.items():
    values = histories[variant]["val_loss"]
    ax.plot(np.arange(1, len(values) + 1), values, "o-", label=label)
ax.set(
    xlabel="epoch",
    ylabel="validation cross-entropy (nats/char)",
    title="Char-LSTM on kernel source",
)
ax.set_xticks(np.arange(1, epochs + 1))
ax.legend()
save_figure(fig, "04_char_lstm")

# %% [markdown]
# ## What the binarized weights look like
#
# In the LAB model every LSTM weight matrix is `alpha * sign(W)`, each entry plus or minus its
# scale. The LSTM kernels hold the four gates' matrices side by side (input, forget, cell,
# output), and each gate has its own `alpha`, as in the paper's implementation: four scales,
# eight values.

# %%
lab_model = models["lab"]
lstm = lab_model.get_layer("lstm")
cell = lstm.cell
effective = keras.ops.convert_to_numpy(cell.kernel_quantizer(cell.kernel))
print("LSTM input kernel shape:", effective.shape)
print("distinct values:", np.unique(np.round(effective, 6)).tolist())
print("alpha per gate:", np.round(keras.ops.convert_to_numpy(cell.kernel_quantizer.alpha), 4))

# %% [markdown]
# ## Generating text
#
# `sample_text` feeds the model its own predictions, one character at a time, drawn from its
# softmax at a temperature below one (printed), starting from a piece of the test text. In fast
# mode the model has seen little text, so expect kernel-flavoured noise; the full-length run
# produces recognisable C.

# %%
start = int(len(text) * 0.95)
prime = text[start : start + seq_len]
temperature = 0.8
sample = sample_text(
    lab_model,
    vocab.encode,
    vocab.decode,
    prime,
    length=fast_or_full(120, 600),
    temperature=temperature,
    window=seq_len,
)
print(f"temperature {temperature}")
print(f"prime: {prime!r}\n--- LAB model continues ---\n{sample}")

"""Guide 2: Bop vs latent-weight Adam vs LAB on the same binarized MLP, with flip ratios.

Run: python guides/02_optimizers.py; python guides/render.py guides/02_optimizers.py renders it.
"""

# %% [markdown]
# # 2. Optimizers for binary weights: Adam, Bop and LAB
#
# A binary weight can only flip its sign, so "how to update it" is a design choice:
#
# - **Latent-weight Adam** (BinaryConnect/BinaryNet): keep a real weight, use its sign in the
#   forward pass, update the real weight with Adam through the straight-through gradient, clip
#   it to [-1, 1] with `WeightClip`.
# - **Bop** (Helwegen et al., 2019): no latent weights. Keep an exponential moving average `m`
#   of the gradient (rate `gamma`) and flip a weight when `m` persistently pushes against it
#   (`w * m > threshold`). The non-binary variables (batch norm) use Adam, routed by
#   `CaseOptimizer`.
# - **LAB** (Hou, Yao & Kwok, 2017): loss-aware binarization. The kernel is `alpha * sign(w)`
#   and the optimizer picks the per-layer scale `alpha` from Adam's second moment (a diagonal
#   Hessian estimate) in closed form. Layers ask for it with `kernel_quantizer="lab"`.
#
# All three train the *same* network here, a binarized MLP whose hidden activations are binary
# too, on the same real MNIST slice. `keras_binary.metrics.FlipRatio` records which fraction of
# the binary weights changed sign at each step.

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
from guide_utils import fast_or_full, mode_name, save_figure

from keras_binary.layers import QuantDense
from keras_binary.metrics import FlipRatio
from keras_binary.optimizers import LAB, Bop, CaseOptimizer, is_binary_variable
from model_zoo.datasets import mnist_slice

print("backend:", keras.backend.backend(), "| mode:", mode_name())
n_train, n_test = fast_or_full((2000, 500), (60000, 10000))
epochs = fast_or_full(3, 20)
units = fast_or_full(256, 1024)
x_train, y_train, x_test, y_test = mnist_slice(n_train, n_test, flatten=True)
print(f"{len(x_train)} training and {len(x_test)} test images, {epochs} epochs, {units} units")

# %% [markdown]
# ## One model builder, three weight quantizers
#
# The only difference between the models is the kernel quantizer: `ste_sign` for latent-weight
# Adam and for Bop, and `"lab"` (a `LossAwareBinarizer`) for LAB. Every binary kernel carries
# `WeightClip`: it bounds Adam's latent weights, and it is a no-op for Bop (whose weights are
# exactly +/-1) and for LAB (which clips its latent weights itself). The first layer sees real
# pixels; the later layers binarize their inputs with `input_quantizer="ste_sign"`.


# %%
def build_mlp(kernel_quantizer):
    keras.utils.set_random_seed(1)
    kernel = dict(
        kernel_quantizer=kernel_quantizer, kernel_constraint="weight_clip", use_bias=False
    )
    binary_in = dict(input_quantizer="ste_sign", **kernel)
    return keras.Sequential(
        [
            keras.Input((784,)),
            QuantDense(units, **kernel),
            keras.layers.BatchNormalization(momentum=0.9),
            QuantDense(units, **binary_in),
            keras.layers.BatchNormalization(momentum=0.9),
            QuantDense(10, **binary_in),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.Activation("softmax"),
        ]
    )


bop = Bop(threshold=1e-6, gamma=1e-3)
setups = {
    "Adam (latent weights)": (
        lambda: build_mlp("ste_sign"),
        lambda: keras.optimizers.Adam(1e-2),
    ),
    "Bop + Adam": (
        lambda: build_mlp("ste_sign"),
        lambda: CaseOptimizer(
            (is_binary_variable, bop), default_optimizer=keras.optimizers.Adam(1e-2)
        ),
    ),
    "LAB": (lambda: build_mlp("lab"), lambda: LAB(learning_rate=1e-2)),
}

# %% [markdown]
# `Bop` here uses a larger `gamma` and threshold than its defaults (tuned in the paper for
# hundreds of epochs) because the fast mode trains for few steps; both are printed below.

# %%
results = {}
for name, (make_model, make_optimizer) in setups.items():
    model = make_model()
    optimizer = make_optimizer()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    flips = FlipRatio()
    per_step = []
    collect = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs, out=per_step, f=flips: out.extend(f.ratios)
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=100,
        epochs=epochs,
        validation_data=(x_test, y_test),
        callbacks=[flips, collect],
        verbose=0,
    )
    results[name] = (history.history, np.array(per_step))
    print(
        f"{name:22s} test accuracy per epoch: "
        + ", ".join(f"{a:.3f}" for a in history.history["val_accuracy"])
        + f" | mean flip ratio in the last epoch: {history.history['flip_ratio'][-1]:.5f}"
    )
print(f"Bop hyperparameters used: threshold={float(bop.threshold):g}, gamma={float(bop.gamma):g}")
defaults = Bop()
print(f"Bop defaults: threshold={float(defaults.threshold):g}, gamma={float(defaults.gamma):g}")

# %% [markdown]
# ## Curves
#
# Left: test accuracy after each epoch. Right: the flip ratio of every training step (log
# scale): how many binary weights each optimizer actually changes, step by step. In fast mode the
# curves are short and noisy; the full-length run shows the longer-term trends.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
for name, (hist, per_step) in results.items():
    left.plot(np.arange(1, epochs + 1), hist["val_accuracy"], "o-", label=name)
    right.plot(np.arange(1, len(per_step) + 1), np.maximum(per_step, 1e-6), label=name, lw=1)
left.set(xlabel="epoch", ylabel="test accuracy", title="Accuracy")
left.set_xticks(np.arange(1, epochs + 1))
right.set(
    xlabel="training step",
    ylabel="flip ratio",
    yscale="log",
    title="Binary weights flipped per step",
)
left.legend()
fig.tight_layout()
save_figure(fig, "02_optimizers")

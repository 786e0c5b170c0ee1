"""Guide 3: every quantizer's forward function and pseudo-gradient, in one figure.

Run: python guides/03_quantizers.py; python guides/render.py guides/03_quantizers.py renders it.
"""

# %% [markdown]
# # 3. Quantizers: forward pass and pseudo-gradient
#
# A quantizer maps real values to a few levels. Its true derivative is zero almost everywhere,
# so each quantizer defines a *pseudo-gradient* for the backward pass instead. This guide
# evaluates every quantizer of `keras_binary.quantizers` on a sweep of inputs and takes the
# gradient with the backend's own autodiff, so the curves are what training really uses.
#
# Each quantizer has a `precision` attribute in bits; quantized layers tag their kernels with
# it, and the summary, the optimizers and the inference converter read that tag.

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
from guide_utils import save_figure

from keras_binary import quantizers

print("backend:", keras.backend.backend())

# %% [markdown]
# ## Gradients on every backend
#
# Keras 3 has no backend-neutral `grad` function, so this is the one place where the code
# depends on the backend: `jax.vjp` on JAX, `torch.autograd` on PyTorch, `tf.GradientTape` on
# TensorFlow. With an upstream gradient of ones, the vector-Jacobian product of an elementwise
# quantizer is its derivative at every point of the sweep.


# %%
def forward_and_gradient(fn, x):
    """(fn(x), d sum(fn(x)) / dx) as numpy arrays on the current backend."""
    if keras.backend.backend() == "jax":
        import jax

        y, pullback = jax.vjp(fn, x)
        return np.asarray(y), np.asarray(pullback(np.ones_like(x))[0])
    if keras.backend.backend() == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        y = fn(x)
        (gradient,) = torch.autograd.grad(y.sum(), x)
        return y.detach().cpu().numpy(), gradient.cpu().numpy()
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return np.asarray(y), np.asarray(tape.gradient(y, x))


# %% [markdown]
# ## The quantizers
#
# The scaled weight quantizers (`MagnitudeAwareSign`, `XnorWeightScale`) multiply the sign by
# the mean absolute value of each output channel (the last axis); the sweep is shaped as one
# channel, so their scale is the mean |x| of the whole sweep. `XnorWeightScale` lets the
# gradient flow through that scale too, which tilts its gradient; `MagnitudeAwareSign` stops it.

# %%
catalog = {
    "SteSign": quantizers.SteSign(),
    "ApproxSign": quantizers.ApproxSign(),
    "SwishSign (beta=5)": quantizers.SwishSign(),
    "SteHeaviside": quantizers.SteHeaviside(),
    "MagnitudeAwareSign": quantizers.MagnitudeAwareSign(),
    "XnorWeightScale": quantizers.XnorWeightScale(),
    "SteTern": quantizers.SteTern(),
    "DoReFa (2-bit activations)": quantizers.DoReFa(k_bit=2, mode="activations"),
    "DoReFa (2-bit weights)": quantizers.DoReFa(k_bit=2, mode="weights"),
    "NoOp (8-bit tag)": quantizers.NoOp(precision=8),
}
x = np.linspace(-2.0, 2.0, 801, dtype="float32").reshape(-1, 1)
curves = {name: forward_and_gradient(q, x) for name, q in catalog.items()}

probe = [-1.5, -0.5, 0.0, 0.25, 0.5, 1.5]
index = [int(np.argmin(np.abs(x[:, 0] - p))) for p in probe]
print(f"{'quantizer':28s} {'bits':>4s}  " + "  ".join(f"x={p:<5}" for p in probe))
for name, (y, g) in curves.items():
    bits = catalog[name].precision
    print(f"{name:28s} {bits:>4d}  q(x):  " + "  ".join(f"{y[i, 0]:+.3f}" for i in index))
    print(f"{'':28s} {'':>4s}  dq/dx: " + "  ".join(f"{g[i, 0]:+.3f}" for i in index))

# %% [markdown]
# The table above lists each quantizer's precision and its value and pseudo-gradient at a few
# inputs; the figure below shows the full curves (solid: forward, dashed: pseudo-gradient).

# %%
fig, axes = plt.subplots(2, 5, figsize=(16, 6.2), sharex=True)
for ax, (name, (y, g)) in zip(axes.ravel(), curves.items(), strict=True):
    ax.plot(x[:, 0], y[:, 0], color="tab:blue", lw=2, label="forward q(x)")
    ax.plot(x[:, 0], g[:, 0], color="tab:orange", ls="--", lw=1.5, label="pseudo-gradient")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(f"{name}\nprecision {catalog[name].precision} bit(s)", fontsize=10)
    ax.set_ylim(-2.2, max(2.7, 1.1 * float(g.max())))
for ax in axes[1]:
    ax.set_xlabel("x")
axes[0, 0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
save_figure(fig, "03_quantizers")

# %% [markdown]
# ## Using a quantizer
#
# Anywhere a layer takes a quantizer you may pass an instance, a config dict or a string alias.
# `keras_binary.quantizers.get` resolves all of them; `serialize`/`deserialize` round-trip them.

# %%
aliases = sorted(quantizers.ALIASES)
print("string aliases:", ", ".join(aliases))
q = quantizers.get("approx_sign")
config = quantizers.serialize(quantizers.SteSign(clip_value=1.3))
print("serialized:", config)
print("round trip:", quantizers.deserialize(config))
print("resolved alias:", type(q).__name__, "with precision", q.precision)

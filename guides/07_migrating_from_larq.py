"""Guide 7: migrating a Larq (tf.keras 2) project to keras-binary (Keras 3).

Run: python guides/07_migrating_from_larq.py; python guides/render.py renders it.
"""

# ruff: noqa: E501 (Markdown table rows are one line each)

# %% [markdown]
# # 7. Migrating from Larq
#
# Larq is built on tf.keras 2 and relies on private tf.keras hooks, so it does not import under
# Keras 3. keras-binary keeps Larq's vocabulary (quantized layers with `input_quantizer` and
# `kernel_quantizer`, quantizer aliases such as `"ste_sign"`, `WeightClip`, `Bop`,
# `CaseOptimizer`, a summary of parameters and MACs per precision) on public Keras 3 APIs, runs
# on TensorFlow and JAX, and adds recurrent layers, LAB and x86 popcount inference.
#
# ## Every Larq 0.14 name, side by side
#
# `import larq as lq` becomes `import keras_binary as kb`, and `tf.keras` becomes `keras` (set
# `KERAS_BACKEND` to `tensorflow` or `jax`). The table lists every public name of `larq` 0.14
# (its modules `layers`, `layers_base`, `quantizers`, `optimizers`, `constraints`,
# `activations`, `callbacks`, `math`, `metrics`, `models`, `context`, `utils`,
# `quantized_variable`); "same" means same arguments and documented behaviour.
#
# | Larq 0.14 | keras-binary | same / differs (why) |
# |---|---|---|
# | `lq.layers.QuantDense` | `kb.layers.QuantDense` | same |
# | `lq.layers.QuantConv1D` | `kb.layers.QuantConv1D` | same |
# | `lq.layers.QuantConv2D` | `kb.layers.QuantConv2D` | same |
# | `lq.layers.QuantConv3D` | `kb.layers.QuantConv3D` | same |
# | `lq.layers.QuantDepthwiseConv2D` | `kb.layers.QuantDepthwiseConv2D` | same |
# | `lq.layers.QuantSeparableConv1D` | `kb.layers.QuantSeparableConv1D` | same |
# | `lq.layers.QuantSeparableConv2D` | `kb.layers.QuantSeparableConv2D` | same |
# | `lq.layers.QuantConv2DTranspose` | `kb.layers.QuantConv2DTranspose` | same |
# | `lq.layers.QuantConv3DTranspose` | `kb.layers.QuantConv3DTranspose` | same |
# | `lq.layers.QuantLocallyConnected1D` | none | differs: Keras 3 has no locally connected layers |
# | `lq.layers.QuantLocallyConnected2D` | none | differs: Keras 3 has no locally connected layers |
# | `pad_values=` of the conv layers | `pad_values=` | same, also with unknown spatial sizes (`keras.Input((None, None, 3))`), padded at run time |
# | `lq.layers_base.BaseLayer`, `lq.layers_base.QuantizerBase` | `kb.layers.QuantizerMixin` | differs: a mixin for any Keras 3 layer class instead of a `tf.keras` base class |
# | `lq.layers_base.QuantizerBaseConv`, `lq.layers_base.QuantizerDepthwiseBase`, `lq.layers_base.QuantizerSeparableBase` | `kb.layers.ConvMixin` | differs: one mixin for every convolution family |
# | `lq.quantizers.Quantizer` | `kb.quantizers.BaseQuantizer` | differs: named as Larq's own base class `BaseQuantizer`, so it does not share its name with `keras.quantizers.Quantizer` (Keras's int8/float8 quantization); a serializable callable, not a `tf.keras` Layer (a stateful quantizer may be a `keras.layers.Layer`) |
# | `lq.quantizers.NoOp` | `kb.quantizers.NoOp` | same |
# | `lq.quantizers.NoOpQuantizer` | `kb.quantizers.NoOpQuantizer` | same (NoOp's old name) |
# | `lq.quantizers.SteSign`, `lq.quantizers.ste_sign` | `kb.quantizers.SteSign`, `kb.quantizers.ste_sign` | same, `clip_value=None` included |
# | `lq.quantizers.ApproxSign`, `lq.quantizers.approx_sign` | `kb.quantizers.ApproxSign`, `kb.quantizers.approx_sign` | same |
# | `lq.quantizers.SwishSign`, `lq.quantizers.swish_sign` | `kb.quantizers.SwishSign`, `kb.quantizers.swish_sign` | same |
# | `lq.quantizers.MagnitudeAwareSign` | `kb.quantizers.MagnitudeAwareSign` | same |
# | `lq.quantizers.SteHeaviside`, `lq.quantizers.ste_heaviside` | `kb.quantizers.SteHeaviside`, `kb.quantizers.ste_heaviside` | same |
# | `lq.quantizers.SteTern`, `lq.quantizers.ste_tern` | `kb.quantizers.SteTern`, `kb.quantizers.ste_tern` | same |
# | `lq.quantizers.DoReFa`, `lq.quantizers.DoReFaQuantizer` | `kb.quantizers.DoReFa`, `kb.quantizers.DoReFaQuantizer` | differs in weights mode: the gradient flows through max \|tanh(w)\| by default (the authors' code); `gradient_through_max=False` is Larq's |
# | `metrics=["flip_ratio"]` of the quantizers | `kb.metrics.FlipRatio` | differs: a callback (below) |
# | `lq.quantizers.get`, `lq.quantizers.serialize`, `lq.quantizers.deserialize` | `kb.quantizers.get`, `kb.quantizers.serialize`, `kb.quantizers.deserialize` | same |
# | `lq.quantizers.get_kernel_quantizer` | `kb.quantizers.get_kernel_quantizer` | same look-up (names, instances, functions); attaches no metric |
# | aliases `"ste_sign"`, `"approx_sign"`, `"swish_sign"`, `"magnitude_aware_sign"`, `"ste_heaviside"`, `"ste_tern"`, `"dorefa_quantizer"` | the same strings | same |
# | `lq.optimizers.Bop` | `kb.optimizers.Bop` | same (`threshold`, `gamma`) |
# | `lq.optimizers.Bop.is_binary_variable` | `kb.optimizers.Bop.is_binary_variable`, `kb.optimizers.is_binary_variable` | same |
# | `lq.optimizers.CaseOptimizer` | `kb.optimizers.CaseOptimizer` | differs: without `default_optimizer`, a variable no predicate claims is an error (Larq warns and leaves it untrained) |
# | `lq.constraints.WeightClip`, `lq.constraints.weight_clip`, `"weight_clip"` | `kb.constraints.WeightClip`, `kb.constraints.weight_clip`, `"weight_clip"` | same |
# | `lq.activations.hard_tanh`, `lq.activations.leaky_tanh` | `kb.activations.hard_tanh`, `kb.activations.leaky_tanh` | same |
# | `lq.callbacks.HyperparameterScheduler` | `kb.callbacks.HyperparameterScheduler` | same (one- and two-argument schedules) |
# | `lq.math.sign`, `lq.math.heaviside` | `kb.math.sign`, `kb.math.heaviside` | same; NaN stays NaN |
# | `lq.metrics.FlipRatio` | `kb.metrics.FlipRatio` | differs: a callback writing `flip_ratio` to the logs, not a `metrics_scope` metric |
# | `lq.models.summary` | `kb.summary` | differs in labels and two counts (below); returns the `ModelProfile` |
# | `lq.models.ModelProfile` | `kb.profile.ModelProfile` | same queries (`layer_profiles`, `weight_count`, `op_count`, `memory`, ...); nested models are flattened into `outer/inner` rows |
# | `lq.models.LayerProfile` | `kb.profile.LayerProfile` | same queries |
# | `lq.models.WeightProfile`, `lq.models.OperationProfile` | `kb.profile.LayerProfile` | differs: counts per precision in `params` and `macs` instead of one object per weight |
# | `lq.context.quantized_scope`, `lq.context.should_quantize` | `layer.kernel_quantizer(layer.kernel)`, `kb.inference.convert` | differs: no scope; apply the layer's quantizer for the effective weights (below), or convert the model for deployment |
# | `lq.context.metrics_scope`, `lq.context.get_training_metrics` | `kb.metrics.FlipRatio` | differs: pass the callback to `fit` |
# | `lq.quantized_variable.QuantizedVariable` | `kb.precision.get_precision` | differs: kernels stay plain Keras variables with a precision tag |
# | `lq.utils.memory_as_readable_str` | `kb.utils.memory_as_readable_str` | same (bits in, `"1.50 KiB"` out) |
# | `lq.utils.set_precision` | `kb.precision.set_precision` | differs: tags a variable; a quantizer declares its `precision` attribute |
# | `lq.utils.register_keras_custom_object`, `lq.utils.register_alias` | `keras.saving.register_keras_serializable` | differs: Keras 3's registry; every keras-binary object is registered |
# | `lq.utils.patch_object` | none | differs: an internal helper of Larq's layers, not needed |
#
# keras-binary also has `QuantConv1DTranspose`, `QuantDepthwiseConv1D`, recurrent layers
# (`QuantLSTM`, `QuantGRU`, `QuantSimpleRNN`), `XnorWeightScale`, the loss-aware `LAB`
# optimizer with `kernel_quantizer="lab"`, `model_zoo` (in place of `larq_zoo`) and
# `keras_binary.inference.convert` (x86 popcount kernels, in place of Larq Compute Engine).
#
# ## Behaviour that changed
#
# - **Precision tags instead of variable names.** Larq's `Bop.is_binary_variable` checks a
#   `precision` attribute on the variable; keras-binary does the same through
#   `keras_binary.precision`, set by each layer from its kernel quantizer, so `CaseOptimizer`
#   routing, the summary and the inference converter all read one tag.
# - **Flip ratio is a callback.** Keras 3 metrics only see `y_true` and `y_pred` (and on JAX
#   cannot read weights inside the compiled step), so `FlipRatio` is a callback that writes
#   `flip_ratio` into the training logs (History, TensorBoard) instead of a scoped metric.
# - **`CaseOptimizer` without `default_optimizer`.** Larq warns and leaves the variables no
#   predicate claims (BatchNorm, biases) untrained; that is easy to miss, so keras-binary raises
#   a ValueError when the optimizer is built. Pass `default_optimizer=...`, or set
#   `trainable=False` on the layers you mean to freeze (shown below).
# - **The missing-constraint warning** (a binary kernel quantizer without `kernel_constraint`)
#   goes through Python's `warnings.warn` (a `UserWarning`, filterable with `warnings` and
#   `pytest.warns`); Larq logs it with `logging`.
# - **DoReFa weights mode.** Forward values are Larq's. The gradient also flows through the
#   max \|tanh(w)\| normaliser by default, as in the DoReFa authors' code; Larq stops it there.
#   `DoReFa(k_bit, mode="weights", gradient_through_max=False)` gives Larq's gradient.
# - **The summary's compression line** reads "Compression (float-32 size / model size)", how
#   many times smaller than float32 the weights are (26.5 for the model below). Larq's
#   "Compression Ratio of Memory" is the inverse, model size / float-32 size
#   (`profile.memory / profile.fp_equivalent_memory`).
# - **Two counts differ from Larq's summary**, both on purpose (shown below):
#   `BatchNormalization` counts the variables it holds (4 per channel, 3 with `scale=False`, as
#   `model.count_params()`), where Larq always counts 2 per channel (the folded scale and
#   offset) and so reports none of them trainable; a separable convolution's pointwise MACs are
#   counted at the compute dtype's precision, because the depthwise sums that reach the
#   pointwise kernel are integers, not binary values; Larq counts them at the input precision
#   (1 bit after a sign).
# - **Saving** uses the Keras 3 `.keras` format; every keras-binary object is registered, so no
#   `custom_objects` are needed.
# - **Backends:** the same code runs on TensorFlow and JAX; pick one with `KERAS_BACKEND`.
#
# The cells below run the keras-binary side of each row on a tiny real MNIST slice.

# %%
import keras
import numpy as np
from guide_utils import fast_or_full

import keras_binary as kb
from keras_binary.callbacks import HyperparameterScheduler
from keras_binary.metrics import FlipRatio
from keras_binary.profile import ModelProfile
from keras_binary.utils import memory_as_readable_str
from model_zoo.datasets import mnist_slice

print("backend:", keras.backend.backend(), "| keras", keras.__version__)

# %% [markdown]
# ## A Larq model, line for line
#
# Larq's README model (`tf.keras.models.Sequential` with `lq.layers.QuantDense`) becomes a
# `keras.Sequential` with `kb.layers.QuantDense`; the arguments are unchanged.

# %%
kwargs = dict(
    input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip"
)
model = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        kb.layers.QuantDense(128, kernel_quantizer="ste_sign", kernel_constraint="weight_clip"),
        keras.layers.BatchNormalization(momentum=0.9),
        kb.layers.QuantDense(10, **kwargs),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Activation("softmax"),
    ]
)
kb.summary(model)

# %% [markdown]
# ## Bop with `CaseOptimizer`, a scheduled `gamma` and the flip ratio
#
# In Larq: `lq.optimizers.CaseOptimizer((lq.optimizers.Bop.is_binary_variable, lq.optimizers.Bop()),
# default_optimizer=tf.keras.optimizers.Adam(0.01))`, plus `metrics_scope(["flip_ratio"])`.

# %%
bop = kb.optimizers.Bop(threshold=1e-6, gamma=1e-3)
optimizer = kb.optimizers.CaseOptimizer(
    (kb.optimizers.is_binary_variable, bop), default_optimizer=keras.optimizers.Adam(0.01)
)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
x_train, y_train, x_test, y_test = mnist_slice(*fast_or_full((1000, 300), (60000, 10000)))
scheduler = HyperparameterScheduler(lambda epoch: 1e-3 * 0.5**epoch, "gamma", bop)
history = model.fit(
    x_train,
    y_train,
    batch_size=100,
    epochs=fast_or_full(2, 10),
    callbacks=[scheduler, FlipRatio()],
    validation_data=(x_test, y_test),
    verbose=0,
)
for key in ("gamma", "flip_ratio", "val_accuracy"):
    print(f"{key:>12s} per epoch:", [float(f"{v:.4g}") for v in history.history[key]])

# %% [markdown]
# ## Effective weights without `quantized_scope`
#
# Larq swaps the latent kernels for their quantized values inside `quantized_scope(True)`. In
# keras-binary every quantized layer keeps its quantizer, so apply it to the kernel directly.

# %%
layer = model.layers[1]
binary_kernel = keras.ops.convert_to_numpy(layer.kernel_quantizer(layer.kernel))
print("kernel precision tag:", kb.precision.get_precision(layer.kernel))
print("distinct values of the effective kernel:", np.unique(binary_kernel).tolist())

# %% [markdown]
# ## The profile behind the summary, for scripts
#
# Larq's `ModelProfile(model)` answers the same questions here, so a script that reports or
# plots counts carries over. Memory is in bits, as in Larq.

# %%
profile = ModelProfile(model)
for layer_profile in profile.layer_profiles:
    print(f"{layer_profile.name:>22s}: {layer_profile.weight_count(bitwidth=1):>6d} binary weights,"
          f" {layer_profile.op_count('mac', precision=1) or 0:>6d} binary MACs")
print("trainable 32-bit weights:", profile.weight_count(bitwidth=32, trainable=True))
print("model size:", memory_as_readable_str(profile.memory),
      "| float-32:", memory_as_readable_str(profile.fp_equivalent_memory))
print(f"Larq's ratio (size / float-32): {profile.memory / profile.fp_equivalent_memory:.4f}"
      f" | ours (float-32 / size): {profile.compression_ratio:.2f}")

# %% [markdown]
# ## The two counts that differ from Larq's summary
#
# A BatchNormalization without `scale` and a binary separable convolution, counted here and by
# Larq's rules (2 weights per BatchNorm channel; every MAC at the input precision).

# %%
channels = 16
separable = kb.layers.QuantSeparableConv2D(
    channels, 3, input_quantizer="ste_sign", depthwise_quantizer="ste_sign",
    pointwise_quantizer="ste_sign", depthwise_constraint="weight_clip",
    pointwise_constraint="weight_clip", use_bias=False,
)
counted = keras.Sequential([
    keras.Input((8, 8, channels)),
    keras.layers.BatchNormalization(scale=False),
    separable,
])
bn_profile, sep_profile = ModelProfile(counted).layer_profiles
print("BatchNormalization(scale=False) weights: ours", bn_profile.weight_count(),
      "(= count_params", counted.layers[0].count_params(), ") | Larq's rule", 2 * channels)
positions = 6 * 6
pointwise = channels * channels * positions
print("separable 1-bit MACs: ours", sep_profile.op_count("mac", 1),
      "| Larq's rule", sep_profile.op_count("mac", 1) + pointwise)
print("separable 32-bit MACs (pointwise on integer sums): ours", sep_profile.op_count("mac", 32),
      "| Larq's rule 0")

# %% [markdown]
# ## Larq options: unclipped STE, DoReFa's stop-gradient, `CaseOptimizer` without a default

# %%
x = keras.ops.convert_to_tensor([-3.0, -0.5, 0.5, 3.0])
print("SteSign(clip_value=None) forward:",
      keras.ops.convert_to_numpy(kb.quantizers.SteSign(clip_value=None)(x)).tolist())
larq_dorefa = kb.quantizers.DoReFa(k_bit=2, mode="weights", gradient_through_max=False)
print("DoReFa as in Larq:", larq_dorefa)

frozen = keras.Sequential([
    keras.Input((6,)),
    kb.layers.QuantDense(8, kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                         use_bias=False),
    keras.layers.BatchNormalization(),
])
try:
    kb.optimizers.CaseOptimizer((kb.optimizers.Bop.is_binary_variable, kb.optimizers.Bop())).build(
        frozen.trainable_variables
    )
except ValueError as error:
    print("without default_optimizer:", error)
frozen.layers[1].trainable = False  # freeze BatchNorm on purpose: Larq's outcome, made explicit
only_bop = kb.optimizers.CaseOptimizer((kb.optimizers.Bop.is_binary_variable, kb.optimizers.Bop()))
only_bop.build(frozen.trainable_variables)
print("Bop trains:", [v.path for v in frozen.trainable_variables])

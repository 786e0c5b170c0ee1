"""`QuantizerMixin`: input/kernel quantization and precision tagging shared by all Quant* layers.

A Quant* layer subclasses its Keras counterpart and this mixin. It resolves its quantizers in
`__init__` (`init_quantizers`), tags its kernels after `build` (`tag_kernels`), quantizes in
`call` (`quantize_input`, `quantize_kernel`) and serializes the quantizers (`quantizer_config`).

A quantizer is anything `keras_binary.quantizers.get` accepts: an alias, a config dict, a
`BaseQuantizer`, a plain callable, or a *stateful* quantizer written as a `keras.layers.Layer`. A
Layer quantizer is built with the shape of the tensor it quantizes and tracked by the layer, so its
weights are saved and loaded with it.

Example (a new layer family):

>>> import keras
>>> class QuantDenseLike(QuantizerMixin, keras.layers.Dense):
...     def __init__(self, units, input_quantizer=None, kernel_quantizer=None, **kwargs):
...         super().__init__(units, **kwargs)
...         self.init_quantizers(input_quantizer=input_quantizer,
...                              kernel_quantizer=kernel_quantizer)
"""

from __future__ import annotations

import warnings
from typing import Any

import keras

from keras_binary import activations, constraints, quantizers
from keras_binary.precision import set_quantizer
from keras_binary.quantizers.base import FLOAT_DTYPES


def resolve_quantizer(identifier: Any, argument: str) -> Any:
    """`keras_binary.quantizers.get(identifier)`, with errors naming the layer argument."""
    try:
        return quantizers.get(identifier)
    except (ValueError, TypeError) as error:
        raise type(error)(f"Invalid {argument}: {error}") from None


class QuantizerMixin:
    """Quantizes inputs and kernels of a Keras layer and tags the kernels' precision.

    `quantized_kernels` lists, per quantized weight, `(quantizer attribute, weight attribute,
    constraint attribute)`; layers with other weight names (depthwise, separable) override it.
    """

    quantized_kernels: tuple[tuple[str, str, str], ...] = (
        ("kernel_quantizer", "kernel", "kernel_constraint"),
    )

    def init_quantizers(self, **identifiers: Any) -> None:
        """Resolves and stores the quantizers (call after the Keras `__init__`).

        Warns once when a binary kernel quantizer has no constraint on its latent weights (not
        for `NoOp`: its kernel holds values already quantized, not latent weights).
        """
        for argument, identifier in identifiers.items():
            setattr(self, argument, resolve_quantizer(identifier, argument))
        for quantizer_attr, weight_attr, constraint_attr in self.quantized_kernels:
            quantizer = getattr(self, quantizer_attr)
            latent = not isinstance(quantizer, quantizers.NoOp)
            if (latent and quantizers.precision_of(quantizer) == 1
                    and getattr(self, constraint_attr) is None):
                warnings.warn(
                    f"{type(self).__name__} '{self.name}' binarizes its {weight_attr} with "
                    f"{quantizer!r} but has no {constraint_attr}: latent weights may grow "
                    f"without bound. Pass {constraint_attr}='weight_clip' "
                    "(keras_binary.constraints.WeightClip).",
                    stacklevel=3,
                )

    def tag_kernels(self, input_shape: Any) -> None:
        """Builds Layer quantizers and records each kernel's quantizer (call after `build`)."""
        build_quantizer(self.input_quantizer, input_shape)
        for quantizer_attr, weight_attr, _ in self.quantized_kernels:
            quantizer = getattr(self, quantizer_attr)
            if quantizer is None:
                continue
            weight = getattr(self, weight_attr)
            claim_quantizer(quantizer, f"{self.name}.{weight_attr}")
            build_quantizer(quantizer, weight.shape)
            set_quantizer(weight, quantizer)

    def quantize_input(self, inputs: Any) -> Any:
        """`input_quantizer(inputs)`; a clear TypeError for non-float inputs."""
        if self.input_quantizer is None:
            return inputs
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{type(self).__name__} '{self.name}': input_quantizer {self.input_quantizer!r} "
                f"quantizes floating-point inputs only, got dtype {dtype}. Cast the inputs to a "
                "float dtype (e.g. keras.ops.cast(x, 'float32')) first."
            )
        return self.input_quantizer(inputs)

    def quantize_kernel(self, kernel: Any, quantizer_attr: str = "kernel_quantizer") -> Any:
        """The quantizer stored in `quantizer_attr` applied to `kernel` (identity if None).

        A variable is read first (`.value`): TensorFlow's custom gradients reject functions that
        read variables themselves.
        """
        quantizer = getattr(self, quantizer_attr)
        if quantizer is None:
            return kernel
        if isinstance(kernel, keras.Variable):
            kernel = kernel.value
        return quantizer(kernel)

    def quantizer_config(self) -> dict[str, Any]:
        """The serialized quantizers, to merge into `get_config()`."""
        names = ["input_quantizer"] + [attr for attr, _, _ in self.quantized_kernels]
        return {name: quantizers.serialize(getattr(self, name)) for name in names}

    def enable_lora(self, *args: Any, **kwargs: Any) -> None:
        """Keras LoRA, refused with a kernel quantizer (a float delta on a quantized kernel)."""
        quantized = [attr for attr, _, _ in self.quantized_kernels if getattr(self, attr, None)]
        if quantized:
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}': LoRA is not supported together with "
                f"{', '.join(quantized)}; remove the kernel quantizer or lora_rank."
            )
        super().enable_lora(*args, **kwargs)

    @property
    def input_precision(self) -> int | None:
        """Bits of the quantized inputs; None without an input quantizer or when unknown."""
        return quantizers.precision_of(self.input_quantizer)

    @property
    def kernel_precision(self) -> int | None:
        """Bits of the quantized kernel; None without a kernel quantizer or when unknown."""
        return quantizers.precision_of(getattr(self, self.quantized_kernels[0][0]))


def split_init_arguments(arguments: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Splits an `__init__`'s `locals()` into the Keras layer's arguments and ours.

    Ours are the `*_quantizer` arguments and `pad_values`. Activation and constraint identifiers
    are resolved with `keras_binary.activations.get` / `keras_binary.constraints.get`, so that
    "hard_tanh", "leaky_tanh" and "weight_clip" work in every layer.
    """
    keras_kwargs: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for name, value in arguments.items():
        if name in ("self", "__class__", "kwargs"):
            continue
        if name.endswith("_quantizer") or name == "pad_values":
            own[name] = value
        elif name == "activation":
            keras_kwargs[name] = activations.get(value)
        elif name.endswith("_constraint"):
            keras_kwargs[name] = constraints.get(value)
        else:
            keras_kwargs[name] = value
    keras_kwargs.update(arguments.get("kwargs", {}))
    return keras_kwargs, own


def claim_quantizer(quantizer: Any, kernel_name: str) -> None:
    """Records that a stateful (Layer) quantizer serves `kernel_name`; refuses a second kernel.

    A Layer quantizer such as LossAwareBinarizer holds per-kernel state (alpha), so one instance
    passed to several layers would silently share it.
    """
    if not isinstance(quantizer, keras.layers.Layer):
        return
    owner = getattr(quantizer, "keras_binary_kernel", None)
    if owner is not None and owner != kernel_name:
        raise ValueError(
            f"The quantizer {quantizer.name!r} ({type(quantizer).__name__}) already quantizes "
            f"{owner!r} and cannot also quantize {kernel_name!r}: it holds per-kernel state. "
            "Give each layer its own quantizer (an alias such as 'lab', a config dict, or a new "
            "instance per layer)."
        )
    quantizer.keras_binary_kernel = kernel_name


def build_quantizer(quantizer: Any, shape: Any) -> None:
    """Builds a stateful (Layer) quantizer for tensors of `shape`, once."""
    if isinstance(quantizer, keras.layers.Layer) and not quantizer.built:
        quantizer.build(tuple(shape))


"""Argument text shared by several docstrings, written once and spliced in as `{{name}}`.

Keras does the same for its optimizers (`{{base_optimizer_keyword_args}}`). A docstring line that
holds only `{{name}}` is replaced by `SHARED[name]`, indented like the placeholder. The packages
call `splice` on their public objects when they are imported, so `help()`, doctests and the API
reference (mkdocstrings with `force_inspection`) all show the full text.

Example:

>>> def f(x, clip_value=1.0):
...     '''Sign of x.
...
...     Args:
...         x: A float tensor.
...         {{clip_value_arg}}
...     '''
>>> _ = splice(f)
>>> "clip_value: " in f.__doc__
True
"""

from __future__ import annotations

import inspect
import re
from types import ModuleType
from typing import Any

_QUANTIZER_FORMS = (
    'an alias\n    ("ste_sign"), a config dict, a quantizer instance, a callable, a '
    "`keras.layers.Layer`\n"
    "    (a stateful quantizer such as `LossAwareBinarizer`), or None"
)

SHARED: dict[str, str] = {
    "input_quantizer_arg": (
        "input_quantizer: Quantizer of the layer's inputs, applied before the product: "
        + _QUANTIZER_FORMS
        + " (inputs stay\n    float). See `keras_binary.quantizers.get`."
    ),
    "kernel_quantizer_arg": (
        "kernel_quantizer: Quantizer of the latent float kernel, applied in every call: "
        + _QUANTIZER_FORMS
        + " (the kernel\n    stays float). The kernel is tagged with it "
        "(`keras_binary.precision.get_quantizer`)."
    ),
    "depthwise_quantizer_arg": (
        "depthwise_quantizer: Quantizer of the latent float depthwise kernel, in the forms\n"
        "    `input_quantizer` accepts (None: the kernel stays float)."
    ),
    "pointwise_quantizer_arg": (
        "pointwise_quantizer: Quantizer of the latent float pointwise kernel, in the forms\n"
        "    `input_quantizer` accepts (None: the kernel stays float)."
    ),
    "pad_values_arg": (
        'pad_values: Constant that "same" padding writes around the *quantized* inputs (zero\n'
        "    padding is not a binary value: use 1.0 or -1.0 after a sign quantizer). Ignored\n"
        '    for "valid" padding.'
    ),
    "recurrent_quantizer_args": (
        "input_quantizer: Quantizer of the step input x (None: x stays float), in the forms\n"
        "    `keras_binary.quantizers.get` accepts.\n"
        "kernel_quantizer: Quantizer of the input kernel W.\n"
        "recurrent_quantizer: Quantizer of the recurrent kernel U.\n"
        "recurrent_input_quantizer: Quantizer of the previous hidden state h where it enters\n"
        "    the product with U (the carried state stays real valued)."
    ),
    "keras_layer_kwargs": (
        "**kwargs: The Keras layer's other arguments (named in the signature), with Keras's\n"
        "    meaning and defaults: `activation`, `use_bias`, initializers, regularizers,\n"
        "    constraints and, for convolutions, `strides`, `padding`, `data_format`,\n"
        '    `dilation_rate`. `activation` also takes "hard_tanh" and "leaky_tanh", every\n'
        '    `*_constraint` also takes "weight_clip" (which binary kernels need).'
    ),
    "clip_value_arg": (
        "clip_value: The pseudo-gradient is the upstream gradient where |x| <= clip_value and\n"
        "    0 elsewhere; must be > 0, or None for an unclipped straight-through estimator."
    ),
    "quantizer_input_arg": "x: Float tensor to quantize (integer tensors raise a TypeError).",
    "optimizer_keyword_args": (
        "name: Name of the optimizer (and prefix of its variables).\n"
        "**kwargs: Other keyword arguments of `keras.optimizers.Optimizer`, such as\n"
        "    `clipnorm`, `global_clipnorm`, `ema_momentum` or `gradient_accumulation_steps`."
    ),
    # References: each paper's link lives here once.
    "ref_binaryconnect": (
        "- [BinaryConnect: Training Deep Neural Networks with binary weights during\n"
        "  propagations](https://arxiv.org/abs/1511.00363) (Courbariaux et al., 2015)"
    ),
    "ref_binarynet": (
        "- [Binarized Neural Networks: Training Deep Neural Networks with Weights and\n"
        "  Activations Constrained to +1 or -1](https://arxiv.org/abs/1602.02830)\n"
        "  (Courbariaux, Hubara et al., 2016)"
    ),
    "ref_xnor": (
        "- [XNOR-Net: ImageNet Classification Using Binary Convolutional Neural\n"
        "  Networks](https://arxiv.org/abs/1603.05279) (Rastegari et al., 2016)"
    ),
    "ref_bireal": (
        "- [Bi-Real Net: Enhancing the Performance of 1-bit CNNs With Improved Representational\n"
        "  Capability and Advanced Training Algorithm](https://arxiv.org/abs/1808.00278)\n"
        "  (Liu et al., 2018)"
    ),
    "ref_bnn_plus": (
        "- [BNN+: Improved Binary Network Training](https://arxiv.org/abs/1812.11800)\n"
        "  (Darabi et al., 2018)"
    ),
    "ref_dorefa": (
        "- [DoReFa-Net: Training Low Bitwidth Convolutional Neural Networks with Low Bitwidth\n"
        "  Gradients](https://arxiv.org/abs/1606.06160) (Zhou et al., 2016)"
    ),
    "ref_twn": (
        "- [Ternary Weight Networks](https://arxiv.org/abs/1605.04711) (Li, Zhang and Liu, 2016)"
    ),
    "ref_bop": (
        "- [Latent Weights Do Not Exist: Rethinking Binarized Neural Network\n"
        "  Optimization](https://arxiv.org/abs/1906.02107) (Helwegen et al., 2019)"
    ),
    "ref_lab": (
        "- [Loss-aware Binarization of Deep Networks](https://arxiv.org/abs/1611.01600)\n"
        "  (Hou, Yao and Kwok, ICLR 2017)"
    ),
    "ref_lat": (
        "- [Loss-aware Weight Quantization of Deep Networks](https://arxiv.org/abs/1802.08635)\n"
        "  (Hou and Kwok, ICLR 2018)"
    ),
    "zoo_model_args": (
        "input_shape: Shape of one input without the batch axis; None takes the model's\n"
        "    default.\n"
        "include_top: Whether to include the classifier; False returns the features before it.\n"
        "weights: None (random initialization), the name of registered pretrained weights\n"
        "    (`model_zoo.available_weights`), or the path of a weights file.\n"
        "num_classes: Number of output classes of the classifier.\n"
        "input_tensor: Optional Keras tensor (`keras.Input()`) to use as the model's input."
    ),
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{\{(?P<name>\w+)\}\}[ \t]*$", re.MULTILINE)


def fill(doc: str) -> str:
    """Replaces each line holding only `{{name}}` with `SHARED[name]`, indented alike.

    Args:
        doc: A docstring.

    Returns:
        The docstring with every placeholder replaced.

    Raises:
        KeyError: A placeholder names no entry of `SHARED`.
    """

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in SHARED:
            raise KeyError(
                f"Docstring placeholder {{{{{name}}}}} is not defined; add it to "
                f"keras_binary.docstrings.SHARED or fix its name (known: {', '.join(SHARED)})."
            )
        indent = match.group("indent")
        return "\n".join(indent + line for line in SHARED[name].splitlines())

    return _PLACEHOLDER.sub(replace, doc)


def splice(*objects: Any) -> tuple[Any, ...]:
    """Fills the shared argument text into the docstrings of `objects`, in place.

    Args:
        *objects: Classes or functions whose `__doc__` may hold `{{name}}` placeholders.

    Returns:
        `objects`, unchanged apart from their `__doc__`.
    """
    for obj in objects:
        if obj.__doc__:
            obj.__doc__ = fill(obj.__doc__)
    return objects


def splice_modules(*modules: ModuleType) -> None:
    """Calls `splice` on every class and function that each of `modules` defines.

    Args:
        *modules: Imported modules.
    """
    for module in modules:
        splice(*(value for value in vars(module).values()
                 if (inspect.isclass(value) or inspect.isfunction(value))
                 and value.__module__ == module.__name__))

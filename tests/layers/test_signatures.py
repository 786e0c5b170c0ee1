"""Signature-drift guard: every Quant* layer accepts all arguments of its Keras layer, with the
same defaults, so a new Keras argument fails here until the Quant* layer supports it."""

import inspect

import keras
import pytest

from keras_binary import layers

PAIRS = [
    (layers.QuantDense, keras.layers.Dense),
    (layers.QuantConv1D, keras.layers.Conv1D),
    (layers.QuantConv2D, keras.layers.Conv2D),
    (layers.QuantConv3D, keras.layers.Conv3D),
    (layers.QuantDepthwiseConv1D, keras.layers.DepthwiseConv1D),
    (layers.QuantDepthwiseConv2D, keras.layers.DepthwiseConv2D),
    (layers.QuantSeparableConv1D, keras.layers.SeparableConv1D),
    (layers.QuantSeparableConv2D, keras.layers.SeparableConv2D),
    (layers.QuantConv1DTranspose, keras.layers.Conv1DTranspose),
    (layers.QuantConv2DTranspose, keras.layers.Conv2DTranspose),
    (layers.QuantConv3DTranspose, keras.layers.Conv3DTranspose),
]


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_keras_signature_is_a_subset_with_identical_defaults(ours, theirs):
    our_params = inspect.signature(ours.__init__).parameters
    for name, param in inspect.signature(theirs.__init__).parameters.items():
        assert name in our_params, f"{ours.__name__} lacks Keras argument {name!r}"
        assert our_params[name].kind == param.kind, name
        assert our_params[name].default == param.default, (
            f"{ours.__name__}.{name} defaults to {our_params[name].default!r}, "
            f"Keras to {param.default!r}"
        )
    assert issubclass(ours, theirs)


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_quantizer_arguments_default_to_none(ours, theirs):
    own = set(inspect.signature(ours.__init__).parameters) - set(
        inspect.signature(theirs.__init__).parameters
    )
    assert "input_quantizer" in own
    for name in own:
        default = inspect.signature(ours.__init__).parameters[name].default
        assert default == (0.0 if name == "pad_values" else None), name


def test_every_layer_is_registered_serializable():
    for ours, _ in PAIRS:
        name = keras.saving.get_registered_name(ours)
        assert name == f"keras_binary>{ours.__name__}"
        assert keras.saving.get_registered_object(name) is ours

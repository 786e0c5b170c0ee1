"""Where the demo's float and popcount outputs part ways: a first-layer (real-valued input) value
within float32 rounding of its sign threshold; the demo says so in one line."""

import keras
import numpy as np
import pytest

from keras_binary.layers import QuantDense
from model_zoo.demo import explain_difference, first_sign_margins


def _model():
    binary = {"kernel_quantizer": "ste_sign", "kernel_constraint": "weight_clip",
              "use_bias": False}
    model = keras.Sequential([
        keras.Input((4,)), QuantDense(3, kernel_initializer="ones", **binary),
        keras.layers.BatchNormalization(),
        QuantDense(2, input_quantizer="ste_sign", **binary), keras.layers.BatchNormalization(),
    ])
    return model


IMAGES = np.array([[0.5, -0.5, 0.25, -0.25], [1.0, 1.0, 1.0, 1.0]], "float32")


def test_first_sign_margins_are_the_first_batchnorm_outputs_nearest_zero():
    margins = first_sign_margins(_model(), IMAGES)
    # Kernel of ones, fresh BatchNorm (mean 0, variance 1): every unit is sum(x) / sqrt(1 + eps).
    np.testing.assert_allclose(margins, [0.0, 4 / np.sqrt(1 + 1e-3)], atol=1e-6)


def test_explanation_names_the_near_threshold_cause_or_flags_another():
    model = _model()
    line = explain_difference(model, IMAGES, np.array([0]))
    assert line.startswith("[popcount] 1 of 2 images differ by more than 0.001; in 1 of them")
    assert "(nearest 0.0e+00)" in line and "expected" in line and "unexpected" not in line
    assert "unexpected" in explain_difference(model, IMAGES, np.array([1]))


@pytest.mark.parametrize("differing", [[0], [0, 1]])
def test_explanation_is_one_line(differing):
    assert "\n" not in explain_difference(_model(), IMAGES, np.array(differing))


def test_demo_trains_with_its_short_budget_recipe(monkeypatch, capsys):
    from model_zoo import datasets, demo, training

    calls = []
    model = _model()
    monkeypatch.setattr(datasets, "prepare", lambda *args, **kwargs: None)
    monkeypatch.setattr(training, "train", lambda *args, **kwargs: calls.append(kwargs) or
                        (model, None))
    monkeypatch.setattr(training, "evaluate",
                        lambda *args, **kwargs: {"accuracy": 0.5, "examples": 2})
    assert demo.run_demo("mnist", popcount=False) == 0.5
    assert calls[0]["epochs"] == demo.DEMO_EPOCHS
    assert calls[0]["model_options"] == {"dropout_hidden": 0, "dropout_input": 0}
    assert {key: calls[0][key] for key in demo.DEMO_RECIPE} == demo.DEMO_RECIPE
    assert (f"for {demo.DEMO_EPOCHS} epochs (BinaryNet recipe, batch 100, Adam 0.003 -> 3e-05, "
            "no dropout)") in capsys.readouterr().out

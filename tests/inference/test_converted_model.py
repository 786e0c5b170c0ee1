"""ConvertedModel: compiled by default on every backend, captured without code generation on
PyTorch, the same outputs as an eager call, and saved and loaded as itself."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary import inference
from tests.inference import models

BACKEND = keras.backend.backend()


@pytest.fixture
def exact():
    """A converted model whose outputs are integers: every route gives the same bits."""
    model = models.exact_dense()
    x = models.sample_inputs(model, batch=11)
    models.randomize(model, x)
    return inference.convert(model), x


@pytest.fixture
def torch_compile_calls(monkeypatch):
    """The backends `torch.compile` is asked for (the real compile still runs)."""
    if BACKEND != "torch":
        return None
    import torch

    calls, real = [], torch.compile

    def spy(*args, **kwargs):
        calls.append(kwargs.get("backend", "inductor"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "compile", spy)
    return calls


def test_predict_and_evaluate_match_an_eager_call_at_every_batch_size(exact,
                                                                      torch_compile_calls):
    fast, x = exact
    want = keras.ops.convert_to_numpy(fast(x))
    assert isinstance(fast, inference.ConvertedModel) and fast.jit_compile
    # Batches of 4, 4 and 3 rows: a second input shape after the first capture.
    np.testing.assert_array_equal(fast.predict(x, batch_size=4, verbose=0), want)
    np.testing.assert_array_equal(fast.predict_on_batch(x[:2]), want[:2])
    fast.compile(loss="mse")
    fast.jit_compile = True
    loss = fast.evaluate(x, np.zeros_like(want), batch_size=4, verbose=0)
    np.testing.assert_allclose(loss, np.mean(want ** 2), rtol=1e-6)
    if torch_compile_calls is not None:  # a graph capture, without Inductor's code generation
        assert torch_compile_calls == ["eager", "eager"]  # predict, then evaluate


def test_jit_compile_off_runs_eagerly(exact, torch_compile_calls):
    fast, x = exact
    fast.jit_compile = False
    np.testing.assert_array_equal(fast.predict_on_batch(x), keras.ops.convert_to_numpy(fast(x)))
    if torch_compile_calls is not None:
        assert torch_compile_calls == []


@pytest.mark.skipif(BACKEND != "jax", reason="the jitted stateless predict is JAX's")
def test_jax_predict_on_batch_reads_the_current_weights_and_keeps_the_distribution(exact):
    fast, x = exact
    want = keras.ops.convert_to_numpy(fast(x))
    np.testing.assert_array_equal(fast.predict_on_batch(x), want)
    # A later assignment (e.g. `load_packed`) is seen by the next call: nothing is cached.
    layer = next(layer for layer in fast.layers if layer.weights)
    scale = layer.scale if hasattr(layer, "scale") else layer.weights[-1]
    scale.assign(keras.ops.convert_to_numpy(scale) * 2.0)
    doubled = keras.ops.convert_to_numpy(fast(x))
    assert not np.array_equal(doubled, want)
    np.testing.assert_array_equal(fast.predict_on_batch(x), doubled)
    # Under a distribution Keras's own step runs (it shards the batch).
    with keras.distribution.DataParallel(devices=keras.distribution.list_devices()[:1]).scope():
        np.testing.assert_array_equal(fast.predict_on_batch(x), doubled)


@pytest.mark.skipif(BACKEND != "jax", reason="the jitted stateless predict is JAX's")
def test_jax_predict_on_batch_after_freezing_a_float_layer():
    _, fast, x, _, got = models.converted(models.bireal_net())
    np.testing.assert_array_equal(fast.predict_on_batch(x), got)
    trainable = len(fast.trainable_variables)
    fast.layers[-1].trainable = False  # the float classifier's weights change sides
    assert len(fast.trainable_variables) < trainable
    np.testing.assert_array_equal(fast.predict_on_batch(x), got)
    np.testing.assert_array_equal(fast.predict_on_batch(x[:2]), got[:2])  # a new trace


def test_compile_resolves_auto_as_keras_does(exact):
    fast, _ = exact
    fast.compile(loss="mse")
    assert fast.jit_compile == keras.Model().jit_compile  # Keras's "auto" on this backend


def test_saved_and_loaded_as_itself_compiled(exact, tmp_path):
    fast, x = exact
    fast.predict_on_batch(x)  # a model that has predicted saves the same variables
    path = str(tmp_path / "fast.keras")
    fast.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is inference.ConvertedModel and loaded.jit_compile
    np.testing.assert_array_equal(loaded.predict_on_batch(x), fast.predict_on_batch(x))


@pytest.mark.skipif(BACKEND != "torch", reason="the graph capture is PyTorch's")
def test_torch_capture_is_one_graph_for_array_inputs(monkeypatch):
    """Arrays become tensors before the capture: converting one inside would break the graph
    (here: fail, as the capture is made full-graph)."""
    import torch

    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda *a, **k: real(*a, **{**k, "fullgraph": True}))
    _, fast, x, _, got = models.converted(models.bireal_net())
    np.testing.assert_array_equal(fast.predict_on_batch(x), got)


@pytest.mark.skipif(BACKEND != "torch", reason="the graph capture is PyTorch's")
def test_torch_captures_every_model_of_a_process(monkeypatch):
    """Each model's step is its own code object to Dynamo, so many models do not exhaust one
    shared recompile limit (full-graph here: a model left uncompiled raises)."""
    import torch

    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda *a, **k: real(*a, **{**k, "fullgraph": True}))
    for seed in range(torch._dynamo.config.recompile_limit + 2):
        model = models.exact_dense()
        x = models.sample_inputs(model, batch=2, seed=seed)
        fast = inference.convert(models.randomize(model, x, seed))
        np.testing.assert_array_equal(fast.predict_on_batch(x),
                                      keras.ops.convert_to_numpy(fast(x)))

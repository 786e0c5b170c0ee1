"""Kernels inside compiled functions: jax.jit; tf.function with and without jit_compile and an
unknown batch dimension; torch.compile as one graph with a dynamic batch; a Keras model with a
None batch."""

import keras
import numpy as np
import pytest

from keras_binary import kernels
from tests.kernels import numpy_reference as npr

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(7)
X = npr.random_pm(RNG, (5, 3, 4, 40))
KERNEL = npr.random_pm(RNG, (3, 3, 40, 33))
W = npr.random_pm(RNG, (10, 33))
PACKED_W = npr.pack(W)


def network(x, kernel=KERNEL, packed_w=PACKED_W):
    """Float input -> packed conv (zero 'same' padding) -> packed dense -> float."""
    h = kernels.binary_conv2d(x, kernels.pack_conv2d_kernel(kernel), padding="same",
                              pad_value="zero", output="packed", implementation="kernel")
    return kernels.binary_matmul(h, packed_w, 33, implementation="kernel")


def expected(x):
    h = npr.signs(npr.conv2d(x, KERNEL, (1, 1), "same", (1, 1), "zero"))
    return h @ npr.signs(W).T


@pytest.mark.skipif(BACKEND != "jax", reason="JAX only")
def test_jax_jit():
    import jax

    f = jax.jit(network)
    np.testing.assert_array_equal(np.asarray(f(X)), expected(X))
    np.testing.assert_array_equal(np.asarray(f(X[:1])), expected(X[:1]))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow only")
@pytest.mark.parametrize("jit_compile", [False, True])
def test_tf_function_unknown_batch(jit_compile):
    import tensorflow as tf

    spec = tf.TensorSpec([None, 3, 4, 40], tf.float32)
    f = tf.function(network, jit_compile=jit_compile, input_signature=[spec])
    np.testing.assert_array_equal(f(X).numpy(), expected(X))
    np.testing.assert_array_equal(f(X[:2]).numpy(), expected(X[:2]))


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch only")
@pytest.mark.parametrize("compiler", ["aot_eager", "inductor"])
def test_torch_compile_one_graph_dynamic_batch(compiler):
    import torch

    torch.compiler.reset()
    # Torch constants made outside the traced function: TorchDynamo cannot trace Keras
    # converting a numpy array (and would trace npr.pack's numpy code as torch ops).
    kernel, packed_w = torch.tensor(KERNEL), torch.tensor(PACKED_W)

    def torch_network(x):
        return network(x, kernel, packed_w)

    # fullgraph: a graph break (an op torch.compile cannot trace) fails the test.
    f = torch.compile(torch_network, fullgraph=True, dynamic=True, backend=compiler)
    np.testing.assert_array_equal(np.asarray(f(torch.tensor(X))), expected(X))
    np.testing.assert_array_equal(np.asarray(f(torch.tensor(X[:2]))), expected(X[:2]))


@pytest.mark.skipif(BACKEND not in ("jax", "tensorflow", "torch"), reason="no kernel route")
@pytest.mark.parametrize("jit_compile", [False, True])
def test_keras_model_with_none_batch(jit_compile):
    if jit_compile and BACKEND == "torch":
        pytest.skip("Keras compiles with torch.compile here: test_torch_compile_one_graph_"
                    "dynamic_batch checks that path without 2 minutes of Inductor codegen")
    inputs = keras.Input((3, 4, 40))
    outputs = keras.layers.Lambda(network, output_shape=(3, 4, 10))(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(jit_compile=jit_compile)
    np.testing.assert_array_equal(model.predict(X, batch_size=2, verbose=0), expected(X))

"""Per-backend options of the tests."""

import keras

# Train steps compile as one XLA program on TensorFlow and JAX. Under torch, jit_compile means
# torch.compile, whose Inductor code generation costs minutes per model on a small CPU: those
# tests run eagerly there (tests/kernels/test_compiled.py and tests/inference/test_convert.py
# check the kernels under torch.compile).
JIT_COMPILE = keras.backend.backend() != "torch"

"""Session-wide test settings.

On an NVIDIA GPU, XLA lets float32 matmuls and convolutions run in TF32 (10-bit mantissa) by
default. The tests compare the binary kernels and converted models with float models, which
must compute in full float32 there, so JAX's default matmul precision becomes "highest".

TensorFlow turns its oneDNN CPU ops on by default only on some x86 CPUs (not on an AVX2-only
AMD EPYC, for example); without them its CPU convolutions refuse channels_first and dilated
transposed convolutions, which the layer tests compare against. The tests turn oneDNN on so
that they check the same float ops on every machine.

The zoo's training commands call `keras_binary.host_memory.keep_freed_memory`, a process-wide
malloc setting; tests that run them in the test process get a recorder instead, so every test
runs under glibc's defaults (tests/test_host_memory.py checks the setting in child processes).
"""

import os

import pytest

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

if os.environ.get("KERAS_BACKEND") == "jax":
    import jax

    if jax.default_backend() == "gpu":
        jax.config.update("jax_default_matmul_precision", "highest")

if os.environ.get("KERAS_BACKEND") == "torch":
    import torch

    # The tests read results with np.asarray, which torch refuses for a tensor that requires
    # grad; read such tensors as keras.ops.convert_to_numpy does (detached). Tests only.
    _tensor_array = torch.Tensor.__array__

    def _detached_array(self, *args, **kwargs):
        return _tensor_array(self.detach(), *args, **kwargs)

    torch.Tensor.__array__ = _detached_array


@pytest.fixture(autouse=True)
def _glibc_malloc_defaults(request, monkeypatch):
    if request.module.__name__.endswith("test_host_memory"):
        return
    from keras_binary import host_memory

    monkeypatch.setattr(host_memory, "keep_freed_memory", lambda: True)

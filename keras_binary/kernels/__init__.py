"""Binary inference kernels: bit packing, binary GEMM and conv2d as compiled custom ops,
and the float conv a converted model keeps (`float_conv2d`).

The CPU library (``csrc/``) is called through ``jax.ffi`` on JAX, through an
``XlaCallModule`` op on TensorFlow and through ``torch.library`` custom ops (its plain C entry
points) on PyTorch; under JAX on an NVIDIA GPU the CUDA library
(``csrc/cuda/``, 1-bit tensor cores) serves the same targets. Elsewhere (or with
``implementation="reference"``) the exact float reference in
:mod:`keras_binary.kernels.reference` runs instead.
Tests and benchmarks force an ISA or a GPU GEMM path and probe the GEMM driver's
choices through :mod:`keras_binary.kernels.testing`.

Example::

    from keras_binary import kernels
    kernels.kernel_info()  # {'platform': 'cpu', 'available': True, 'isa': 'avx512', ...}
    y = kernels.binary_matmul(kernels.pack_bits(x), kernels.pack_bits(w), k=x.shape[-1])
"""

from keras_binary.kernels._library import KernelLibraryError
from keras_binary.kernels.bits import packed_words
from keras_binary.kernels.float_conv import float_conv2d
from keras_binary.kernels.float_input import binary_conv2d_float, binary_matmul_float
from keras_binary.kernels.geometry import Conv2dGeometry
from keras_binary.kernels.ops import (
    binary_conv2d,
    binary_matmul,
    kernel_available,
    kernel_info,
    pack_bits,
    pack_conv2d_kernel,
    set_num_threads,
    unpack_bits,
)

__all__ = [
    "Conv2dGeometry",
    "KernelLibraryError",
    "binary_conv2d",
    "binary_conv2d_float",
    "binary_matmul",
    "binary_matmul_float",
    "float_conv2d",
    "kernel_available",
    "kernel_info",
    "pack_bits",
    "pack_conv2d_kernel",
    "packed_words",
    "set_num_threads",
    "unpack_bits",
]

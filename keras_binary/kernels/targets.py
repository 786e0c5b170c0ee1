"""Names of the XLA custom-call targets exported by the kernel library.

Each target name (prefixed with ``TARGET_PREFIX``) maps to the exported FFI handler symbol of
the CPU library (``CPU_TARGETS``) and of the CUDA library
(``CUDA_TARGETS``).
"""

TARGET_PREFIX = "keras_binary_"

TARGETS = {
    "pack_bits": "KbPackBits",
    "binary_matmul_f32": "KbBinaryMatmulF32",
    "binary_matmul_packed": "KbBinaryMatmulPacked",
    "binary_conv2d_f32": "KbBinaryConv2dF32",
    "binary_conv2d_packed": "KbBinaryConv2dPacked",
}

# CPU-only targets: ops on a float input that pack it, mark its NaN rows and add an optional
# residual in one call (`keras_binary.kernels.float_input`); GPUs run the composed ops instead.
FLOAT_INPUT_TARGETS = {
    "binary_matmul_float_f32": "KbBinaryMatmulFloatF32",
    "binary_conv2d_float_f32": "KbBinaryConv2dFloatF32",
}

# CPU-only: a float conv with a per-channel affine epilogue on all of the caller's threads
# (`keras_binary.kernels.float_conv`); GPUs run the framework's conv.
FLOAT_CONV_TARGETS = {
    "float_conv2d_f32": "KbFloatConv2dF32",
}

CPU_TARGETS = TARGETS | FLOAT_INPUT_TARGETS | FLOAT_CONV_TARGETS

# The same targets in the CUDA library (registered with JAX for platform "CUDA").
CUDA_TARGETS = {name: "KbCuda" + symbol[len("Kb"):] for name, symbol in TARGETS.items()}


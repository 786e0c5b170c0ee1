"""Session-wide test settings.

On an NVIDIA GPU, XLA lets float32 matmuls and convolutions run in TF32 (10-bit mantissa) by
default. The tests compare the binary kernels and converted models with float models, which
must compute in full float32 there, so JAX's default matmul precision becomes "highest".
"""

import os

if os.environ.get("KERAS_BACKEND") == "jax":
    import jax

    if jax.default_backend() == "gpu":
        jax.config.update("jax_default_matmul_precision", "highest")

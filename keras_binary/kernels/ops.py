"""Public binary ops with backend dispatch: the XLA kernel where available, else the float
reference (bit-identical). Packed tensors are int32 words along the last axis (bit 1 = -1).

Example::

    from keras_binary import kernels
    px = kernels.pack_bits(x)                      # [M, K] float -> [M, ceil(K / 32)] int32
    pw = kernels.pack_bits(w)                      # [N, K] float -> [N, ceil(K / 32)] int32
    y = kernels.binary_matmul(px, pw, k=K)         # == sign(x) @ sign(w).T, float32 [M, N]
    h = kernels.binary_matmul(px, pw, k=K, scale=s, bias=b, output="packed")  # next layer input
"""

from __future__ import annotations

import keras
from keras import ops

from keras_binary.kernels import reference
from keras_binary.kernels._cuda_library import (
    cuda_gemm_path,
    cuda_library_error,
    load_cuda_library,
)
from keras_binary.kernels._library import library_error, load_library
from keras_binary.kernels.bits import packed_words
from keras_binary.kernels.geometry import Conv2dGeometry, is_positive_int

_IMPLEMENTATIONS = ("auto", "kernel", "reference")
_OUTPUTS = ("float", "packed")


def _jax_platform() -> str:
    import jax

    return jax.default_backend()


def _torch_platform() -> str:
    # Where Keras puts new tensors under torch ("cpu", "cuda", ...): the default device, or
    # the one a `keras.device` scope chose.
    return ops.zeros(()).device.type


def _platform(backend: str) -> str:
    if backend == "jax":
        return _jax_platform()
    if backend == "torch":
        return _torch_platform()
    return "cpu"


def _kernel_error() -> str | None:
    """Why the kernels cannot run under the current backend/platform, or None."""
    backend = keras.backend.backend()
    if backend == "torch":
        platform = _torch_platform()
        if platform == "cpu":
            from keras_binary.kernels import torch_ops

            return torch_ops.kernel_error() or None
        return f"no binary kernels for torch device {platform!r} (only the CPU under torch)"
    if backend == "jax":
        platform = _jax_platform()
        if platform == "cpu":
            return library_error()
        if platform == "gpu":
            return cuda_library_error()
        return f"no binary kernels for JAX platform {platform!r} (only CPU and NVIDIA GPUs)"
    if backend == "tensorflow":
        return library_error()
    return f"no kernel route for the {backend!r} backend (only 'jax', 'tensorflow' and 'torch')"


def kernel_available() -> bool:
    """True when the compiled kernels can run under the current Keras backend and device."""
    return _kernel_error() is None


def kernel_info() -> dict:
    """Backend, platform ("cpu" or "gpu"), library path, FFI API version, the CPU ISA or the
    GPU GEMM path, and the reason if the kernels are unavailable."""
    backend = keras.backend.backend()
    platform = _platform(backend)
    error = _kernel_error()
    info = {"backend": backend, "platform": platform, "available": error is None,
            "error": error}
    if backend == "jax" and platform == "gpu":
        if cuda_library_error() is None:
            import jax

            lib = load_cuda_library()
            info.update(
                library=lib.path,
                device=jax.devices()[0].device_kind,
                gemm=cuda_gemm_path(),
                ffi_api=f"{lib.kb_cuda_ffi_api_major()}.{lib.kb_cuda_ffi_api_minor()}",
                cuda_runtime=lib.kb_cuda_runtime_version(),
            )
    elif platform == "cpu" and library_error() is None:
        lib = load_library()
        info.update(
            library=lib.path,
            isa=lib.kb_isa_name().decode(),
            ffi_api=f"{lib.kb_ffi_api_major()}.{lib.kb_ffi_api_minor()}",
            max_threads=lib.kb_max_threads(),
        )
    return info


def set_num_threads(n: int) -> None:
    """Caps the threads one CPU kernel call uses (0 = the framework's whole CPU thread pool).

    Args:
        n: Maximum number of threads, or 0 for no cap.

    Example:

    >>> set_num_threads(0)  # doctest: +SKIP
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"num_threads must be an int >= 0, got {n!r}")
    load_library().kb_set_max_threads(n)


def _use_kernel(implementation: str) -> bool:
    if implementation not in _IMPLEMENTATIONS:
        raise ValueError(
            f"implementation must be one of {_IMPLEMENTATIONS}, got {implementation!r}"
        )
    if implementation == "reference":
        return False
    error = _kernel_error()
    if implementation == "kernel" and error:
        raise RuntimeError(f"binary kernels unavailable: {error}")
    return error is None


def _call(name: str, args: list, out_dims: list, out_dtype: str, **attrs: int):
    """Runs a kernel target; out_dims items are ints or (arg index, axis) of a dynamic dim."""
    backend = keras.backend.backend()
    if backend in ("jax", "torch"):
        shape = tuple(d if isinstance(d, int) else args[d[0]].shape[d[1]] for d in out_dims)
        if backend == "torch":
            from keras_binary.kernels import torch_ops

            return torch_ops.call(name, args, shape, **attrs)
        from keras_binary.kernels import jax_ffi

        return jax_ffi.call(name, shape, out_dtype, *args, **attrs)
    from keras_binary.kernels import tf_xla

    return tf_xla.call(name, args, out_dims, out_dtype, **attrs)


def _check_dtype(x, allowed: tuple[str, ...], what: str):
    x = ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype not in allowed:
        raise TypeError(f"{what} must have dtype {' or '.join(allowed)}, got {dtype}")
    if len(x.shape) < 1:
        raise ValueError(f"{what} must have rank >= 1, got a scalar")
    return x


def _check_output(output: str) -> None:
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")


def _channel_vector(v, n: int, name: str, fill: float):
    if v is None:
        return ops.full((n,), fill, dtype="float32")
    v = ops.cast(ops.convert_to_tensor(v), "float32")
    if tuple(v.shape) != (n,):
        raise ValueError(f"{name} must have shape ({n},) (one value per output), got {v.shape}")
    return v


def _gemm_like(op: str, x, w, leading_dims: list, scale, bias, output: str,
               implementation: str, reference_fn, **attrs: int):
    """Shared tail of the GEMM-shaped ops: epilogue vectors, then kernel or reference."""
    n = w.shape[0]
    scale = _channel_vector(scale, n, "scale", 1.0)
    bias = _channel_vector(bias, n, "bias", 0.0)
    if not _use_kernel(implementation):
        return reference_fn(scale, bias)
    if output == "float":
        return _call(f"{op}_f32", [x, w, scale, bias], leading_dims + [n], "float32", **attrs)
    return _call(f"{op}_packed", [x, w, scale, bias], leading_dims + [packed_words(n)], "int32",
                 **attrs)


def pack_bits(x, implementation: str = "auto"):
    """Packs the signs of float32 ``x`` along the last axis: [..., K] -> int32 [..., ceil(K/32)].

    Bit j of word i is 1 where ``x[..., 32 * i + j] < 0``; padding bits are 0. On CPU a subnormal
    counts as zero (bit 0), as in the backends' own float ops: their threads flush subnormals.

    Args:
        x: float32 tensor [..., K] with a static K.
        implementation: "auto" (the kernel where available), "kernel" (error if unavailable)
            or "reference" (the float reference).

    Returns:
        int32 tensor [..., ceil(K/32)].

    Example:

    >>> import numpy as np
    >>> np.asarray(pack_bits(np.array([[-1.0, 1.0, -1.0]], "float32"))).tolist()
    [[5]]
    """
    x = _check_dtype(x, ("float32",), "pack_bits input")
    k = x.shape[-1]
    if k is None or k < 1:
        raise ValueError(f"pack_bits needs a static, non-empty last axis, got shape {x.shape}")
    if not _use_kernel(implementation):
        return reference.pack_bits(x)
    dims = [(0, a) for a in range(len(x.shape) - 1)] + [packed_words(k)]
    return _call("pack_bits", [x], dims, "int32")


def unpack_bits(packed, k: int):
    """Packed int32 words -> float32 +-1 values, last axis of length ``k``.

    Args:
        packed: int32 tensor [..., W] from :func:`pack_bits`.
        k: number of values to unpack, 1 to 32 * W.

    Returns:
        float32 tensor [..., k]: -1.0 where the bit is 1, +1.0 where it is 0.

    Example:

    >>> import numpy as np
    >>> np.asarray(unpack_bits(np.array([[5]], "int32"), k=3)).tolist()
    [[-1.0, 1.0, -1.0]]
    """
    packed = _check_dtype(packed, ("int32",), "packed input")
    if not is_positive_int(k) or k > 32 * packed.shape[-1]:
        raise ValueError(f"k={k!r} does not fit in {packed.shape[-1]} packed words")
    return reference.unpack_bits(packed, k)


def pack_conv2d_kernel(kernel):
    """Packs a float conv kernel [kh, kw, Cin, Cout] into int32 [Cout, kh, kw, ceil(Cin/32)].

    Args:
        kernel: float32 Keras conv kernel [kh, kw, Cin, Cout].

    Returns:
        int32 tensor [Cout, kh, kw, ceil(Cin/32)], the layout :func:`binary_conv2d` takes.

    Example:

    >>> import numpy as np
    >>> tuple(pack_conv2d_kernel(np.ones((3, 3, 40, 8), "float32")).shape)
    (8, 3, 3, 2)
    """
    kernel = _check_dtype(kernel, ("float32",), "conv kernel")
    if len(kernel.shape) != 4:
        raise ValueError(f"conv kernel must be [kh, kw, Cin, Cout], got shape {kernel.shape}")
    return pack_bits(ops.transpose(kernel, (3, 0, 1, 2)))


def binary_matmul(packed_x, packed_w, k: int, scale=None, bias=None, output: str = "float",
                  implementation: str = "auto"):
    """Binary GEMM ``acc = sign(x) @ sign(w).T = k - 2 * popcount(x ^ w)`` with an epilogue.

    Args:
        packed_x: int32 [..., ceil(k/32)] packed activations (leading dims may be unknown).
        packed_w: int32 [N, ceil(k/32)] packed weights (one row per output).
        k: number of real bits per row (padding bits contribute nothing).
        scale: optional float [N]; ``y = acc * scale + bias`` (default 1).
        bias: optional float [N] (default 0).
        output: "float" -> float32 [..., N]; "packed" -> int32 [..., ceil(N/32)] of ``y < 0``.
        implementation: "auto", "kernel" (error if unavailable) or "reference".

    Returns:
        ``y`` as float32 [..., N], or its packed sign bits with ``output="packed"``.

    Example:

    >>> import numpy as np
    >>> from keras_binary import kernels
    >>> x = kernels.pack_bits(np.array([[1.0, -1.0, 1.0]], "float32"))
    >>> w = kernels.pack_bits(np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]], "float32"))
    >>> np.asarray(kernels.binary_matmul(x, w, k=3)).tolist()
    [[1.0, 3.0]]
    """
    _check_output(output)
    x = _check_dtype(packed_x, ("int32",), "packed_x")
    w = _check_dtype(packed_w, ("int32",), "packed_w")
    if not is_positive_int(k):
        raise ValueError(f"k must be a positive int (real bits per row), got {k!r}")
    k = int(k)
    words = packed_words(k)
    if len(w.shape) != 2 or w.shape[1] != words or x.shape[-1] != words:
        raise ValueError(
            f"packed shapes do not match k={k} ({words} words per row): packed_x {x.shape}, "
            f"packed_w {w.shape} (expected [..., {words}] and [N, {words}])"
        )
    leading = [(0, a) for a in range(len(x.shape) - 1)]
    return _gemm_like("binary_matmul", x, w, leading, scale, bias, output, implementation,
                      lambda s, b: reference.binary_matmul(x, w, k, s, b, output), k=k)


def binary_conv2d(x, packed_kernel, channels: int | None = None, strides=1, padding="valid",
                  dilation_rate=1, pad_value: str = "one", scale=None, bias=None,
                  output: str = "float", implementation: str = "auto"):
    """Binary NHWC conv2d: ``conv(sign(x), sign(kernel))`` with an affine/threshold epilogue.

    Args:
        x: float32 [B, H, W, C] (packed inside) or packed int32 [B, H, W, ceil(C/32)].
        packed_kernel: int32 [Cout, kh, kw, ceil(C/32)] from :func:`pack_conv2d_kernel`.
        channels: real input channels C; required for packed ``x``.
        strides: int or pair.
        padding: "valid" or "same" (TF convention).
        dilation_rate: int or pair.
        pad_value: "one" (padded pixels are +1, free) or "zero" (exact zero padding).
        scale: optional float [Cout], as in :func:`binary_matmul`.
        bias: optional float [Cout], as in :func:`binary_matmul`.
        output: "float" or "packed", as in :func:`binary_matmul`.
        implementation: "auto", "kernel" or "reference", as in :func:`binary_matmul`.

    Returns:
        float32 [B, out_h, out_w, Cout], or int32 [B, out_h, out_w, ceil(Cout/32)] packed.

    Example:

    >>> import numpy as np
    >>> from keras_binary import kernels
    >>> kernel = kernels.pack_conv2d_kernel(np.ones((3, 3, 4, 2), "float32"))
    >>> y = kernels.binary_conv2d(np.ones((1, 5, 5, 4), "float32"), kernel)
    >>> tuple(y.shape), float(y[0, 0, 0, 0])
    ((1, 3, 3, 2), 36.0)
    """
    _check_output(output)
    x = _check_dtype(x, ("float32", "int32"), "conv input")
    if keras.backend.standardize_dtype(x.dtype) == "float32":
        if channels not in (None, x.shape[-1]):
            raise ValueError(f"channels={channels} differs from the float input's {x.shape[-1]}")
        channels = x.shape[-1]
        x = pack_bits(x, implementation)
    elif channels is None:
        raise ValueError("channels is required when the conv input is packed (int32)")
    w = _check_dtype(packed_kernel, ("int32",), "packed_kernel")
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise ValueError(f"conv input and kernel must have rank 4, got {x.shape} and {w.shape}")
    g = Conv2dGeometry.create(x.shape[1:3], w.shape[1:3], channels, strides, padding,
                              dilation_rate, pad_value)
    words = packed_words(channels)
    if x.shape[-1] != words or w.shape[-1] != words:
        raise ValueError(
            f"packed shapes do not match {channels} channels ({words} words): input {x.shape}, "
            f"kernel {w.shape}"
        )
    return _gemm_like("binary_conv2d", x, w, [(0, 0), g.out_h, g.out_w], scale, bias, output,
                      implementation,
                      lambda s, b: reference.binary_conv2d(x, w, g, s, b, output),
                      **g.kernel_attrs())

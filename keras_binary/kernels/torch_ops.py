"""PyTorch route: the CPU library's plain C entry points (``csrc/c_kernels.cc``, the same GEMM
driver the XLA handlers run) wrapped as ``torch.library`` custom ops, each with a fake
implementation so that ``torch.compile`` traces them into its graph without a graph break.
The kernels use ``torch.get_num_threads()`` threads (capped by ``kernels.set_num_threads``).
Only imported under the PyTorch backend. Example::

    y = call("binary_matmul_f32", [x, w, scale, bias], (m, n), k=k)
    y = torch.ops.keras_binary.binary_matmul(x, w, scale, bias, k, False)  # the op itself
"""

from __future__ import annotations

import ctypes
import functools

import torch

from keras_binary.kernels._library import library_error, load_library
from keras_binary.kernels.bits import packed_words

_P = ctypes.c_void_p
_I64 = ctypes.c_int64


@functools.cache
def _lib() -> ctypes.CDLL:
    """The kernel library with the C entry points' signatures declared (once per process)."""
    lib = load_library()
    lib.kb_c_pack_bits.argtypes = [_P, _I64, _I64, _P]
    lib.kb_c_binary_matmul.argtypes = [_P, _I64, _P, _I64, _I64, _P, _P, _P, _P, ctypes.c_int]
    lib.kb_c_binary_conv2d.argtypes = [_P, _I64, _I64, _I64, _P] + [_I64] * 5 + [_P] * 5 + [
        ctypes.c_int]
    lib.kb_c_binary_matmul_float.argtypes = [_P, _I64, _P, _I64, _I64, _P, _P, _P, _P,
                                             ctypes.c_int]
    lib.kb_c_binary_conv2d_float.argtypes = [_P, _I64, _I64, _I64, _P] + [_I64] * 5 + [
        _P] * 5 + [ctypes.c_int]
    lib.kb_c_float_conv2d.argtypes = [_P, _I64, _I64, _I64, _P] + [_I64] * 5 + [_P] * 4 + [
        ctypes.c_int]
    for fn in (lib.kb_c_pack_bits, lib.kb_c_binary_matmul, lib.kb_c_binary_conv2d,
               lib.kb_c_binary_matmul_float, lib.kb_c_binary_conv2d_float,
               lib.kb_c_float_conv2d):
        fn.restype = ctypes.c_char_p
    return lib


@torch.compiler.assume_constant_result
def kernel_error() -> str:
    """Why the CPU library cannot run ("" when it can); a constant to ``torch.compile``, which
    would otherwise trace the library search (file-system calls it cannot trace)."""
    return library_error() or ""


@torch.compiler.assume_constant_result
def conv_attr_order() -> tuple[str, ...]:
    """The conv2d attribute names in the order ``kb_c_binary_conv2d`` reads them (a constant to
    ``torch.compile``)."""
    return tuple(_lib().kb_conv2d_attr_names().decode().split(","))


def _check(error: bytes) -> None:
    if error:
        raise RuntimeError(f"keras_binary kernel failed: {error.decode()}")


def _ptr(t: torch.Tensor | None):
    return None if t is None else ctypes.c_void_p(t.data_ptr())


def _cpu_contiguous(t: torch.Tensor, dtype: torch.dtype, what: str) -> torch.Tensor:
    if t.device.type != "cpu" or t.dtype != dtype:
        raise ValueError(f"{what} must be a {dtype} CPU tensor (the torch route runs the CPU "
                         f"kernels), got {t.dtype} on {t.device}")
    return t.contiguous()


@torch.library.custom_op("keras_binary::pack_bits", mutates_args=())
def pack_bits(x: torch.Tensor) -> torch.Tensor:
    """float32 [..., K] -> int32 [..., ceil(K / 32)], bit = x < 0."""
    x = _cpu_contiguous(x, torch.float32, "pack_bits input")
    k = x.shape[-1]
    out = torch.empty((*x.shape[:-1], packed_words(k)), dtype=torch.int32)
    _check(_lib().kb_c_pack_bits(_ptr(x), x.numel() // k, k, _ptr(out)))
    return out


@pack_bits.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return x.new_empty((*x.shape[:-1], packed_words(x.shape[-1])), dtype=torch.int32)


def _epilogue(scale: torch.Tensor, bias: torch.Tensor, n: int) -> tuple:
    scale = _cpu_contiguous(scale, torch.float32, "scale")
    bias = _cpu_contiguous(bias, torch.float32, "bias")
    if scale.numel() != n or bias.numel() != n:
        raise ValueError(f"scale and bias must have one value per output channel ({n})")
    return scale, bias


def _output(leading: tuple, n: int, packed: bool) -> tuple:
    """The output buffer and the (float, packed) pointers of which exactly one is set."""
    if packed:
        out = torch.empty((*leading, packed_words(n)), dtype=torch.int32)
        return out, None, _ptr(out)
    out = torch.empty((*leading, n), dtype=torch.float32)
    return out, _ptr(out), None


@torch.library.custom_op("keras_binary::binary_matmul", mutates_args=())
def binary_matmul(x: torch.Tensor, w: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor,
                  k: int, packed: bool) -> torch.Tensor:
    """x int32 [..., ceil(k / 32)], w int32 [N, ceil(k / 32)] -> float32 [..., N] or, packed,
    int32 [..., ceil(N / 32)]."""
    x = _cpu_contiguous(x, torch.int32, "packed_x")
    w = _cpu_contiguous(w, torch.int32, "packed_w")
    n = w.shape[0]
    scale, bias = _epilogue(scale, bias, n)
    out, out_f, out_p = _output(tuple(x.shape[:-1]), n, packed)
    rows = x.numel() // x.shape[-1]
    _check(_lib().kb_c_binary_matmul(_ptr(x), rows, _ptr(w), n, k, _ptr(scale), _ptr(bias),
                                     out_f, out_p, torch.get_num_threads()))
    return out


@binary_matmul.register_fake
def _(x, w, scale, bias, k, packed):
    n = w.shape[0]
    return x.new_empty((*x.shape[:-1], packed_words(n) if packed else n),
                       dtype=torch.int32 if packed else torch.float32)


@torch.library.custom_op("keras_binary::binary_conv2d", mutates_args=())
def binary_conv2d(x: torch.Tensor, w: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor,
                  attrs: list[int], out_h: int, out_w: int, packed: bool) -> torch.Tensor:
    """x int32 [B, H, W, words], w int32 [Cout, kh, kw, words] -> float32 [B, out_h, out_w,
    Cout] or, packed, int32 [B, out_h, out_w, ceil(Cout / 32)]; ``attrs`` in
    :func:`conv_attr_order`."""
    x = _cpu_contiguous(x, torch.int32, "conv input")
    w = _cpu_contiguous(w, torch.int32, "packed_kernel")
    cout, kh, kw = w.shape[:3]
    scale, bias = _epilogue(scale, bias, cout)
    out, out_f, out_p = _output((x.shape[0], out_h, out_w), cout, packed)
    c_attrs = (ctypes.c_int64 * len(attrs))(*attrs)
    _check(_lib().kb_c_binary_conv2d(_ptr(x), *x.shape[:3], _ptr(w), cout, kh, kw, out_h, out_w,
                                     c_attrs, _ptr(scale), _ptr(bias), out_f, out_p,
                                     torch.get_num_threads()))
    return out


@binary_conv2d.register_fake
def _(x, w, scale, bias, attrs, out_h, out_w, packed):
    cout = w.shape[0]
    return x.new_empty((x.shape[0], out_h, out_w, packed_words(cout) if packed else cout),
                       dtype=torch.int32 if packed else torch.float32)


def _residual(residual: torch.Tensor | None, shape: tuple) -> torch.Tensor | None:
    if residual is None:
        return None
    residual = _cpu_contiguous(residual, torch.float32, "residual")
    if tuple(residual.shape) != tuple(shape):
        raise ValueError(f"residual {tuple(residual.shape)} must have the output's shape "
                         f"{tuple(shape)}")
    return residual


@torch.library.custom_op("keras_binary::binary_matmul_float", mutates_args=())
def binary_matmul_float(x: torch.Tensor, w: torch.Tensor, scale: torch.Tensor,
                        bias: torch.Tensor, residual: torch.Tensor | None) -> torch.Tensor:
    """x float32 [..., k] (packed inside), w int32 [N, ceil(k / 32)], optional residual
    float32 [..., N] -> float32 [..., N]; a row holding a NaN gives NaN outputs."""
    x = _cpu_contiguous(x, torch.float32, "float input")
    w = _cpu_contiguous(w, torch.int32, "packed_w")
    n, k = w.shape[0], x.shape[-1]
    scale, bias = _epilogue(scale, bias, n)
    out = torch.empty((*x.shape[:-1], n), dtype=torch.float32)
    residual = _residual(residual, out.shape)
    _check(_lib().kb_c_binary_matmul_float(_ptr(x), x.numel() // k, _ptr(w), n, k, _ptr(scale),
                                           _ptr(bias), _ptr(residual), _ptr(out),
                                           torch.get_num_threads()))
    return out


@binary_matmul_float.register_fake
def _(x, w, scale, bias, residual):
    return x.new_empty((*x.shape[:-1], w.shape[0]), dtype=torch.float32)


@torch.library.custom_op("keras_binary::binary_conv2d_float", mutates_args=())
def binary_conv2d_float(x: torch.Tensor, w: torch.Tensor, scale: torch.Tensor,
                        bias: torch.Tensor, residual: torch.Tensor | None, attrs: list[int],
                        out_h: int, out_w: int) -> torch.Tensor:
    """x float32 [B, H, W, C] (packed inside), w int32 [Cout, kh, kw, ceil(C / 32)], optional
    residual float32 [B, out_h, out_w, Cout] -> float32 [B, out_h, out_w, Cout]; a sample
    holding a NaN gives NaN outputs; ``attrs`` in :func:`conv_attr_order`."""
    x = _cpu_contiguous(x, torch.float32, "conv input")
    w = _cpu_contiguous(w, torch.int32, "packed_kernel")
    cout, kh, kw = w.shape[:3]
    scale, bias = _epilogue(scale, bias, cout)
    out = torch.empty((x.shape[0], out_h, out_w, cout), dtype=torch.float32)
    residual = _residual(residual, out.shape)
    c_attrs = (ctypes.c_int64 * len(attrs))(*attrs)
    _check(_lib().kb_c_binary_conv2d_float(_ptr(x), *x.shape[:3], _ptr(w), cout, kh, kw, out_h,
                                           out_w, c_attrs, _ptr(scale), _ptr(bias),
                                           _ptr(residual), _ptr(out), torch.get_num_threads()))
    return out


@binary_conv2d_float.register_fake
def _(x, w, scale, bias, residual, attrs, out_h, out_w):
    return x.new_empty((x.shape[0], out_h, out_w, w.shape[0]), dtype=torch.float32)


@torch.library.custom_op("keras_binary::float_conv2d", mutates_args=())
def float_conv2d(x: torch.Tensor, w: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor,
                 attrs: list[int], out_h: int, out_w: int) -> torch.Tensor:
    """x float32 [B, H, W, C], w float32 [kh, kw, C, Cout] -> float32 [B, out_h, out_w, Cout]
    = conv * scale + bias, zero padding; ``attrs`` in :func:`conv_attr_order`."""
    x = _cpu_contiguous(x, torch.float32, "float_conv2d input")
    w = _cpu_contiguous(w, torch.float32, "float_conv2d kernel")
    kh, kw, _, cout = w.shape
    scale, bias = _epilogue(scale, bias, cout)
    out = torch.empty((x.shape[0], out_h, out_w, cout), dtype=torch.float32)
    c_attrs = (ctypes.c_int64 * len(attrs))(*attrs)
    _check(_lib().kb_c_float_conv2d(_ptr(x), *x.shape[:3], _ptr(w), cout, kh, kw, out_h, out_w,
                                    c_attrs, _ptr(scale), _ptr(bias), _ptr(out),
                                    torch.get_num_threads()))
    return out


@float_conv2d.register_fake
def _(x, w, scale, bias, attrs, out_h, out_w):
    return x.new_empty((x.shape[0], out_h, out_w, w.shape[-1]), dtype=torch.float32)


def call(name: str, args: list, shape: tuple, **attrs: int) -> torch.Tensor:
    """Runs kernel target ``name`` (of ``targets.CPU_TARGETS``) on torch tensors ``args``;
    ``shape`` is the output shape, from which a conv takes its output height and width."""
    if name == "pack_bits":
        return pack_bits(*args)
    if name == "float_conv2d_f32":
        ordered = [attrs[key] for key in conv_attr_order()]
        return float_conv2d(*args, ordered, shape[1], shape[2])
    op, _, kind = name.rpartition("_")
    packed = kind == "packed"
    if op in ("binary_matmul_float", "binary_conv2d_float"):
        x, w, scale, bias, *rest = args
        residual = rest[0] if rest else None
        if op == "binary_matmul_float":
            return binary_matmul_float(x, w, scale, bias, residual)
        ordered = [attrs[key] for key in conv_attr_order()]
        return binary_conv2d_float(x, w, scale, bias, residual, ordered, shape[1], shape[2])
    if op == "binary_matmul":
        return binary_matmul(*args, attrs["k"], packed)
    if op == "binary_conv2d":
        ordered = [attrs[key] for key in conv_attr_order()]
        return binary_conv2d(*args, ordered, shape[1], shape[2], packed)
    raise ValueError(f"no torch op for kernel target {name!r}")

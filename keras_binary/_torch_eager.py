"""The hot elementwise steps of BNN training written for eager PyTorch (`KERAS_BACKEND=torch`).

Eager PyTorch runs every `keras.ops` call as its own pass over memory and allocates a fresh
tensor for each result. XLA fuses the same expressions on JAX and TensorFlow, but under torch
a 2048x2048 kernel's sign took five passes and four new 16 MB tensors, and on CPU a fresh large
tensor costs more than the pass that fills it (the pages are faulted in and zeroed again). These
functions compute the same values, bit for bit, in fewer passes, in place on tensors they
allocated themselves, and without bool tensors (comparisons write 0.0/1.0 in place instead).

Only the torch branches of `keras_binary.math`, the quantizers and the optimizers import this
module, so the other backends never import torch.
"""

from __future__ import annotations

from typing import Any

import torch


def may_hold_nan(x: torch.Tensor) -> bool:
    """False only when `x` certainly holds no NaN.

    On CPU, outside `torch.compile`, one reduction answers it: a sum is NaN when `x` holds a NaN
    (and when it holds both infinities, a false alarm that only costs the exact check). On other
    devices, or while compiling, the answer is True: the caller's exact check then runs without
    a host sync or a graph break.
    """
    if x.device.type != "cpu" or torch.compiler.is_compiling():
        return True
    return bool(torch.isnan(x.sum()))


def sign(x: torch.Tensor) -> torch.Tensor:
    """`keras_binary.math.sign` of a floating-point tensor: sign(sign(x) + 0.1), NaN kept.

    Three passes into one new tensor; the NaN select (torch.sign(NaN) is 0) runs only when
    `may_hold_nan(x)`.
    """
    signs = torch.sign(x).add_(0.1).sign_()
    if may_hold_nan(x):
        signs = torch.where(torch.isnan(x), x, signs)
    return signs


def within(x: torch.Tensor, bound: float) -> torch.Tensor:
    """1{|x| <= bound} as a new tensor of x's dtype (0.0 where x is NaN), without a bool tensor."""
    return torch.abs(x).le_(bound)


class _StraightThrough(torch.autograd.Function):
    """forward(x), with the gradient upstream * 1{|x| <= bound} computed into one new tensor."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, forward: Any, bound: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.bound = bound
        return forward(x)

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[Any, None, None]:
        (x,) = ctx.saved_tensors
        # The mask is ours (never `upstream`, which autograd may share): scaled in place.
        return within(x, ctx.bound).to(upstream.dtype).mul_(upstream), None, None


def straight_through(forward: Any, x: torch.Tensor, bound: float) -> torch.Tensor:
    """`forward(x)` with the straight-through gradient upstream * 1{|x| <= bound}.

    While `torch.compile` traces, the generic `keras.ops.custom_gradient` form runs as before:
    Inductor fuses its passes, and allocation is then Inductor's to plan.
    """
    if torch.compiler.is_compiling():
        from keras_binary.quantizers.base import with_pseudo_gradient
        from keras_binary.quantizers.sign import straight_through as scale

        return with_pseudo_gradient(forward, scale(bound))(x)
    return _StraightThrough.apply(x, forward, bound)


def finite_sums(tensors: list[Any]) -> bool:
    """True when the sum of every tensor is finite: then none holds a NaN or an infinity.

    A False may be an overflow of finite values; callers then check elementwise. Used eagerly
    only (it reads the result on the host).
    """
    if not tensors:
        return True
    sums = torch.stack([torch.sum(t).float() for t in tensors])
    return bool(torch.isfinite(sums).all())


@torch.no_grad()  # a projection after an optimizer step, never differentiated
def clip_(w: torch.Tensor, bound: float) -> torch.Tensor:
    """Clips `w` to [-bound, bound] in place and returns it (what `torch.clip` would return).

    An optimizer assigns a constraint's result to the variable; given the variable's own tensor
    back, that assignment copies nothing (`copy_` of a tensor onto itself returns at once).
    """
    return w.clamp_(-bound, bound)


@torch.no_grad()  # an optimizer step, never differentiated
def bop_flip(w: torch.Tensor, m: torch.Tensor, threshold: Any) -> torch.Tensor:
    """where(w * m > threshold, -w, w) for w in {-1, +1}, computed in place into `w`.

    The flip factor 1 - 2 * 1{w m > threshold} (+1 or -1) multiplies w: -w and w exactly, and a
    NaN w stays NaN as in the select. `w` must be a tensor the caller owns.
    """
    factor = torch.mul(w, m).gt_(threshold).mul_(-2.0).add_(1.0)
    return w.mul_(factor)


@torch.no_grad()  # an optimizer step, never differentiated
def lerp_(state: torch.Tensor, target: torch.Tensor, rate: Any) -> torch.Tensor:
    """state += (target - state) * rate, in place (`target` is left as it is).

    The same difference, product and sum as `assign_add(state, (target - state) * rate)`, with
    one new tensor where that makes three. Returns `state`.
    """
    return state.add_(torch.sub(target, state).mul_(rate))


@torch.no_grad()  # an optimizer step, never differentiated
def lab_step_(w: torch.Tensor, gradient: torch.Tensor, m: torch.Tensor, v: torch.Tensor,
              lr: Any, beta_1: Any, beta_2: Any, step: Any,
              epsilon: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """`keras_binary.optimizers.LAB`'s kernel step: updates m and v in place and returns the new
    kernel clip(w - lr * m_hat / d, -1, 1) and the curvature d (both new tensors; `w` is read).

    The scalars are 0-d tensors of w's dtype, as LAB computes them, so that every product and
    sum is the one LAB's `keras.ops` expression computes.
    """
    lerp_(m, gradient, 1 - beta_1)
    lerp_(v, torch.square(gradient), 1 - beta_2)
    d = torch.div(v, 1 - torch.pow(beta_2, step)).sqrt_().add_(epsilon)
    update = torch.div(m, 1 - torch.pow(beta_1, step)).mul_(lr).div_(d)  # lr * m_hat / d
    return torch.sub(w, update, out=update).clamp_(-1.0, 1.0), d

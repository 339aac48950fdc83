"""Iterative solvers shared by layers whose inverse has no closed form.

Both run without gradients to their tolerance and then take one step with gradients: for a
root ``a*`` of ``f(a) = y`` one Newton step from ``a*`` gives ``da/dtheta = -(df/dtheta) /
f'(a)`` (the implicit function theorem, exact at a root); for a fixed point one more
application of the map gives the first-order gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["increasing_root", "fixed_point"]


def increasing_root(
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    target: torch.Tensor,
    lower: torch.Tensor,
    upper: torch.Tensor,
    method: str,
    tol: float,
    max_iter: int,
) -> torch.Tensor:
    """The root ``a`` of ``fn(a)[0] = target`` for an elementwise non-decreasing ``fn``
    (returning its value and slope) bracketed by ``lower <= a <= upper``.

    ``method`` is ``"bisection"`` (stops when the bracket is narrower than ``2 tol``) or
    ``"newton"`` (stops when a step is below ``tol``; a step leaving the bracket becomes a
    bisection step, so it converges wherever bisection does)."""
    with torch.no_grad():
        lo, hi = lower.detach(), upper.detach()
        target_ = target.detach()
        root = (lo + hi) / 2
        for _ in range(max_iter):
            value, slope = fn(root)
            residual = value - target_
            lo = torch.where(residual < 0, root, lo)
            hi = torch.where(residual > 0, root, hi)
            middle = (lo + hi) / 2
            if method == "newton":
                step = root - residual / slope
                new = torch.where((step > lo) & (step < hi), step, middle)
                converged = bool(((new - root).abs() <= tol).all())
            else:
                new = middle
                converged = bool(((hi - lo) <= 2 * tol).all())
            root = new
            if converged:
                break
    value, slope = fn(root)
    return root - (value - target) / slope


def fixed_point(
    step: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, tol: float, max_iter: int
) -> torch.Tensor:
    """Iterate ``x <- step(x)`` from ``start`` until no element moves by more than ``tol``
    (at most ``max_iter`` times), then apply ``step`` once more with gradients."""
    with torch.no_grad():
        x = start.detach()
        for _ in range(max_iter):
            new = step(x)
            converged = bool(((new - x).abs() <= tol).all())
            x = new
            if converged:
                break
    return step(x)

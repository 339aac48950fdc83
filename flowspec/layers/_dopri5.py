"""An adaptive Dormand-Prince 5(4) solve to one end time, without gradients.

Dormand and Prince, "A family of embedded Runge-Kutta formulae", Journal of Computational
and Applied Mathematics 6(1), 1980: the seven-stage pair whose last stage is the field at
the new point (first same as last, FSAL: six evaluations per step); step-size control and
the starting step of Hairer, Norsett and Wanner, "Solving Ordinary Differential Equations I:
Nonstiff Problems", 2nd ed., Sec. II.4.

The error test, the norm and the step-size rule are torchdiffeq's ``dopri5`` (the solver a
CNF's inference and gradients use): a step is accepted when the root mean square over every
element of ``err / (atol + rtol * max(|y0|, |y1|))`` is at most 1; the next step is the
last times ``min(10, max(0.9 * ratio^(-1/5), 0.2))``, never shrunk after an accepted step.
What this solver leaves out is what a generation solve never uses: the dense-output
interpolant torchdiffeq fits after every accepted step (its output times lie between
steps), the autograd bookkeeping, tuple states. The last step is shortened to land on the
end time instead of stepping past it and interpolating back; that step passes the same
error test.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["dopri5"]

#: The stages' nodes ``c_i`` (of the six after the first) and their rows ``a_ij``.
NODES = (1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
ROWS = (
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    #: The fifth-order solution's weights: the last stage is the field at the new point.
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
#: Fifth- minus fourth-order weights over the seven stages: the local error estimate.
ERROR = (
    35 / 384 - 5179 / 57600,
    0.0,
    500 / 1113 - 7571 / 16695,
    125 / 192 - 393 / 640,
    -2187 / 6784 + 92097 / 339200,
    11 / 84 - 187 / 2100,
    -1 / 40,
)
#: Step-size control (torchdiffeq's defaults): safety factor, largest growth, largest
#: shrink after a rejected step, and the exponent ``1 / order``.
SAFETY, GROWTH, SHRINK, EXPONENT = 0.9, 10.0, 0.2, 1 / 5


def dopri5(
    field: Callable[[float, torch.Tensor], torch.Tensor],
    y0: torch.Tensor,
    start: float,
    end: float,
    rtol: float,
    atol: float,
    first_step: float | None,
) -> torch.Tensor:
    """``y(end)`` for ``dy/dt = field(t, y)``, ``y(start) = y0`` (``end < start`` integrates
    backwards), each step's local error within ``rtol`` and ``atol``; ``first_step`` is the
    size of the first step tried (None: Hairer's estimate from the field at the start)."""
    with torch.no_grad():
        shape, span = y0.shape, end - start
        direction = math.copysign(1.0, span)
        rows = [torch.tensor(row, dtype=y0.dtype, device=y0.device) for row in ROWS]
        error_weights = torch.tensor(ERROR, dtype=y0.dtype, device=y0.device)
        stages = y0.new_empty(7, y0.numel())
        y, t = y0.reshape(-1), start
        stages[0] = field(t, y0).reshape(-1)
        dt = first_step
        if dt is None:
            dt = starting_step(field, y0, stages[0].view(shape), start, direction, rtol, atol)
        while t != end:
            last = dt >= abs(end - t)
            h = end - t if last else direction * dt
            if t + h == t:
                raise RuntimeError(f"dopri5: the step size underflowed at t = {t}")
            after = end if last else t + h
            for i, (node, row) in enumerate(zip(NODES, rows, strict=True)):
                stage = torch.addmv(y, stages[: i + 1].T, row, alpha=h)
                stages[i + 1] = field(
                    after if node == 1.0 else t + node * h, stage.view(shape)
                ).reshape(-1)
            ratio = error_ratio(torch.mv(stages.T, error_weights) * h, y, stage, rtol, atol)
            if ratio <= 1:
                y, t = stage, after
                stages[0] = stages[6]
            dt = abs(h) * step_factor(ratio)
        return y.view(shape)


def error_ratio(
    error: torch.Tensor, y0: torch.Tensor, y1: torch.Tensor, rtol: float, atol: float
) -> float:
    """The root mean square of ``error / (atol + rtol * max(|y0|, |y1|))``: at most 1
    accepts the step."""
    scale = torch.maximum(y0.abs(), y1.abs()).mul_(rtol).add_(atol)
    return float(torch.linalg.vector_norm(error.div_(scale))) / math.sqrt(error.numel())


def step_factor(ratio: float) -> float:
    """How much the next step grows (or, after a rejection, shrinks): Hairer, Norsett and
    Wanner's ``0.9 * ratio^(-1/5)``, between 1 (accepted) or 0.2 (rejected) and 10."""
    if not math.isfinite(ratio):
        raise RuntimeError(f"dopri5: the error estimate is {ratio} (a non-finite field)")
    if ratio == 0:
        return GROWTH
    return min(GROWTH, max(SAFETY * ratio**-EXPONENT, 1.0 if ratio < 1 else SHRINK))


def starting_step(
    field: Callable[[float, torch.Tensor], torch.Tensor],
    y0: torch.Tensor,
    f0: torch.Tensor,
    start: float,
    direction: float,
    rtol: float,
    atol: float,
) -> float:
    """Hairer, Norsett and Wanner's starting step (Sec. II.4), as torchdiffeq computes it:
    one more evaluation of the field, an Euler step of ``0.01 |y0| / |f0|`` away."""

    def norm(x: torch.Tensor) -> float:
        return float(torch.linalg.vector_norm(x / scale)) / math.sqrt(x.numel())

    scale = y0.abs().mul_(rtol).add_(atol)
    d0, d1 = norm(y0), norm(f0)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    f1 = field(start + direction * h0, y0 + direction * h0 * f0)
    d2 = norm(f1 - f0) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1 / 5)
    return min(100 * h0, h1)

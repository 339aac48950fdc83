"""The torch modules of elementwise maps (spec, shape rule and formulas:
:mod:`flowspec.nodes.elementwise`)."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer

__all__ = ["Elementwise", "ScaleShift", "LeakyReLU", "Sigmoid", "Logit", "Tanh", "Exp", "Log", "Softplus"]


LOG2 = math.log(2.0)


class Elementwise(FlowLayer):
    """Base of the elementwise maps: subclasses give the map with its log-derivative per
    element, and the inverse map; the contribution sums the log-derivatives per sample."""

    fn: ClassVar[str] = ""

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(f(x), log|f'(x)|)`` elementwise."""
        raise NotImplementedError

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        """``f^-1(z)`` elementwise."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        z, log_derivative = self.transform(x)
        return z, log_derivative.reshape(x.shape[0], -1).sum(1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.untransform(z)

    def extra_repr(self) -> str:
        return f"fn={self.fn}"


class ScaleShift(Elementwise):
    """``z = scale * x + shift``; when learnable, ``scale = sign * exp(log_scale)``.

    The fixed map keeps its constants as Python floats (float64) rather than float32
    buffers: they enter the computation in the input's dtype, so after ``.double()`` the
    map and its log-det are exact to float64 (``0.1 * x + 0.3`` is 0.4 at x = 1, and the
    log-det is ``log 0.1``), and bounded data stays inside its bounds."""

    fn = "scale_shift"

    def __init__(self, scale: float, shift: float, learnable: bool = False):
        super().__init__()
        self.learnable = learnable
        # The sign, and the values when not learnable, come from the spec: not saved.
        self.sign = math.copysign(1.0, scale)
        self.scale = float(scale)
        self.log_abs_scale = math.log(abs(scale))
        self.offset = float(shift)
        if learnable:
            self.log_scale = nn.Parameter(torch.tensor(self.log_abs_scale))
            self.shift = nn.Parameter(torch.tensor(self.offset))

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.learnable:
            z = self.sign * torch.exp(self.log_scale) * x + self.shift
            return z, self.log_scale.expand_as(x)
        return x * self.scale + self.offset, torch.full_like(x, self.log_abs_scale)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        if self.learnable:
            return (z - self.shift) * torch.exp(-self.log_scale) * self.sign
        return (z - self.offset) / self.scale

    def affine(self, x: torch.Tensor) -> tuple[torch.Tensor | float, ...]:
        """``(scale, shift, log|det| per sample)`` of ``z = scale * x + shift`` for inputs
        shaped like ``x`` (Python floats when fixed): what optimized code composes
        adjacent affine maps from."""
        elements = x[0].numel()
        if self.learnable:
            return self.sign * torch.exp(self.log_scale), self.shift, self.log_scale * elements
        return self.scale, self.offset, self.log_abs_scale * elements


class LeakyReLU(Elementwise):
    """``z = x`` for ``x >= 0`` and ``negative_slope * x`` below."""

    fn = "leaky_relu"

    def __init__(self, negative_slope: float):
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.log_slope = math.log(self.negative_slope)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        positive = x >= 0
        z = torch.where(positive, x, x * self.negative_slope)
        log_slope = torch.full_like(x, self.log_slope)
        return z, torch.where(positive, torch.zeros_like(x), log_slope)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.where(z >= 0, z, z / self.negative_slope)


class Sigmoid(Elementwise):
    """``z = 1 / (1 + exp(-x))``, real -> (0, 1).

    ``log sigmoid'(x) = -softplus(-x) - softplus(x)``, stable for large ``|x|``."""

    fn = "sigmoid"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.sigmoid(x), -F.softplus(-x) - F.softplus(x)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.logit(z)


class Logit(Elementwise):
    """``z = logit(alpha + (1 - 2 alpha) x)``, [0, 1] -> real (RealNVP, Sec. 4.1).

    With ``u = alpha + (1 - 2 alpha) x``, ``dz/dx = (1 - 2 alpha) / (u (1 - u))`` and
    ``-log u = softplus(-z)``, ``-log(1 - u) = softplus(z)``.
    """

    fn = "logit"

    def __init__(self, alpha: float = 0.0):
        super().__init__()
        self.alpha = float(alpha)
        self.width = 1.0 - 2.0 * self.alpha
        self.log_width = math.log(self.width)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = self.alpha + self.width * x
        z = torch.log(u) - torch.log1p(-u)
        return z, self.log_width + F.softplus(-z) + F.softplus(z)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(z) - self.alpha) / self.width


class Tanh(Elementwise):
    """``z = tanh(x)``, real -> (-1, 1); ``log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))``."""

    fn = "tanh"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.tanh(x), 2.0 * (LOG2 - x - F.softplus(-2.0 * x))

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.atanh(z)


class Exp(Elementwise):
    """``z = exp(x)``, real -> (0, inf); ``log exp'(x) = x``."""

    fn = "exp"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.exp(x), x

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.log(z)


class Log(Elementwise):
    """``z = log(x)``, (0, inf) -> real; ``log log'(x) = -log x = -z``."""

    fn = "log"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.log(x)
        return z, -z

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.exp(z)


class Softplus(Elementwise):
    """``z = log(1 + exp(x))``, real -> (0, inf); ``log softplus'(x) = -softplus(-x)``."""

    fn = "softplus"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.softplus(x), -F.softplus(-x)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        # x = log(exp(z) - 1) = z + log(1 - exp(-z))
        return z + torch.log(-torch.expm1(-z))

"""Torch side of :mod:`flowspec.transformers.scale_shift`."""

from __future__ import annotations

import math

import torch
from torch import nn

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["ScaleShiftTransformer"]


class ScaleShiftTransformer(LinearTransformer):
    """``z = scale * x + shift``; when learnable, ``scale = sign * exp(log_scale)`` and both
    are parameters of this module (no parameters per feature either way).

    The fixed map keeps its constants as Python floats (float64) rather than float32
    buffers: they enter the computation in the input's dtype, so after ``.double()`` the
    map and its log-det are exact to float64 (``0.1 * x + 0.3`` is 0.4 at x = 1, and the
    log-det is ``log 0.1``), and bounded data stays inside its bounds."""

    takes_params = False

    def __init__(self, scale: float, shift: float, learnable: bool = False) -> None:
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

    def scale_shift(self, params: torch.Tensor | None = None) -> tuple[torch.Tensor | float, ...]:
        if self.learnable:
            return self.sign * torch.exp(self.log_scale), self.shift, self.log_scale
        return self.scale, self.offset, self.log_abs_scale

"""The torch modules of standard normal base distribution (spec, shape rule and formulas:
:mod:`flowspec.nodes.standard_normal`)."""

from __future__ import annotations

import math

import torch

from flowspec.core.layer import DistributionLayer
from flowspec.layers.densities.gaussian import LOG_SQRT_2PI

__all__ = ["StandardNormal"]


class StandardNormal(DistributionLayer):
    """N(0, I) over the event; the ``anchor`` buffer gives samples their device and dtype."""

    anchor: torch.Tensor

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("anchor", torch.zeros(()), persistent=False)
        self.event_dims = tuple(range(1, len(self.shape) + 1))
        #: log of the normaliser's inverse, a Python number: torch.compile folds it into the
        #: graph (a 0-dim buffer made dynamo trace it as a symbolic float and restart).
        self.log_normalizer = -LOG_SQRT_2PI * math.prod(self.shape)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return (z * z).sum(self.event_dims).mul(-0.5).add(self.log_normalizer)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        anchor: torch.Tensor = self._buffers["anchor"]  # type: ignore[assignment]  # registered
        return torch.randn(n, *self.shape, device=anchor.device, dtype=anchor.dtype)

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
        # log of the normaliser's inverse as a 0-dim float64 tensor (not saved): one op
        # adds it to the scaled sum of squares, where Python numbers would each be wrapped
        # in a tensor first (each costing about an op's dispatch on small models); float64
        # keeps it exact after .double() and computes in the input's dtype otherwise.
        log_normalizer = torch.tensor(-LOG_SQRT_2PI * math.prod(self.shape), dtype=torch.float64)
        self.register_buffer("log_normalizer", log_normalizer, persistent=False)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        # Buffers are read from _buffers: ``self.anchor`` finds them only after a failed
        # lookup (on CPython 3.11 that builds an AttributeError, as costly as a tensor op).
        normalizer: torch.Tensor = self._buffers["log_normalizer"]  # type: ignore[assignment]  # registered
        return torch.add(normalizer, (z * z).sum(self.event_dims), alpha=-0.5)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        anchor: torch.Tensor = self._buffers["anchor"]  # type: ignore[assignment]  # registered
        return torch.randn(n, *self.shape, device=anchor.device, dtype=anchor.dtype)

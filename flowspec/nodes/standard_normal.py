"""Standard normal base distribution, the usual terminal node of a flow.

``p(z) = N(z; 0, I)`` over the whole event, with no parameters: the base density that
normalizing flows push through their layers (Rezende and Mohamed 2015, "Variational
Inference with Normalizing Flows", arXiv:1505.05770; Dinh et al. 2014, NICE,
arXiv:1410.8516).

Example::

    prior: {kind: standard_normal, in: body}
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from flowspec.core.layer import DistributionLayer
from flowspec.core.ports import PortInfo
from flowspec.nodes._conditional import LOG_SQRT_2PI
from flowspec.nodes._distribution import UnconditionalDistributionSpec

__all__ = ["StandardNormalSpec", "StandardNormal"]


class StandardNormalSpec(UnconditionalDistributionSpec):
    """Standard normal N(0, I) over the whole event shape."""

    kind: Literal["standard_normal"] = "standard_normal"
    summary = "standard normal base distribution N(0, I)"
    reference = (
        "Rezende and Mohamed 2015, Variational Inference with Normalizing Flows, "
        "arXiv:1505.05770"
    )
    contribution = "log N(z; 0, I)"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> StandardNormal:
        return StandardNormal(inputs[0].shape)


class StandardNormal(DistributionLayer):
    """N(0, I) over the event; the ``anchor`` buffer gives samples their device and dtype."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("anchor", torch.zeros(()), persistent=False)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return -0.5 * z.pow(2).flatten(1).sum(1) - LOG_SQRT_2PI * math.prod(self.shape)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.randn(n, *self.shape, device=self.anchor.device, dtype=self.anchor.dtype)

"""Standard normal base distribution, the usual terminal node of a flow.

Example::

    prior: {kind: standard_normal, in: body}
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from flowspec.core.node import DistributionLayer, NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_real_valued

__all__ = ["StandardNormalSpec", "StandardNormal"]

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)



class StandardNormalSpec(NodeSpec):
    """Standard normal N(0, I) over the whole event shape."""

    kind: Literal["standard_normal"] = "standard_normal"
    summary = "standard normal base distribution N(0, I)"
    contribution = "log N(z; 0, I)"
    terminal = True

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...]:
        check_real_valued(inputs[0], check)
        return ()

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> StandardNormal:
        return StandardNormal(inputs[0].shape)


class StandardNormal(DistributionLayer):
    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("anchor", torch.zeros(()), persistent=False)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return -0.5 * z.pow(2).flatten(1).sum(1) - LOG_SQRT_2PI * z[0].numel()

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.randn(n, *self.shape, device=self.anchor.device, dtype=self.anchor.dtype)

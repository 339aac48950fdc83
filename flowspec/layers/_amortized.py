"""Raw parameters global or per example: ``theta + net(c)`` (spec: ``flowspec.nodes._amortized``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["per_example"]


def per_example(
    parameters: Sequence[torch.Tensor], net: nn.Module | None, context: torch.Tensor | None
) -> list[torch.Tensor]:
    """Each of ``parameters`` with a leading batch axis: of size 1 (the global values) when
    ``net`` is None, else one row per context row, the global values plus the network's
    offsets (its outputs split in the order and shapes of ``parameters``)."""
    if net is None:
        return [p.unsqueeze(0) for p in parameters]
    if context is None:
        raise ValueError("this layer is amortized: it needs a context tensor")
    offsets = net(context.flatten(1))
    sizes = [math.prod(p.shape) for p in parameters]
    return [
        p + offset.reshape(-1, *p.shape)
        for p, offset in zip(parameters, offsets.split(sizes, dim=1), strict=True)
    ]

"""The ordered-to-real map's torch module (spec and maths: ``flowspec.nodes.ordered_to_real``)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["OrderedToReal"]


class OrderedToReal(FlowLayer):
    """Sorted ``[N]`` (or rows of ``[N, d]`` sorted by coordinate ``by``) -> the first value
    and the logs of the gaps; contribution ``-sum log gaps``."""

    def __init__(self, by: int) -> None:
        super().__init__()
        self.by = by

    def _key(self, x: torch.Tensor) -> torch.Tensor:
        """The sorted coordinate, ``(batch, N)``."""
        return x if x.dim() == 2 else x[..., self.by]

    def _replace(self, x: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """``x`` with its sorted coordinate replaced by ``key``."""
        if x.dim() == 2:
            return key
        return torch.cat([x[..., : self.by], key.unsqueeze(-1), x[..., self.by + 1 :]], dim=-1)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        key = self._key(x)
        gaps = (key[:, 1:] - key[:, :-1]).clamp_min(torch.finfo(x.dtype).tiny)
        log_gaps = gaps.log()
        return self._replace(x, torch.cat([key[:, :1], log_gaps], dim=1)), -log_gaps.sum(1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        key = self._key(z)
        first = key[:, :1]
        return self._replace(z, torch.cat([first, first + key[:, 1:].exp().cumsum(1)], dim=1))

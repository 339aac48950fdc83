"""The max-pool surjection's torch module (spec and maths: ``flowspec.nodes.max_pool``)."""

from __future__ import annotations

import math

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["MaxPool"]


class MaxPool(FlowLayer):
    """Window maxima of ``[C, H, W]``; the decoder models the log-gaps of the other values."""

    def __init__(self, size: int, decoder: Density) -> None:
        super().__init__()
        self.size = size
        self.window = size * size
        self.decoder = decoder

    def _windows(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, C, H/s, W/s, s*s)``, each window's values in row-major order."""
        b, c, h, w = x.shape
        s = self.size
        return (
            x.reshape(b, c, h // s, s, w // s, s)
            .permute(0, 1, 2, 4, 3, 5)
            .reshape(b, c, h // s, w // s, s * s)
        )

    def _image(self, windows: torch.Tensor) -> torch.Tensor:
        b, c, hs, ws, _ = windows.shape
        s = self.size
        return (
            windows.reshape(b, c, hs, ws, s, s)
            .permute(0, 1, 2, 4, 3, 5)
            .reshape(b, c, hs * s, ws * s)
        )

    def _others(self, position: torch.Tensor) -> torch.Tensor:
        """The indices of the non-maximal entries of each window, in position order."""
        rest = torch.arange(self.window - 1, device=position.device)
        return rest + (rest >= position).to(rest.dtype)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        windows = self._windows(x)
        top, position = windows.max(dim=-1, keepdim=True)
        gaps = top - windows.gather(-1, self._others(position))
        # Ties have probability zero but happen in floating point: floor the gaps at eps.
        log_gaps = torch.log(gaps.clamp_min(torch.finfo(x.dtype).eps)).flatten(1)
        z = top.squeeze(-1)
        flat = z.flatten(1)
        log_p = self.decoder.log_prob(log_gaps, flat) - log_gaps.sum(1)
        return z, log_p - flat.shape[1] * math.log(self.window)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        top = z.unsqueeze(-1)
        position = torch.randint(0, self.window, top.shape, device=z.device)
        gaps = torch.exp(self.decoder.sample(z.flatten(1))).reshape(*z.shape, self.window - 1)
        windows = top.expand(*z.shape, self.window).clone()
        windows = windows.scatter(-1, self._others(position), top - gaps)
        return self._image(windows)

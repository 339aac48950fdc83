"""The torch module of squeeze and unsqueeze (spec, shape rule and formulas:
:mod:`flowspec.nodes.squeeze`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["Squeeze", "space_to_depth", "depth_to_space"]


def space_to_depth(x: torch.Tensor, factor: int) -> torch.Tensor:
    """``(B, C, H, W) -> (B, C f^2, H/f, W/f)``; channel ``c f^2 + i f + j`` holds pixel
    ``(h f + i, w f + j)`` of channel ``c``."""
    b, c, h, w = x.shape
    blocks = x.reshape(b, c, h // factor, factor, w // factor, factor)
    moved = blocks.permute(0, 1, 3, 5, 2, 4)
    return moved.reshape(b, c * factor * factor, h // factor, w // factor)


def depth_to_space(z: torch.Tensor, factor: int) -> torch.Tensor:
    """The inverse of :func:`space_to_depth`."""
    b, c, h, w = z.shape
    blocks = z.reshape(b, c // (factor * factor), factor, factor, h, w)
    moved = blocks.permute(0, 1, 4, 2, 5, 3)
    return moved.reshape(b, c // (factor * factor), h * factor, w * factor)


class Squeeze(FlowLayer):
    """Space-to-depth in inference (depth-to-space when ``inverted``); zero contribution."""

    def __init__(self, factor: int = 2, inverted: bool = False) -> None:
        super().__init__()
        self.factor = factor
        self.inverted = inverted

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        move = depth_to_space if self.inverted else space_to_depth
        return move(x, self.factor), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        move = space_to_depth if self.inverted else depth_to_space
        return move(z, self.factor)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, inverted={self.inverted}"

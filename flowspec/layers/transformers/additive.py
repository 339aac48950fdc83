"""Torch side of :mod:`flowspec.transformers.additive`."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["AdditiveTransformer"]


class AdditiveTransformer(LinearTransformer):
    """``z = x + t``; params ``(t,)``."""

    def scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor | float, ...]:
        return 1.0, params[..., 0], 0.0

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_parts(x, params.unbind(-1))

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return self.inverse_parts(z, params.unbind(-1))

    def forward_parts(
        self, x: torch.Tensor, params: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`forward` with the parameters as separate tensors ``(t,)``."""
        return x + params[0], torch.zeros_like(x)

    def inverse_parts(self, z: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
        """:meth:`inverse` with the parameters as separate tensors ``(t,)``."""
        return z - params[0]

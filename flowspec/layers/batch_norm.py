"""The torch module of ``batch_norm`` (spec, shape rule and formulas:
:mod:`flowspec.nodes.batch_norm`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["BatchNorm"]


class BatchNorm(FlowLayer):
    """``z = (x - mean) / sqrt(var + eps)`` per feature (tensor dim 1): the batch's
    statistics in training mode (updating the running ones), the running ones otherwise."""

    running_mean: torch.Tensor
    running_var: torch.Tensor

    def __init__(
        self, features: int, rank: int, positions: int, eps: float = 1e-5, momentum: float = 0.1
    ) -> None:
        super().__init__()
        self.features = features
        self.positions = positions
        self.eps = eps
        self.momentum = momentum
        self.broadcast = (1, features) + (1,) * (rank - 1)
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def _statistics(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and variance that map ``x``: the batch's (biased variance, pooled over
        the batch and the positions) in training mode, the running ones otherwise."""
        if not self.training:
            return self.running_mean, self.running_var
        dims = [0, *range(2, x.dim())]
        var, mean = torch.var_mean(x, dim=dims, correction=0)
        with torch.no_grad():
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(var.detach(), self.momentum)
        return mean, var

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mean, var = self._statistics(x)
        shifted = var + self.eps
        z = (x - mean.view(self.broadcast)) * shifted.rsqrt().view(self.broadcast)
        log_det = -0.5 * self.positions * shifted.log().sum()
        return z, log_det.expand(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        scale = (self.running_var + self.eps).sqrt().view(self.broadcast)
        return z * scale + self.running_mean.view(self.broadcast)

    def extra_repr(self) -> str:
        return f"features={self.features}, positions={self.positions}, eps={self.eps}"

"""The torch modules of LU-parameterised linear map (spec, shape rule and formulas:
:mod:`flowspec.nodes.lu_linear`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer

__all__ = ["LULinear", "random_orthogonal"]


def random_orthogonal(features: int, seed: int) -> torch.Tensor:
    """A Haar-random orthogonal matrix (float64), reproducible from the seed."""
    generator = torch.Generator().manual_seed(seed)
    gaussian = torch.randn(features, features, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    return q * torch.where(torch.diagonal(r) < 0, -1.0, 1.0)


class LULinear(FlowLayer):
    """``z = W x + b`` along tensor dim 1, ``W = P L (U + diag(sign_s * exp(log_s)))``.

    Only free numbers are parameters: ``lower`` holds the ``D (D - 1) / 2`` entries below
    the diagonal of ``L`` and ``upper`` those above the diagonal of ``U`` (in a fixed
    order), so the layer has ``D^2 + D`` parameters with the bias (Glow's count), not
    ``2 D^2``.
    """

    permutation: torch.Tensor
    sign_s: torch.Tensor
    below: torch.Tensor
    eye: torch.Tensor

    def __init__(
        self, features: int, rank: int, positions: int, seed: int = 0, bias: bool = True
    ) -> None:
        super().__init__()
        self.features = features
        self.positions = positions
        self.broadcast = (1, features) + (1,) * (rank - 1)
        permutation, lower, upper = torch.linalg.lu(random_orthogonal(features, seed))
        diagonal = torch.diagonal(upper)
        # P and the signs are fixed at initialisation: saved, since they follow the draw.
        self.register_buffer("permutation", permutation.float())
        self.register_buffer("sign_s", torch.sign(diagonal).float())
        below = torch.tril_indices(features, features, -1)
        self.register_buffer("below", below, persistent=False)
        self.register_buffer("eye", torch.eye(features), persistent=False)
        self.lower = nn.Parameter(lower[below[0], below[1]].float())
        self.upper = nn.Parameter(upper[below[1], below[0]].float())
        self.log_s = nn.Parameter(torch.log(diagonal.abs()).float())
        self.bias = nn.Parameter(torch.zeros(features)) if bias else None

    def _factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``L`` (unit lower) and ``U + diag(sign_s exp(log_s))`` (upper)."""
        rows, columns = self.below[0], self.below[1]
        lower = self.eye.index_put((rows, columns), self.lower)
        diagonal = torch.diag(self.sign_s * torch.exp(self.log_s))
        return lower, diagonal.index_put((columns, rows), self.upper)

    def weight(self) -> torch.Tensor:
        """The current weight matrix ``W = P L U``."""
        lower, upper = self._factors()
        return self.permutation @ lower @ upper

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.einsum("ij,bj...->bi...", self.weight(), x)
        if self.bias is not None:
            z = z + self.bias.view(self.broadcast)
        log_det = (self.log_s.sum() * self.positions) * x.new_ones(x.shape[0])
        return z, log_det

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if self.bias is not None:
            z = z - self.bias.view(self.broadcast)
        lower, upper = self._factors()
        # columns are the feature vectors of every sample and position: (D, B * positions)
        moved = z.movedim(1, 0)
        columns = self.permutation.T @ moved.reshape(self.features, -1)
        columns = torch.linalg.solve_triangular(lower, columns, upper=False, unitriangular=True)
        columns = torch.linalg.solve_triangular(upper, columns, upper=True)
        return columns.reshape(moved.shape).movedim(0, 1)

    def extra_repr(self) -> str:
        return f"features={self.features}, positions={self.positions}"

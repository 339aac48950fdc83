"""Invertible linear map of the feature axis with an LU parameterisation.

Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", NeurIPS 2018,
arXiv:1807.03039, Sec. 3.2 (LU-decomposed weight).

``W = P L (U + diag(sign_s * exp(log_s)))`` with ``P`` a fixed permutation, ``L`` unit
lower-triangular and ``U`` strictly upper-triangular, so ``log|det W| = sum(log_s)`` costs
O(D) and the inverse is two triangular solves. The weight starts as a random orthogonal
matrix (``|det W| = 1``) drawn from ``seed``.

Shapes: for a flat input ``[D]`` this is the dense map ``z = W x + b``. For ``[C, H, W]``
(any event shape) it mixes event axis 0 at every position, i.e. Glow's invertible 1x1
convolution, and the contribution is ``H * W * sum(log_s)``.

Example::

    {kind: lu_linear, seed: 1}
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.core.node import MAX_SEED, NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import learned_feature_map

__all__ = ["LULinearSpec", "LULinear", "random_orthogonal"]


class LULinearSpec(NodeSpec):
    """Invertible linear map of the features (or 1x1 convolution over channels), LU form."""

    kind: Literal["lu_linear"] = "lu_linear"
    seed: int = Field(
        default=0,
        ge=0,
        le=MAX_SEED,
        description="Seed of the random orthogonal initial weight (and so of P), "
        "0 .. 2^63 - 1. In a block use, repetition r uses seed + r.",
    )
    bias: bool = Field(default=True, description="Add a learned bias b: z = W x + b.")
    summary = "invertible linear map / 1x1 conv, W = P L (U + diag(s)), LU-parameterised"
    reference = (
        "Kingma and Dhariwal 2018, Glow: Generative Flow with Invertible 1x1 Convolutions, "
        "arXiv:1807.03039"
    )
    contribution = "positions * sum(log|s|)"

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        return learned_feature_map(inputs[0], self.kind, check)

    def for_repetition(self, repetition: int) -> LULinearSpec:
        return self.model_copy(update={"seed": (self.seed + repetition) % (MAX_SEED + 1)})

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> LULinear:
        shape = inputs[0].shape
        return LULinear(shape[0], len(shape), math.prod(shape[1:]), self.seed, self.bias)


def random_orthogonal(features: int, seed: int) -> torch.Tensor:
    """A Haar-random orthogonal matrix (float64), reproducible from the seed."""
    generator = torch.Generator().manual_seed(seed)
    gaussian = torch.randn(features, features, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    return q * torch.where(torch.diagonal(r) < 0, -1.0, 1.0)


class LULinear(FlowLayer):
    """``z = W x + b`` along tensor dim 1, ``W = P L (U + diag(sign_s * exp(log_s)))``."""

    def __init__(
        self, features: int, rank: int, positions: int, seed: int = 0, bias: bool = True
    ):
        super().__init__()
        self.features = features
        self.positions = positions
        self.broadcast = (1, features) + (1,) * (rank - 1)
        permutation, lower, upper = torch.linalg.lu(random_orthogonal(features, seed))
        diagonal = torch.diagonal(upper)
        # P and the signs are fixed at initialisation: saved, since they follow the draw.
        self.register_buffer("permutation", permutation.float())
        self.register_buffer("sign_s", torch.sign(diagonal).float())
        strictly_lower = torch.tril(torch.ones(features, features), -1)
        self.register_buffer("lower_mask", strictly_lower, persistent=False)
        self.register_buffer("eye", torch.eye(features), persistent=False)
        self.lower = nn.Parameter(torch.tril(lower, -1).float())
        self.upper = nn.Parameter(torch.triu(upper, 1).float())
        self.log_s = nn.Parameter(torch.log(diagonal.abs()).float())
        self.bias = nn.Parameter(torch.zeros(features)) if bias else None

    def _factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``L`` (unit lower) and ``U + diag(sign_s exp(log_s))`` (upper)."""
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_s))
        return lower, upper

    def weight(self) -> torch.Tensor:
        """The current weight matrix ``W = P L U``."""
        lower, upper = self._factors()
        return self.permutation @ lower @ upper

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
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

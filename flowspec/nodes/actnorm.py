"""Activation normalization (Glow's actnorm).

Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", NeurIPS 2018,
arXiv:1807.03039, Sec. 3.1.

Per feature ``c`` (event axis 0): ``z = (x + bias_c) * exp(log_scale_c)``, so
``log|det dz/dx| = positions * sum_c log_scale_c`` where ``positions`` is the number of
elements per feature (``H * W`` for ``[C, H, W]``, 1 for ``[D]``). With ``data_init`` the
first inference batch sets ``bias = -mean`` and ``log_scale = -log(std + eps)`` per
feature, so that batch comes out with zero mean and unit variance.

Example::

    {kind: actnorm}
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field, PositiveFloat
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import learned_feature_map

__all__ = ["ActNormSpec", "ActNorm"]


class ActNormSpec(NodeSpec):
    """Per-feature affine map with data-dependent initialisation (Glow actnorm)."""

    kind: Literal["actnorm"] = "actnorm"
    eps: PositiveFloat = Field(
        default=1e-6, description="Added to the batch std in the data-dependent initialisation."
    )
    data_init: bool = Field(
        default=True,
        description="Initialise bias and scale from the first inference batch so it comes "
        "out with zero mean and unit variance per feature; when false, start at the identity.",
    )
    summary = "Glow actnorm: per-feature z = (x + b) * exp(s), data-dependent init"
    reference = (
        "Kingma and Dhariwal 2018, Glow: Generative Flow with Invertible 1x1 Convolutions, "
        "arXiv:1807.03039"
    )
    contribution = "positions * sum(log_scale)"

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        return learned_feature_map(inputs[0], self.kind, check)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> ActNorm:
        shape = inputs[0].shape
        return ActNorm(shape[0], len(shape), math.prod(shape[1:]), self.eps, self.data_init)


class ActNorm(FlowLayer):
    """``z = (x + bias) * exp(log_scale)`` per feature (tensor dim 1).

    ``initialized`` is a persistent buffer, so a saved model does not re-initialise when
    loaded; the forward pass tests its plain-bool mirror ``is_initialized`` (kept in sync
    by :meth:`_load_from_state_dict`) rather than the tensor, so tracing sees a constant.
    Run one inference batch before wrapping the layer in ``torch.func`` transforms or
    ``torch.compile``, since the initialisation writes to the parameters.
    """

    def __init__(
        self, features: int, rank: int, positions: int, eps: float = 1e-6, data_init: bool = True
    ):
        super().__init__()
        self.features = features
        self.positions = positions
        self.eps = eps
        self.broadcast = (1, features) + (1,) * (rank - 1)
        self.bias = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))
        self.register_buffer("initialized", torch.tensor(not data_init))
        self.is_initialized = not data_init

    @torch.no_grad()
    def initialize_(self, x: torch.Tensor) -> None:
        """Set bias and scale so that ``x`` comes out with zero mean, unit variance per
        feature. With a single value per feature the std is undefined: only centre."""
        x = x.detach()
        dims = [0, *range(2, x.dim())]
        self.bias.copy_(-x.mean(dim=dims))
        if x.numel() // self.features > 1:
            std = x.std(dim=dims, correction=0)
            self.log_scale.copy_(-torch.log(std + self.eps))
        self.initialized.fill_(True)
        self.is_initialized = True

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        self.is_initialized = bool(self.initialized)

    def _log_det(self, x: torch.Tensor) -> torch.Tensor:
        return (self.log_scale.sum() * self.positions) * x.new_ones(x.shape[0])

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        if not self.is_initialized:
            self.initialize_(x)
        scale = torch.exp(self.log_scale).view(self.broadcast)
        z = (x + self.bias.view(self.broadcast)) * scale
        return z, self._log_det(x)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        scale = torch.exp(-self.log_scale).view(self.broadcast)
        return z * scale - self.bias.view(self.broadcast)

    def extra_repr(self) -> str:
        return f"features={self.features}, positions={self.positions}, eps={self.eps}"
